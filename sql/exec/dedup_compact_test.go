package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
)

// dedupCompactSteps are rows of 8 keys with event times that tie (same
// millisecond, and same millisecond with other nanoseconds), go back, and
// are sometimes NULL, with a string payload.
func dedupCompactSteps(seed uint64) []step {
	rng := rand.New(rand.NewPCG(seed, 3))
	var steps []step
	ms := int64(1_700_000_000_000)
	for i := range 400 {
		ms += int64(rng.IntN(3)) - 1 // ties and steps back
		tv := row.Timestamp(ms, int32(rng.IntN(3))*1000)
		if rng.IntN(40) == 0 {
			tv = row.Null()
		}
		r := row.Of(row.Int(int64(rng.IntN(8))), row.Str(fmt.Sprintf("payload-%d", i)), tv)
		steps = append(steps, step{r: r, ts: ms})
	}
	return steps
}

// perKey groups the +I/+U/-D rows of a changelog by their key (column 0),
// in order, formatted; -U rows are left out.
func perKey(rows []row.Row, types []row.Type) map[int64][]string {
	m := map[int64][]string{}
	for _, r := range rows {
		if r.Kind == row.UpdateBefore {
			continue
		}
		k := r.Fields[0].Int()
		m[k] = append(m[k], r.Kind.String()+row.FormatRow(r, types))
	}
	return m
}

// TestDedupCompactSameRows: event-time deduplication that emits no -U
// keeps only each key's rowtime (dedup-time); it emits, key by key,
// the rows that the decoded form emits (less its -U rows), for keep-last
// and keep-first, across parallelism, backends and restores, and restoring
// the decoded form's snapshots (the rows move to rowtimes key by key). The
// other way round is refused (TestDedupRefusesRowtimeOnlyState).
func TestDedupCompactSameRows(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String(), row.TimestampType(6)}
	for _, keepLast := range []bool{true, false} {
		steps := dedupCompactSteps(11)
		decoded := DedupSpec{Types: types, Keys: []int{0}, KeepLast: keepLast, RowTime: true, TimeCol: 2,
			GenerateUpdateBefore: true, GenerateInsert: true}
		compact := decoded
		compact.GenerateUpdateBefore = false
		build := func(spec DedupSpec) func(weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			return func(s weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return Deduplicate(s, spec) }
		}
		want := perKey(runSteps(t, config{p: 1, backend: weir.StateHeap}, steps, build(decoded)), types)
		if len(want) != 8 {
			t.Fatalf("reference run: %d keys", len(want))
		}
		type run struct {
			name            string
			c               config
			first, restored DedupSpec
		}
		runs := []run{
			{"compact", config{p: 1, backend: weir.StateHeap}, compact, compact},
			{"compact-p4-pebble", config{p: 4, backend: weir.StatePebble}, compact, compact},
			{"decoded-then-compact", config{p: 2, backend: weir.StateHeap, then: &config{p: 3, backend: weir.StateHeap}}, decoded, compact},
			{"compact-heap-then-pebble", config{p: 3, backend: weir.StateHeap, then: &config{p: 1, backend: weir.StatePebble}}, compact, compact},
			{"compact-pebble-then-heap", config{p: 2, backend: weir.StatePebble, then: &config{p: 4, backend: weir.StateHeap}}, compact, compact},
		}
		for _, r := range runs {
			t.Run(fmt.Sprintf("last=%v/%s", keepLast, r.name), func(t *testing.T) {
				got := perKey(runStepsRebuilt(t, r.c, steps, build(r.first), build(r.restored)), types)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("rows per key (-decoded +got):\n%s", diff)
				}
			})
		}
	}
}

// TestDedupCompactRowState: a compact deduplication keeps only the
// rowtime of the kept row ("dedup-time", pointer-free), NULL included, and
// its encoding reads back; the layout before it (the string of the row's
// encoding, "dedup-row", which plans emitting -U still write) reads back
// as the row and its rowtime, for the move of restored keys.
func TestDedupCompactRowState(t *testing.T) {
	types := []row.Type{row.BigInt(), row.String(), row.TimestampType(9)}
	rc := row.NewCodec(types)
	for _, r := range []row.Row{
		row.Of(row.Int(42), row.Str("extra"), row.Timestamp(1700000000123, 456789)),
		row.Of(row.Int(-1), row.Null(), row.Timestamp(-5, 999999)),
		row.Of(row.Null(), row.Str(""), row.Null()),
	} {
		f := &dedupFn{spec: DedupSpec{Types: types, RowTime: true, TimeCol: 2, KeepLast: true}, codec: rc, compact: true}
		var kt keptTime
		f.lastT = valueRecorder[keptTime]{&kt}
		f.keep(r)
		kept, ok, err := f.kept()
		if err != nil || !ok || kept.fields != nil || kept.enc != "" || !kept.timeOnly {
			t.Fatalf("compact keep stored %+v (ok %v, err %v), want the rowtime only", kept, ok, err)
		}
		tv, err := f.keptTime(kept)
		if err != nil {
			t.Fatal(err)
		}
		if tv.IsNull() != r.Fields[2].IsNull() || !tv.IsNull() && row.Compare(tv, r.Fields[2], types[2]) != 0 {
			t.Fatalf("kept rowtime %v, want %v", tv, r.Fields[2])
		}
		enc := codec.Must[keptTime]().Append(nil, kt)
		back, n, err := codec.Must[keptTime]().Decode(enc)
		if err != nil || n != len(enc) || back != kt {
			t.Fatalf("keptTime %+v encoded %x decodes as %+v (%d of %d bytes, %v)", kt, enc, back, n, len(enc), err)
		}
		for i := range enc {
			if _, _, err := codec.Must[keptTime]().Decode(enc[:i]); err == nil {
				t.Fatalf("keptTime %x cut at %d decodes without error", enc, i)
			}
		}

		// The layout before: the string of the row's encoding.
		oldEnc := codec.Must[string]().Append(nil, string(rc.Append(nil, r)))
		if codec.Schema[keptRow]() != codec.Schema[dedupRow]() || codec.Schema[keptRow]() != codec.Schema[string]() {
			t.Fatalf("keptRow schema %q, dedupRow's %q", codec.Schema[keptRow](), codec.Schema[dedupRow]())
		}
		oldD, _, err := codec.Must[dedupRow]().Decode(oldEnc)
		if err != nil {
			t.Fatal(err)
		}
		oldC, n, err := codec.Must[keptRow]().Decode(oldEnc)
		if err != nil || n != len(oldEnc) {
			t.Fatalf("keptRow decode: %v (%d of %d bytes)", err, n, len(oldEnc))
		}
		for _, d := range []dedupRow{oldD, {enc: oldC.enc}} {
			got, err := f.load(d)
			if err != nil {
				t.Fatal(err)
			}
			if !row.EqualRows(got, r, types) {
				t.Fatalf("row %v, want %v", got, r)
			}
			tv, err := f.keptTime(d)
			if err != nil {
				t.Fatal(err)
			}
			if row.Compare(tv, r.Fields[2], types[2]) != 0 || tv.IsNull() != r.Fields[2].IsNull() {
				t.Fatalf("rowtime %v, want %v", tv, r.Fields[2])
			}
		}
	}
	if _, _, err := codec.Must[keptTime]().Decode([]byte{2}); err == nil {
		t.Fatal("keptTime flag 2 decodes without error")
	}
	if _, _, err := codec.Must[keptTime]().Decode([]byte{0, 0, 0xc0, 0x84, 0x3d}); err == nil {
		t.Fatal("keptTime with 1e6 nanoseconds decodes without error")
	}
}

// valueRecorder is a state.Value that holds one value in memory.
type valueRecorder[V any] struct{ v *V }

func (s valueRecorder[V]) Value() (V, bool) { return *s.v, true }
func (s valueRecorder[V]) Update(v V)       { *s.v = v }
func (s valueRecorder[V]) Clear()           { var zero V; *s.v = zero }
