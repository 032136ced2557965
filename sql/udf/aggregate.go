package udf

import (
	"fmt"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
)

// Aggregate is a user-defined aggregate function over a Go accumulator
// type A (Flink's AggregateFunction<T, ACC>). Wrap it with NewAggregate.
// A function that also implements Retractor can aggregate updating input;
// one that implements Merger can aggregate SESSION windows.
type Aggregate[A any] interface {
	// ResultType derives the result type from the argument types.
	ResultType(args []row.Type) (row.Type, error)
	// CreateAccumulator returns an empty accumulator.
	CreateAccumulator() A
	// Accumulate adds one row's arguments to acc.
	Accumulate(acc *A, args []row.Value) error
	// GetValue computes the result from acc.
	GetValue(acc *A) (row.Value, error)
}

// Retractor is implemented by an Aggregate that can retract a row
// (Flink's retract method).
type Retractor[A any] interface {
	Retract(acc *A, args []row.Value) error
}

// Merger is implemented by an Aggregate that can merge accumulators
// (Flink's merge method): other holds later rows than acc.
type Merger[A any] interface {
	Merge(acc *A, other *A) error
}

// NewAggregate makes an AggregateFunction of f. Accumulators are kept in
// checkpointed state encoded by c; a nil c uses codec.For[A] (structs of
// numbers, strings, slices, maps, ...: see package codec), and NewAggregate
// fails when A has no default codec.
func NewAggregate[A any](f Aggregate[A], c codec.Codec[A]) (AggregateFunction, error) {
	if c == nil {
		var err error
		if c, err = codec.For[A](); err != nil {
			return nil, fmt.Errorf("udf: the accumulator type needs a codec: %w", err)
		}
	}
	g := &goAggregate[A]{f: f, c: c}
	g.r, _ = f.(Retractor[A])
	g.m, _ = f.(Merger[A])
	if sig, ok := f.(Signature); ok {
		return &goAggregateSig[A]{goAggregate: g, sig: sig}, nil
	}
	return g, nil
}

// goAggregateSig is a goAggregate whose function declares its parameter
// types.
type goAggregateSig[A any] struct {
	*goAggregate[A]
	sig Signature
}

func (g *goAggregateSig[A]) ParamTypes() []row.Type { return g.sig.ParamTypes() }

type goAggregate[A any] struct {
	f Aggregate[A]
	c codec.Codec[A]
	r Retractor[A]
	m Merger[A]
}

func (g *goAggregate[A]) ResultType(args []row.Type) (row.Type, error) {
	return g.f.ResultType(args)
}

func (g *goAggregate[A]) NewAccumulator() Accumulator {
	return &goAcc[A]{g: g, acc: g.f.CreateAccumulator()}
}

func (g *goAggregate[A]) CanRetract() bool { return g.r != nil }
func (g *goAggregate[A]) CanMerge() bool   { return g.m != nil }

type goAcc[A any] struct {
	g   *goAggregate[A]
	acc A
}

func (a *goAcc[A]) Accumulate(args []row.Value) error { return a.g.f.Accumulate(&a.acc, args) }

func (a *goAcc[A]) Retract(args []row.Value) error {
	if a.g.r == nil {
		return ErrNoRetract
	}
	return a.g.r.Retract(&a.acc, args)
}

func (a *goAcc[A]) Merge(other Accumulator) error {
	if a.g.m == nil {
		return ErrNoMerge
	}
	o, ok := other.(*goAcc[A])
	if !ok {
		return fmt.Errorf("udf: cannot merge an accumulator of type %T", other)
	}
	return a.g.m.Merge(&a.acc, &o.acc)
}

func (a *goAcc[A]) Value() (row.Value, error) { return a.g.f.GetValue(&a.acc) }
func (a *goAcc[A]) Reset()                    { a.acc = a.g.f.CreateAccumulator() }

func (a *goAcc[A]) AppendTo(dst []byte) []byte { return a.g.c.Append(dst, a.acc) }

func (a *goAcc[A]) Decode(src []byte) (int, error) {
	v, n, err := a.g.c.Decode(src)
	if err != nil {
		return 0, err
	}
	a.acc = v
	return n, nil
}
