package connector

import (
	"context"
	"io"
	"os"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/print"
	"github.com/weirstream/weir/row"
)

// Print is Flink's 'print' connector: a sink that writes every row as a
// line, "+I[1, abc]" (the row kind, then the fields as Flink casts them to
// STRING), prefixed as Flink's PrintSink does: "id> " with a
// print-identifier, "2> " or "id:2> " (the subtask, from 1) when the sink
// runs with parallelism above 1. It accepts every changelog mode. Options:
// print-identifier, standard-error, sink.parallelism.
type Print struct {
	// Stdout and Stderr receive the lines (nil: os.Stdout, os.Stderr).
	Stdout, Stderr io.Writer
}

// Identifier is "print".
func (Print) Identifier() string { return "print" }

// RequiredOptions is empty.
func (Print) RequiredOptions() []string { return nil }

// OptionalOptions lists print's options.
func (Print) OptionalOptions() []string {
	return []string{"print-identifier", "standard-error", "sink.parallelism"}
}

type printSink struct {
	w     io.Writer
	id    string
	par   int
	types []row.Type
}

// CreateSink validates the options.
func (f Print) CreateSink(ctx Context) (Sink, error) {
	if err := validate(ctx, f.Identifier(), f.RequiredOptions(), f.OptionalOptions()); err != nil {
		return nil, err
	}
	o := newOptions(ctx)
	s := &printSink{id: o.str("print-identifier", ""), par: int(o.int64("sink.parallelism", 0, 1)), types: ctx.Schema.Types()}
	s.w = f.Stdout
	if s.w == nil {
		s.w = os.Stdout
	}
	if o.bool("standard-error", false) {
		s.w = f.Stderr
		if s.w == nil {
			s.w = os.Stderr
		}
	}
	if o.err != nil {
		return nil, o.err
	}
	return s, nil
}

func (s *printSink) ChangelogMode(q ChangelogMode) (ChangelogMode, error) { return acceptAll(q) }

func (s *printSink) Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	types := s.types
	p := print.New[row.Row](s.w).WithFormat(func(r row.Row) string { return row.FormatRow(r, types) }).WithIdentifier(s.id)
	d := in.SinkTo(p).UID(b.uid("sink")).Name(b.uid("print"))
	if s.par > 0 {
		d = d.SetParallelism(s.par)
	}
	return d, nil
}

// Blackhole is Flink's 'blackhole' connector: a sink that discards every
// row, of any changelog mode. It takes no options.
type Blackhole struct{}

// Identifier is "blackhole".
func (Blackhole) Identifier() string { return "blackhole" }

// RequiredOptions is empty.
func (Blackhole) RequiredOptions() []string { return nil }

// OptionalOptions is empty.
func (Blackhole) OptionalOptions() []string { return nil }

type blackholeSink struct{}

// CreateSink validates the options.
func (f Blackhole) CreateSink(ctx Context) (Sink, error) {
	if err := validate(ctx, f.Identifier(), nil, nil); err != nil {
		return nil, err
	}
	return blackholeSink{}, nil
}

// ChangelogMode takes every kind the query produces but -U, as Flink's
// blackhole sink does (its BlackHoleSink.getChangelogMode): the planner
// then lets a group aggregation under it skip its UPDATE_BEFORE rows.
func (blackholeSink) ChangelogMode(q ChangelogMode) (ChangelogMode, error) {
	return q &^ ChangelogMode(1<<row.UpdateBefore), nil
}

func (blackholeSink) Consume(b BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	return in.SinkTo(weir.SinkFunc[row.Row](func(context.Context, row.Row, int64) error { return nil })).
		UID(b.uid("sink")).Name(b.uid("blackhole")), nil
}
