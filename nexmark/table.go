package nexmark

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// TableFactory is the SQL table connector 'nexmark' of the Nexmark
// benchmark's Flink queries: a table of generated events with the
// reference's schema (DDL in nexmark/sql/ddl.sql):
//
//	event_type INT, person ROW<...>, auction ROW<...>, bid ROW<...>
//
// Options (the nexmark project's names): events.num (0 or absent:
// unbounded), first-event.rate and next-event.rate (events per second of
// event time; both must be equal here), person.proportion,
// auction.proportion, bid.proportion; and seed (Weir's, default 0).
// The generator runs as fast as the job takes events: the rate sets the
// spacing of event timestamps, not a wall-clock throttle.
type TableFactory struct{}

// Identifier implements connector.Factory.
func (TableFactory) Identifier() string { return "nexmark" }

// RequiredOptions implements connector.Factory.
func (TableFactory) RequiredOptions() []string { return nil }

// OptionalOptions implements connector.Factory.
func (TableFactory) OptionalOptions() []string {
	return []string{"events.num", "first-event.rate", "next-event.rate", "person.proportion",
		"auction.proportion", "bid.proportion", "seed"}
}

// Schema returns the nexmark table's physical schema.
func Schema() row.Schema {
	s, ts := row.String(), row.TimestampType(3)
	return row.NewSchema(
		row.Col("event_type", row.IntType()),
		row.Col("person", row.RowType(row.Col("id", row.BigInt()), row.Col("name", s), row.Col("emailAddress", s),
			row.Col("creditCard", s), row.Col("city", s), row.Col("state", s), row.Col("dateTime", ts), row.Col("extra", s))),
		row.Col("auction", row.RowType(row.Col("id", row.BigInt()), row.Col("itemName", s), row.Col("description", s),
			row.Col("initialBid", row.BigInt()), row.Col("reserve", row.BigInt()), row.Col("dateTime", ts),
			row.Col("expires", ts), row.Col("seller", row.BigInt()), row.Col("category", row.BigInt()), row.Col("extra", s))),
		row.Col("bid", row.RowType(row.Col("auction", row.BigInt()), row.Col("bidder", row.BigInt()), row.Col("price", row.BigInt()),
			row.Col("channel", s), row.Col("url", s), row.Col("dateTime", ts), row.Col("extra", s))),
	)
}

// sameShape reports whether a declared type has the shape of the generated
// one: the same roots, and ROW fields of the same names (string lengths and
// nullability may differ).
func sameShape(got, want row.Type) bool {
	if got.Root != want.Root && !(got.IsString() && want.IsString()) {
		return false
	}
	if got.Root != row.TypeRow {
		return true
	}
	if len(got.Fields) != len(want.Fields) {
		return false
	}
	for i := range got.Fields {
		if got.Fields[i].Name != want.Fields[i].Name || !sameShape(got.Fields[i].Type, want.Fields[i].Type) {
			return false
		}
	}
	return true
}

// CreateSource implements connector.SourceFactory.
func (f TableFactory) CreateSource(ctx connector.Context) (connector.Source, error) {
	allowed := map[string]bool{"connector": true}
	for _, k := range f.OptionalOptions() {
		allowed[k] = true
	}
	var bad []string
	for k := range ctx.Options {
		if !allowed[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		opts := f.OptionalOptions()
		sort.Strings(opts)
		return nil, fmt.Errorf("nexmark: table %s: Unsupported options found for 'nexmark'.\n\nUnsupported options:\n\n%s\n\nSupported options:\n\n%s",
			ctx.Table, strings.Join(bad, "\n"), strings.Join(append([]string{"connector"}, opts...), "\n"))
	}
	want := Schema()
	if len(ctx.Schema.Columns) != len(want.Columns) {
		return nil, fmt.Errorf("nexmark: table %s: the physical columns must be %s", ctx.Table, want)
	}
	for i, c := range ctx.Schema.Columns {
		if c.Name != want.Columns[i].Name || !sameShape(c.Type, want.Columns[i].Type) {
			return nil, fmt.Errorf("nexmark: table %s: column %d is %s %s; the physical columns must be %s", ctx.Table, i+1, c.Name, c.Type, want)
		}
	}
	if len(ctx.Metadata) > 0 {
		return nil, fmt.Errorf("nexmark: table %s: the nexmark connector has no metadata columns", ctx.Table)
	}
	num := func(k string, def int64) (int64, error) {
		v, ok := ctx.Options[k]
		if !ok {
			return def, nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("nexmark: table %s: Invalid value for option '%s': %q (want a non-negative integer)", ctx.Table, k, v)
		}
		return n, nil
	}
	cfg := DefaultConfig(0, 0)
	var err error
	if cfg.Events, err = num("events.num", 0); err != nil {
		return nil, err
	}
	seed, err := num("seed", 0)
	if err != nil {
		return nil, err
	}
	cfg.Seed = uint64(seed)
	rate, err := num("first-event.rate", int64(cfg.Rate))
	if err != nil {
		return nil, err
	}
	next, err := num("next-event.rate", rate)
	if err != nil {
		return nil, err
	}
	if next != rate || rate == 0 {
		return nil, fmt.Errorf("nexmark: table %s: 'next-event.rate' must equal 'first-event.rate' and be positive (Weir generates at one rate)", ctx.Table)
	}
	cfg.Rate = float64(rate)
	for k, p := range map[string]*int{"person.proportion": &cfg.PersonProportion, "auction.proportion": &cfg.AuctionProportion, "bid.proportion": &cfg.BidProportion} {
		n, err := num(k, int64(*p))
		if err != nil {
			return nil, err
		}
		*p = int(n)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("nexmark: table %s: %w", ctx.Table, err)
	}
	return &tableSource{cfg: cfg}, nil
}

type tableSource struct {
	cfg Config
	// paths is the pushed-down projection (ApplyNestedProjection), or nil.
	paths [][]int
	// spare is the capacity asked by ReserveFields for the projected
	// rows' fields (0: none).
	spare int
}

// ReserveFields implements connector.SpareFields for the projected rows:
// their Fields get a capacity of n, the fields past the projection NULL.
func (s *tableSource) ReserveFields(n int) bool {
	if s.paths == nil {
		return false
	}
	s.spare = n
	return true
}

func (s *tableSource) ChangelogMode() connector.ChangelogMode { return connector.InsertOnly }

func (s *tableSource) Bounded() bool { return s.cfg.Events > 0 }

func (s *tableSource) Produce(b connector.BuildContext) (weir.Stream[row.Row], error) {
	cfg, paths, spare := s.cfg, s.paths, s.spare
	src := datagen.NewFactory(func(int, *rand.Rand) func(int64) row.Row {
		g, err := NewGenerator(cfg)
		if err != nil {
			return nil
		}
		// The rows copy the values out of the event's record, so one
		// record per type is reused (Generator.eventInto).
		recs := new(eventRecords)
		if paths != nil {
			a := newProjectArena(paths)
			a.width = max(len(paths), spare)
			want := a.reads()
			return func(n int64) row.Row { return a.row(g.eventInto(n, recs, &want)) }
		}
		var a eventArena
		all := [3]bool{true, true, true}
		return func(n int64) row.Row { return a.row(g.eventInto(n, recs, &all)) }
	}, datagen.Options{Count: cfg.Events, Seed: cfg.Seed, Timestamp: cfg.Timestamp})
	name := "nexmark"
	if b.Prefix != "" {
		name = b.Prefix + "-source"
	}
	return weir.FromSource(b.Env, src, b.Watermarks, name).UID(name), nil
}

// EventRow converts an event to a row of the nexmark table's schema.
func EventRow(e Event) row.Row {
	var a eventArena
	return a.row(e)
}

// eventArenaValues is the number of values an eventArena allocates at
// once (room for 128 rows of a bid).
const eventArenaValues = 128 * (4 + 7)

// eventArena carves the values of event rows from slabs it never reuses
// (the job may keep the rows): one allocation per slab instead of two per
// row. The nested ROW value still allocates its boxed slice.
type eventArena struct{ slab row.Slab }

func (a *eventArena) take(n int) []row.Value {
	return a.slab.Take(n, eventArenaValues/max(n, 1))
}

func (a *eventArena) row(e Event) row.Row {
	var buf [maxEventFields]row.Value
	col, k := eventFields(e, &buf)
	if col < 0 {
		f := a.take(4)
		f[0] = row.Int(int64(e.Type))
		return row.Row{Fields: f}
	}
	v := a.take(4 + k)
	f, n := v[:4:4], v[4:]
	f[0] = row.Int(int64(e.Type))
	copy(n, buf[:k])
	f[col] = row.Nested(n)
	return row.Row{Fields: f}
}

// maxEventFields is the number of fields of the widest nested ROW (auction).
const maxEventFields = 10

// eventFields writes the fields of e's nested ROW (person, auction or bid)
// to buf and returns its column in the table (1, 2 or 3) and its number of
// fields; col is -1 for an event of none of the three.
func eventFields(e Event, buf *[maxEventFields]row.Value) (col, k int) {
	n := buf
	switch {
	case e.Person != nil:
		p := e.Person
		n[0], n[1], n[2], n[3] = row.Int(p.ID), row.Str(p.Name), row.Str(p.EmailAddress), row.Str(p.CreditCard)
		n[4], n[5], n[6], n[7] = row.Str(p.City), row.Str(p.State), row.Timestamp(int64(p.DateTime), 0), row.Str(p.Extra)
		return 1, 8
	case e.Auction != nil:
		x := e.Auction
		n[0], n[1], n[2], n[3], n[4] = row.Int(x.ID), row.Str(x.ItemName), row.Str(x.Description), row.Int(x.InitialBid), row.Int(x.Reserve)
		n[5], n[6] = row.Timestamp(int64(x.DateTime), 0), row.Timestamp(int64(x.Expires), 0)
		n[7], n[8], n[9] = row.Int(x.Seller), row.Int(x.Category), row.Str(x.Extra)
		return 2, 10
	case e.Bid != nil:
		x := e.Bid
		n[0], n[1], n[2], n[3] = row.Int(x.Auction), row.Int(x.Bidder), row.Int(x.Price), row.Str(x.Channel)
		n[4], n[5], n[6] = row.Str(x.URL), row.Timestamp(int64(x.DateTime), 0), row.Str(x.Extra)
		return 3, 7
	}
	return -1, 0
}
