package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
)

// jsonAggTestCalls are calls over (k STRING, v STRING as JSON text,
// x DOUBLE, p DOUBLE, ps ARRAY<DOUBLE>, f INT).
func jsonAggTestCalls() ([]row.Type, []AggCall) {
	in := []row.Type{row.String(), row.String(), row.Double(), row.Double().NotNull(),
		row.ArrayType(row.Double().NotNull()).NotNull(), row.IntType()}
	return in, []AggCall{
		Call(JSONObjectAggNullOnNull, 0, 1),
		Call(JSONObjectAggAbsentOnNull, 0, 1),
		Call(JSONArrayAggNullOnNull, 1),
		Call(JSONArrayAggAbsentOnNull, 1),
		Call(Percentile, 2, 3),
		Call(Percentile, 2, 4, 5),
	}
}

func jsonAggTestRow(k string, v, x row.Value, f int64) row.Row {
	return row.Of(row.Str(k), v, x, row.Float(0.5), row.Array([]row.Value{row.Float(0.25), row.Float(1)}), row.Int(f))
}

// FuzzJSONAggDecode checks that decoding arbitrary bytes as the JSON
// aggregates' and PERCENTILE's accumulators fails cleanly instead of
// panicking, and that what decodes encodes to bytes that decode to the
// same values and encoding.
func FuzzJSONAggDecode(f *testing.F) {
	in, calls := jsonAggTestCalls()
	set, err := newAggSet(calls, in, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(set.encode()))
	set.apply(jsonAggTestRow("a", row.Str(`"x"`), row.Float(1.5), 2), false)
	set.apply(jsonAggTestRow("b", row.Null(), row.Null(), 1), false)
	set.apply(jsonAggTestRow("c", row.Str("3"), row.Float(-2), 1), true) // a pending retraction
	f.Add([]byte(set.encode()))
	// Found by the fuzzer: PERCENTILE values out of order, a single
	// PERCENTILE without its percentage.
	f.Add([]byte("0\x00\x01\x010\x010\x01\x010\x03000\x01\x010\x010\x02\x03000\x040000\x01\x03000\x01\x0100000000\x02000000000000000000\x00\x00"))
	f.Add([]byte("0\x00\x01\x010\x010\x01\x010\x03000\x01\x010\x010\x02\x03000\x040000\x01\x03000\x01\x00\x0200 000000000000000\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _ := newAggSet(calls, in, true)
		if _, err := s.decodeBytes(b); err != nil {
			return
		}
		types := s.resultTypes()
		vals := row.FormatRow(row.Row{Fields: s.appendValues(nil)}, types)
		enc := s.encode()
		s2, _ := newAggSet(calls, in, true)
		if err := s2.decode(enc); err != nil {
			t.Fatalf("%x decoded, its encoding %x does not: %v", b, enc, err)
		}
		if got := row.FormatRow(row.Row{Fields: s2.appendValues(nil)}, types); got != vals || s2.encode() != enc {
			t.Fatalf("%x decoded to %s, re-decoded to %s", b, vals, got)
		}
	})
}

// percentileModel is PERCENTILE computed from the values written out
// (each as many times as its frequency) in order.
func percentileModel(xs []float64, p float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	pos := p*float64(len(xs)-1) + 1
	lo, hi := math.Floor(pos), math.Ceil(pos)
	a, b := xs[int(lo)-1], xs[int(hi)-1]
	if a == b {
		return a, true
	}
	return (hi-pos)*a + (pos-lo)*b, true
}

// TestPercentileProperty feeds PERCENTILE random rows with frequencies,
// retracts some, splits them between two accumulators that are merged,
// and checks every percentile against percentileModel over the rows that
// remain.
func TestPercentileProperty(t *testing.T) {
	in, calls := jsonAggTestCalls()
	calls = calls[4:]
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 300 {
		type item struct {
			x float64
			f int64
		}
		var live []item
		a, _ := newAggSet(calls, in, true)
		b, _ := newAggSet(calls, in, true)
		split := r.IntN(40)
		for i := range 40 {
			s := a
			if i >= split {
				s = b
			}
			if len(live) > 0 && r.IntN(4) == 0 {
				j := r.IntN(len(live))
				it := live[j]
				live = slices.Delete(live, j, j+1)
				s.apply(jsonAggTestRow("", row.Null(), row.Float(it.x), it.f), true)
				continue
			}
			it := item{float64(r.IntN(9)) / 2, int64(r.IntN(3) + 1)}
			live = append(live, it)
			s.apply(jsonAggTestRow("", row.Null(), row.Float(it.x), it.f), false)
		}
		a.merge(b)
		var xs1, xsf []float64
		for _, it := range live {
			xs1 = append(xs1, it.x)
			for range it.f {
				xsf = append(xsf, it.x)
			}
		}
		slices.Sort(xs1)
		slices.Sort(xsf)
		got := a.appendValues(nil)
		want1, ok := percentileModel(xs1, 0.5)
		if ok != !got[0].IsNull() || (ok && got[0].Float() != want1) {
			t.Fatalf("iteration %d: PERCENTILE(x, 0.5) of %v = %v, want %v", iter, xs1, row.Format(got[0], row.Double()), want1)
		}
		if got[1].IsNull() {
			if len(xsf) > 0 {
				t.Fatalf("iteration %d: PERCENTILE(x, [0.25, 1], f) of %v is NULL", iter, xsf)
			}
			continue
		}
		for i, p := range []float64{0.25, 1} {
			w, _ := percentileModel(xsf, p)
			if g := got[1].Elems()[i].Float(); g != w {
				t.Fatalf("iteration %d: PERCENTILE(x, %v, f) of %v = %v, want %v", iter, p, xsf, g, w)
			}
		}
	}
}

// TestJSONObjectAggProperty plays random inserts and deletes of a table
// of unique keys, split between two accumulators (the later one may
// retract what the earlier one accumulated) that are merged, and checks
// the object against the table's rows.
func TestJSONObjectAggProperty(t *testing.T) {
	in, calls := jsonAggTestCalls()
	calls = calls[:1]
	r := rand.New(rand.NewPCG(3, 4))
	for iter := range 300 {
		table := map[string]string{}
		a, _ := newAggSet(calls, in, true)
		b, _ := newAggSet(calls, in, true)
		split := r.IntN(30)
		for i := range 30 {
			s := a
			if i >= split {
				s = b
			}
			k := "k" + strconv.Itoa(r.IntN(6))
			if v, ok := table[k]; ok {
				delete(table, k)
				s.apply(jsonAggTestRow(k, textValue(v), row.Null(), 1), true)
				continue
			}
			v := []string{"null", "1", `"s"`, "[2]"}[r.IntN(4)]
			table[k] = v
			s.apply(jsonAggTestRow(k, textValue(v), row.Null(), 1), false)
		}
		a.merge(b)
		if err := a.failed(); err != nil {
			t.Fatalf("iteration %d: %v", iter, err)
		}
		keys := make([]string, 0, len(table))
		for k := range table {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var want []string
		for _, k := range keys {
			want = append(want, fmt.Sprintf("%q:%s", k, table[k]))
		}
		if got := a.appendValues(nil)[0].Str(); got != "{"+strings.Join(want, ",")+"}" {
			t.Fatalf("iteration %d: %s, want {%s}", iter, got, strings.Join(want, ","))
		}
	}
}

// textValue is the accumulated JSON text of a value ("null" is NULL).
func textValue(v string) row.Value {
	if v == "null" {
		return row.Null()
	}
	return row.Str(v)
}

// TestJSONAggErrors checks the errors that fail the job: a duplicate
// key (also found by a merge), a NULL key, a percentage out of range.
func TestJSONAggErrors(t *testing.T) {
	in, calls := jsonAggTestCalls()
	s, _ := newAggSet(calls[:1], in, true)
	s.apply(jsonAggTestRow("a", row.Str("1"), row.Null(), 1), false)
	s.apply(jsonAggTestRow("a", row.Str("2"), row.Null(), 1), false)
	if err := s.failed(); err == nil || !strings.Contains(err.Error(), "Key 'a' is already present") {
		t.Errorf("duplicate key: %v", err)
	}
	o, _ := newAggSet(calls[:1], in, true)
	o.apply(jsonAggTestRow("a", row.Str("3"), row.Null(), 1), false)
	s.merge(o)
	if err := s.failed(); err == nil || !strings.Contains(err.Error(), "Key 'a' is already present") {
		t.Errorf("duplicate key in merge: %v", err)
	}
	s.apply(row.Of(row.Null(), row.Str("1"), row.Null(), row.Float(0.5), row.Array(nil), row.Int(1)), false)
	if err := s.failed(); err == nil || !strings.Contains(err.Error(), "a key is NULL") {
		t.Errorf("NULL key: %v", err)
	}
	p, _ := newAggSet(calls[4:5], in, true)
	p.apply(row.Of(row.Str(""), row.Null(), row.Float(1), row.Float(1.25), row.Array(nil), row.Int(1)), false)
	if err := p.failed(); err == nil || err.Error() != "sql/exec: Percentage of PERCENTILE should be between [0.0, 1.0], but was '1.25'." {
		t.Errorf("percentage: %v", err)
	}
}
