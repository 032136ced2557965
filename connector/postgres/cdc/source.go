package cdc

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pglogrepl"

	"github.com/weirstream/weir"
)

// Source captures the changes of PostgreSQL tables: a snapshot of their
// rows, then their changes from a logical replication slot. Add it with
// weir.FromSource at parallelism 1 (SetParallelism(1)); the package
// documentation describes its guarantee.
type Source struct {
	opts Options
}

// NewSource returns a source with opts; options are checked when the job
// starts.
func NewSource(opts Options) *Source { return &Source{opts: opts} }

// CreateReader returns the reader. It does no I/O: a goroutine owned by
// the reader connects, snapshots and streams.
func (s *Source) CreateReader(ctx weir.SourceContext) (weir.SourceReader[Change], error) {
	o := s.opts
	if err := o.check(); err != nil {
		return nil, err
	}
	if ctx.Parallelism > 1 {
		return nil, fmt.Errorf("%w: the source reads one slot and runs at parallelism 1, not %d (SetParallelism(1))", ErrOptions, ctx.Parallelism)
	}
	if ctx.Logger != nil && s.opts.Logger == nil {
		o.Logger = ctx.Logger
	}
	m, err := newMetrics(o.Registry, o.Slot)
	if err != nil {
		return nil, err
	}
	tables := make([]string, len(o.Tables))
	for i, t := range o.Tables {
		schema, name, _ := splitTable(t)
		tables[i] = schema + "." + name
	}
	pos := position{Phase: phaseSnapshot, Tables: tables}
	if len(ctx.Restored) > 1 {
		return nil, fmt.Errorf("cdc: %d restored positions; want one", len(ctx.Restored))
	}
	restored := len(ctx.Restored) == 1
	if restored {
		pos, err = decodePosition(ctx.Restored[0])
		if err != nil {
			return nil, err
		}
		if !slices.Equal(pos.Tables, tables) {
			return nil, fmt.Errorf("%w: the restored checkpoint captured tables %v, not %v (changing the tables needs a fresh start)", ErrOptions, pos.Tables, tables)
		}
	}
	r := &reader{
		opts: o, m: m, pos: pos, time: ctx.Time,
		events: make(chan []event, 4),
		avail:  make(chan struct{}, 1),
		snaps:  map[int64]pglogrepl.LSN{},
	}
	c := &capture{opts: &r.opts, log: o.Logger, out: r.events, avail: r.avail, pos: pos, backoff: o.MinBackoff}
	c.pos.Tables = slices.Clone(pos.Tables)
	c.pos.Bounds = slices.Clone(pos.Bounds)
	if restored && pos.Phase == phaseStream {
		// The restored checkpoint completed: what it covers may be
		// confirmed.
		c.confirmed.Store(uint64(pos.Done))
	}
	r.capture = c
	gctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		c.run(gctx)
	}()
	return r, nil
}

// reader emits the capture goroutine's events and keeps the position of
// what it emitted, on the subtask's goroutine.
type reader struct {
	opts    Options
	m       *metrics
	capture *capture
	time    weir.ProcessingTimeService
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	events  chan []event
	avail   chan struct{}

	pos   position
	cur   []event
	idx   int
	snaps map[int64]pglogrepl.LSN
}

// Available signals that the capture goroutine handed over events.
func (r *reader) Available() <-chan struct{} { return r.avail }

// maxPerPoll bounds the events one Poll emits.
const maxPerPoll = 2048

// Poll emits the events handed over, up to maxPerPoll. It never blocks.
func (r *reader) Poll(_ context.Context, out *weir.SourceOutput[Change]) (weir.PollStatus, error) {
	n, rows := 0, 0
	defer func() {
		if n > 0 {
			r.m.events.Add(float64(n))
		}
		if rows > 0 {
			r.m.snapshotRows.Add(float64(rows))
		}
	}()
	for n < maxPerPoll {
		if r.idx >= len(r.cur) {
			select {
			case b := <-r.events:
				r.cur, r.idx = b, 0
				continue
			default:
			}
			break
		}
		ev := r.cur[r.idx]
		r.cur[r.idx] = event{} // the batch no longer holds the change
		r.idx++
		switch ev.kind {
		case evChange, evBad:
			if ev.key != nil {
				r.pos.Table, r.pos.LastKey = ev.table, ev.key
			} else {
				r.pos.PartCommit, r.pos.PartN = ev.lsn, ev.idx+1
			}
			if ev.kind == evBad {
				if err := weir.RejectFromSource(out, r.opts.ErrorPolicy, ev.dl); err != nil {
					return weir.NothingAvailable, fmt.Errorf("cdc: %w", err)
				}
				continue
			}
			n++
			if ev.key != nil {
				rows++
				out.Collect(ev.change)
			} else {
				out.CollectWithTimestamp(ev.change, ev.change.CommitTime.UnixMilli())
			}
		case evStart:
			r.pos.Start, r.pos.Done = ev.lsn, ev.lsn
		case evTable:
			r.pos.Table, r.pos.LastKey = ev.table, nil
		case evBoundary:
			r.pos.Bounds = append(r.pos.Bounds, ev.bound)
		case evSnapDone:
			r.pos.Phase = phaseStream
		case evCommit, evKeepalive:
			r.pos.Done, r.pos.PartCommit, r.pos.PartN = ev.end, 0, 0
			if ev.walEnd >= ev.end {
				r.m.lag.Set(float64(ev.walEnd - ev.end))
			}
		case evErr:
			return weir.NothingAvailable, ev.err
		}
	}
	if r.idx < len(r.cur) || len(r.events) > 0 {
		return weir.MoreAvailable, nil
	}
	return weir.NothingAvailable, nil
}

// SnapshotState stores the position of what was emitted.
func (r *reader) SnapshotState(id int64) ([][]byte, error) {
	p := r.pos
	if at := pglogrepl.LSN(r.capture.started.Load()); p.Start == 0 && at != 0 {
		// The slot was created, and evStart (with the events after it)
		// not polled yet: store what the reader holds once it is, which
		// with SkipSnapshot comes with evSnapDone in the same batch.
		p.Start, p.Done = at, at
		if r.opts.SkipSnapshot {
			p.Phase = phaseStream
		}
	}
	if p.Start != 0 {
		r.snaps[id] = p.Done
	}
	return [][]byte{p.encode()}, nil
}

// NotifyCheckpointComplete lets the slot's confirmed position advance to
// what checkpoint id covers: the status updates report it from now on, and
// the server may then recycle the WAL before it.
func (r *reader) NotifyCheckpointComplete(id int64) error {
	var best pglogrepl.LSN
	for c, lsn := range r.snaps {
		if c <= id {
			best = max(best, lsn)
			delete(r.snaps, c)
		}
	}
	if best > pglogrepl.LSN(r.capture.confirmed.Load()) {
		r.capture.confirmed.Store(uint64(best))
	}
	return nil
}

// Close stops the capture goroutine and its connections.
func (r *reader) Close() error {
	r.cancel()
	r.wg.Wait()
	return nil
}
