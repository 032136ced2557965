package exec

import (
	"unsafe"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// process is ProcessElement of a GroupAggregate without user-defined
// calls, once the group's accumulators are loaded (first: the group had
// no state). It gives the same changelog as the general path, which
// computes every call's result before and after the row, with fewer
// result computations:
//
//   - a call the row does not reach (its FILTER fails, or a skipped
//     argument is NULL) keeps its accumulator, so its result before the
//     row is its result after it;
//   - the results before the row are needed in full only for a -U row
//     (GenerateUpdateBefore) or a -D row (the group's last row is
//     retracted, known before the row is applied from the row count);
//     otherwise they only tell whether the row changed the result (to
//     skip an unchanged update, without state TTL), and that is decided
//     by the first reached call whose result moved;
//   - the results after the row are computed only for a row that is
//     emitted, into the output row's fields directly.
//
// The built-in accumulators' results are pure functions of their state
// (user-defined ones may fail or not be, which is why they take the
// general path).
func (f *groupAggFn) process(ctx *weir.KeyedContext[string, row.Row], in row.Row, retract, first bool) error {
	s := f.set
	if retract {
		s.rows--
	} else {
		s.rows++
	}
	full := !first && (f.spec.GenerateUpdateBefore || s.rows == 0)
	changed := first || f.spec.StateTTL > 0
	if full {
		f.prev = append(f.prev[:0], make([]row.Value, len(s.calls))...)
		f.reached = append(f.reached[:0], make([]bool, len(s.calls))...)
	}
	for i, k := range s.calls {
		if !k.reaches(in) {
			continue
		}
		if !full && changed {
			k.feed(retract)
			continue
		}
		p := k.acc.value()
		if full {
			f.prev[i], f.reached[i] = p, true
		}
		k.feed(retract)
		if !changed {
			changed = !equalValue(p, k.acc.value(), k.res)
		}
	}
	if f.shared != nil {
		f.shared.flush()
	}
	if s.rows == 0 {
		// The group is empty: its row is deleted and its state dropped.
		f.fillPrev()
		ctx.Collect(f.output(row.Delete, in, f.prev))
		if f.cached {
			f.cacheDropped(ctx.Key())
		}
		f.drop()
		return nil
	}
	if !f.cached && f.vals == nil {
		// With the cache the group's slot is marked changed instead, and
		// written when it leaves the cache or on a flush; in
		// "group-value" the accumulators are changed in place.
		enc := s.encode()
		f.acc.Update(enc)
		f.loaded = enc
	}
	if !changed {
		return nil
	}
	if first {
		ctx.Collect(f.result(row.Insert, in))
		return nil
	}
	if f.spec.GenerateUpdateBefore {
		f.fillPrev()
		ctx.Collect(f.output(row.UpdateBefore, in, f.prev))
	}
	ctx.Collect(f.result(row.UpdateAfter, in))
	return nil
}

// fillPrev completes f.prev with the results of the calls the row did not
// reach (unchanged by it).
func (f *groupAggFn) fillPrev() {
	for i, k := range f.set.calls {
		if !f.reached[i] {
			f.prev[i] = k.acc.value()
		}
	}
}

// result builds the output row of the current results: the group keys
// then each call's result, computed into the row's fields.
func (f *groupAggFn) result(k row.Kind, in row.Row) row.Row {
	fields := f.fields(len(f.spec.GroupKeys) + len(f.set.calls))
	for _, i := range f.spec.GroupKeys {
		fields = append(fields, in.Fields[i])
	}
	for _, c := range f.set.calls {
		fields = append(fields, c.acc.value())
	}
	return row.Row{Kind: k, Fields: fields}
}

// equalValue reports whether two results of type t are the same (NULLs
// equal each other).
func equalValue(a, b row.Value, t row.Type) bool {
	if a.IsNull() || b.IsNull() {
		return a.IsNull() == b.IsNull()
	}
	return row.Equal(a, b, t)
}

// loadedAccs reports whether set already holds the accumulators encoded in
// enc, the group's state: enc is the very string process stored last (same
// memory, kept alive by f.loaded, so no other encoding can have that
// address; on the heap backend state hands back the string it was given,
// Pebble decodes a new one). The built-in accumulators decode to what they
// encoded, and process does not change them after encoding (results are
// pure functions of the accumulators), so the decode would give set back.
// Only the fast path records loaded: user-defined accumulators may change
// in getValue.
func (f *groupAggFn) loadedAccs(enc string) bool {
	return len(enc) > 0 && len(enc) == len(f.loaded) && unsafe.StringData(enc) == unsafe.StringData(f.loaded)
}
