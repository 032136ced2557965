package udf_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/udf"
)

// TestMultisetDoubleElements checks the DOUBLE elements a Go map keys
// differently from SQL (and from Flink's Map<Double, Integer>, whose
// Double.equals makes NaN one element and tells -0.0 from 0.0):
//   - NaN keys of a Go map are all distinct, so a function counting NaN
//     twice returns two NaN entries; the MULTISET holds NaN once, with the
//     summed count, and equals the one COLLECT builds;
//   - -0.0 and 0.0 are one Go map key but two elements of the multiset
//     (COLLECT keeps them apart, as Flink's): an argument holding both
//     fails the call rather than merging their counts.
func TestMultisetDoubleElements(t *testing.T) {
	typ, err := udf.MultisetType[float64]()
	if err != nil {
		t.Fatal(err)
	}
	m := udf.Multiset[float64]{1.5: 1}
	nan := math.NaN()
	m[nan]++
	m[nan]++
	m[nan] += 3
	v, err := udf.MultisetValue(m)
	if err != nil {
		t.Fatal(err)
	}
	want := row.Map([]row.Value{row.Float(1.5), row.Float(nan)}, []row.Value{row.Int(1), row.Int(5)})
	if got := row.Format(v, typ); got != "{1.5=1, NaN=5}" || !row.Equal(v, want, typ) {
		t.Errorf("NaN counted in three Go map entries: %s, want {1.5=1, NaN=5}", got)
	}
	// The summed count must fit in an INT as a single one must.
	big := udf.Multiset[float64]{}
	big[nan] = math.MaxInt32
	big[nan] = 1
	if _, err := udf.MultisetValue(big); err == nil || !strings.Contains(err.Error(), "out of the INT range") {
		t.Errorf("NaN counts summing past the INT range: %v", err)
	}

	zeros := row.Map([]row.Value{row.Float(math.Copysign(0, -1)), row.Float(0)}, []row.Value{row.Int(1), row.Int(2)})
	got, err := udf.MultisetFrom[float64](zeros)
	if !errors.Is(err, udf.ErrMultisetMergedElements) {
		t.Errorf("-0.0 and 0.0 as one Go key: %v, %v; want ErrMultisetMergedElements", got, err)
	}
}
