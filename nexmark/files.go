package nexmark

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// File names written by WriteFiles, one JSON object per line with the
// reference's column names (ddl_gen.sql).
const (
	PersonFile  = "person.jsonl"
	AuctionFile = "auction.jsonl"
	BidFile     = "bid.jsonl"
)

// Counts are numbers of events by type.
type Counts struct {
	Persons, Auctions, Bids int64
}

// WriteFiles generates cfg.Events events into dir (created if missing) as
// person.jsonl, auction.jsonl and bid.jsonl.
func WriteFiles(dir string, cfg Config) (c Counts, err error) {
	g, err := NewGenerator(cfg)
	if err != nil {
		return c, err
	}
	if cfg.Events <= 0 {
		return c, fmt.Errorf("%w: writing files needs a positive event count", ErrInvalidConfig)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return c, fmt.Errorf("nexmark: %w", err)
	}
	type out struct {
		f *os.File
		w *bufio.Writer
		e *json.Encoder
	}
	var outs [3]out
	defer func() {
		for _, o := range outs {
			if o.f == nil {
				continue
			}
			if ferr := o.w.Flush(); ferr != nil && err == nil {
				err = fmt.Errorf("nexmark: %w", ferr)
			}
			if cerr := o.f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("nexmark: %w", cerr)
			}
		}
	}()
	for i, name := range []string{PersonFile, AuctionFile, BidFile} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return c, fmt.Errorf("nexmark: %w", err)
		}
		w := bufio.NewWriterSize(f, 1<<16)
		e := json.NewEncoder(w)
		e.SetEscapeHTML(false)
		outs[i] = out{f: f, w: w, e: e}
	}
	for n := range cfg.Events {
		ev := g.Event(n)
		var err error
		switch ev.Type {
		case PersonEvent:
			c.Persons++
			err = outs[0].e.Encode(ev.Person)
		case AuctionEvent:
			c.Auctions++
			err = outs[1].e.Encode(ev.Auction)
		default:
			c.Bids++
			err = outs[2].e.Encode(ev.Bid)
		}
		if err != nil {
			return c, fmt.Errorf("nexmark: writing event %d: %w", n, err)
		}
	}
	return c, nil
}

// ReadFiles reads the files WriteFiles wrote in dir and returns their
// events ordered by dateTime (persons before auctions before bids at equal
// times, each file's order kept).
func ReadFiles(dir string) ([]Event, error) {
	var events []Event
	read := func(name string, add func(dec *json.Decoder) error) error {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("nexmark: %w", err)
		}
		defer f.Close()
		dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<16))
		dec.DisallowUnknownFields()
		for dec.More() {
			if err := add(dec); err != nil {
				return fmt.Errorf("nexmark: %s: %w", name, err)
			}
		}
		return nil
	}
	err := errors.Join(
		read(PersonFile, func(dec *json.Decoder) error {
			p := new(Person)
			if err := dec.Decode(p); err != nil {
				return err
			}
			events = append(events, Event{Type: PersonEvent, Person: p})
			return nil
		}),
		read(AuctionFile, func(dec *json.Decoder) error {
			a := new(Auction)
			if err := dec.Decode(a); err != nil {
				return err
			}
			events = append(events, Event{Type: AuctionEvent, Auction: a})
			return nil
		}),
		read(BidFile, func(dec *json.Decoder) error {
			b := new(Bid)
			if err := dec.Decode(b); err != nil {
				return err
			}
			events = append(events, Event{Type: BidEvent, Bid: b})
			return nil
		}))
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(events, func(a, b Event) int {
		if c := int64(a.Timestamp()) - int64(b.Timestamp()); c != 0 {
			if c < 0 {
				return -1
			}
			return 1
		}
		return int(a.Type) - int(b.Type)
	})
	return events, nil
}
