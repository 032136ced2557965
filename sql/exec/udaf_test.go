package exec

import (
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/udf"
)

// wavg is Flink's WeightedAvg example with a struct accumulator encoded
// by the default codec: the script tests (testdata/udaf) call it as
// WAVG($v, $w), through checkpoints and restores.
type wavg struct{}

type wavgAcc struct {
	Sum, Count int64
	// Seen counts accumulated rows minus retracted ones: it proves the
	// whole struct survives a restore, not just what GetValue shows.
	Seen int64
}

func (wavg) ResultType([]row.Type) (row.Type, error) { return row.String(), nil }
func (wavg) CreateAccumulator() wavgAcc              { return wavgAcc{} }

func (wavg) Accumulate(a *wavgAcc, args []row.Value) error {
	a.Sum += args[0].Int() * args[1].Int()
	a.Count += args[1].Int()
	a.Seen++
	return nil
}

func (wavg) Retract(a *wavgAcc, args []row.Value) error {
	a.Sum -= args[0].Int() * args[1].Int()
	a.Count -= args[1].Int()
	a.Seen--
	return nil
}

func (wavg) Merge(a, o *wavgAcc) error {
	a.Sum, a.Count, a.Seen = a.Sum+o.Sum, a.Count+o.Count, a.Seen+o.Seen
	return nil
}

// GetValue prints "avg/rows", e.g. "17/3".
func (wavg) GetValue(a *wavgAcc) (row.Value, error) {
	if a.Count == 0 {
		return row.Null(), nil
	}
	return row.Str(formatInt(a.Sum/a.Count) + "/" + formatInt(a.Seen)), nil
}

func formatInt(i int64) string { return row.Format(row.Int(i), row.BigInt()) }

// testUDAF returns the user-defined aggregate the exec scripts call by
// name, or nil.
func testUDAF(name string) udf.AggregateFunction {
	if name != "WAVG" {
		return nil
	}
	f, err := udf.NewAggregate[wavgAcc](wavg{}, nil)
	if err != nil {
		panic(err) // wavgAcc has a default codec
	}
	return f
}

func TestUDAFAccumulatorRoundTrip(t *testing.T) {
	f := testUDAF("WAVG")
	a := f.NewAccumulator()
	for _, r := range [][]row.Value{{row.Int(10), row.Int(1)}, {row.Int(20), row.Int(3)}} {
		if err := a.Accumulate(r); err != nil {
			t.Fatal(err)
		}
	}
	enc := a.AppendTo(nil)
	b := f.NewAccumulator()
	n, err := b.Decode(enc)
	if err != nil || n != len(enc) {
		t.Fatalf("decode: %d of %d bytes, %v", n, len(enc), err)
	}
	v, err := b.Value()
	if err != nil || v.Str() != "17/2" {
		t.Fatalf("value after decode: %v, %v; want 17/2", v.Str(), err)
	}
	if _, err := b.Decode(enc[:1]); err == nil {
		t.Error("decoding a truncated accumulator succeeded")
	}
}
