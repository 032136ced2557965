package exec

import (
	"encoding/binary"
	"fmt"

	"github.com/weirstream/weir"
	wcodec "github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// rankFirstNFn is Rank without ORDER BY keys on an append-only input:
// LIMIT without ORDER BY (Flink's AppendOnlyFirstNFunction). Rows tie, so
// they rank by arrival: the first RankEnd rows of a partition are its top,
// and a later row never enters it. The state is one count per partition,
// the rows taken so far, so a row costs the same however large the limit
// (the top's rows would be read back for every row that arrives after the
// top is full).
//
// Snapshots of the Top-N layouts restore into it: a partition's count is
// the number of rows its restored top holds ("rank-top", or the
// retractable layout's "rank-index"), taken on its first row.
type rankFirstNFn struct {
	spec  RankSpec
	count state.Value[int64]
	slab  row.Slab // fields of emitted rows with their row number

	// legacyTop and legacyIndex hold partitions of the Top-N layouts when
	// a restore brought some; nil otherwise (after checkLegacy).
	legacyTop   state.Value[rankTop]
	legacyIndex *rankIndexState
	checked     bool // checkLegacy ran
}

func newRankFirstNFn(spec RankSpec) *rankFirstNFn { return &rankFirstNFn{spec: spec} }

func (f *rankFirstNFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	ttl := joinStateTTL(f.spec.StateTTL)
	f.count = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "first-n-count", TTL: ttl})
	f.legacyTop = state.GetValue[string, rankTop](ctx.State(), state.Descriptor{Name: "rank-top", TTL: ttl})
	f.legacyIndex = openRankIndexState(ctx, ttl)
	return nil
}

// checkLegacy runs on the first row (restored state is in place only
// after Open): the Top-N states are never looked at again when a restore
// brought none.
func (f *rankFirstNFn) checkLegacy() error {
	f.checked = true
	top, err := hasKeys(f.legacyTop)
	if err != nil {
		return err
	}
	if !top {
		f.legacyTop = nil
	}
	f.legacyIndex, err = f.legacyIndex.ifRestored()
	return err
}

// migrate returns the current partition's count of rows taken from the
// Top-N layouts, and clears them there.
func (f *rankFirstNFn) migrate() (int64, error) {
	var n int64
	if f.legacyTop != nil {
		if t, ok := f.legacyTop.Value(); ok {
			c, err := t.count()
			if err != nil {
				return 0, err
			}
			n += c
			f.legacyTop.Clear()
		}
	}
	if f.legacyIndex != nil {
		if idx, ok := f.legacyIndex.index.Value(); ok {
			for _, e := range idx {
				n += e.N
				f.legacyIndex.data.Remove(e.Key)
			}
			f.legacyIndex.index.Clear()
		}
	}
	// The retractable layout kept rows beyond the top too.
	return min(n, f.spec.RankEnd), nil
}

// count returns the number of rows in t, without decoding them.
func (t rankTop) count() (int64, error) {
	if t.ar != nil {
		return int64(len(t.ar.spans)), nil
	}
	if t.rows != nil || len(t.enc) == 0 {
		return int64(len(t.rows)), nil
	}
	n, k := binary.Uvarint(t.enc)
	if k <= 0 || n > uint64(len(t.enc)) {
		return 0, fmt.Errorf("sql/exec: rank: state: %w: top-n size", wcodec.ErrCorrupt)
	}
	return int64(n), nil
}

func (f *rankFirstNFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if err := f.spec.checkAppendOnlyRow(in); err != nil {
		return err
	}
	if !f.checked {
		if err := f.checkLegacy(); err != nil {
			return err
		}
	}
	n, ok := f.count.Value()
	if !ok && (f.legacyTop != nil || f.legacyIndex != nil) {
		m, err := f.migrate()
		if err != nil {
			return err
		}
		n = m
		if n > 0 {
			// Kept even if in is beyond the top.
			f.count.Update(n)
		}
	}
	if n >= f.spec.RankEnd {
		return nil
	}
	n++
	f.count.Update(n)
	if n < f.spec.RankStart {
		return nil
	}
	if !f.spec.OutputRankNumber {
		ctx.Collect(in.WithKind(row.Insert))
		return nil
	}
	fs := f.slab.Take(len(in.Fields)+1, outSlab)
	copy(fs, in.Fields)
	fs[len(in.Fields)] = row.Int(n)
	ctx.Collect(row.Row{Kind: row.Insert, Fields: fs})
	return nil
}
