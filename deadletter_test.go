package weir_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

func TestDeadLetterString(t *testing.T) {
	tests := []struct {
		d    weir.DeadLetter
		want string
	}{
		{weir.DeadLetter{Source: "file x line 3", Field: "age", Reason: "not a number"}, `file x line 3: field "age": not a number`},
		{weir.DeadLetter{Source: "topic t partition 3 offset 99", Reason: "bad"}, "topic t partition 3 offset 99: bad"},
		{weir.DeadLetter{Source: "s"}, "s"},
	}
	for _, tc := range tests {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
		err := error(&weir.BadRecordError{DeadLetter: tc.d})
		if err.Error() != tc.want || !errors.Is(err, weir.ErrBadRecord) {
			t.Errorf("BadRecordError %q: want %q and ErrBadRecord", err, tc.want)
		}
	}
}

func TestErrorPolicy(t *testing.T) {
	if _, ok := (weir.ErrorPolicy{}).DeadLetters(); ok {
		t.Fatal("zero ErrorPolicy sends to dead letters")
	}
	if _, ok := weir.FailOnError().DeadLetters(); ok {
		t.Fatal("FailOnError sends to dead letters")
	}
	tag := weir.NewOutputTag[weir.DeadLetter]("dlq")
	got, ok := weir.DeadLetterTo(tag).DeadLetters()
	if !ok || got.ID() != "dlq" {
		t.Fatalf("DeadLetterTo(dlq).DeadLetters() = %v, %v", got, ok)
	}
	if s := weir.DeadLetterTo(tag).String(); s != `dead-letter to "dlq"` {
		t.Fatalf("String() = %q", s)
	}
}

// parseInts rejects the strings that are not integers under policy, with
// its scratch buffer reused between records (the dead letters must copy).
type parseInts struct {
	policy weir.ErrorPolicy
	buf    []byte
}

func (p *parseInts) ProcessElement(ctx *weir.Context[int], s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		p.buf = append(p.buf[:0], s...)
		rerr := weir.Reject(ctx, p.policy, weir.DeadLetter{Source: "record " + s, Field: "value", Reason: err.Error(), Raw: p.buf})
		p.buf[0] = '#' // must not show in the dead letter
		return rerr
	}
	ctx.Collect(n)
	return nil
}

func TestRejectInProcessFunction(t *testing.T) {
	in := []weir.TimestampedValue[string]{{Value: "1", TS: 10}, {Value: "x", TS: 20}, {Value: "3", TS: 30}, {Value: "y4", TS: 40}}
	t.Run("fail", func(t *testing.T) {
		env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1})
		weir.Collect(weir.Process(weir.FromTimestamped(env, in, weir.WatermarkStrategy[string]{}), weir.ProcessFunction[string, int](&parseInts{})))
		err := env.Execute(context.Background())
		var bre *weir.BadRecordError
		if !errors.As(err, &bre) || bre.DeadLetter.Source != "record x" || string(bre.DeadLetter.Raw) != "x" {
			t.Fatalf("Execute = %v, want a BadRecordError for record x", err)
		}
		if !strings.Contains(err.Error(), `record x: field "value": strconv.Atoi`) {
			t.Fatalf("error %q does not name the record and field", err)
		}
	})
	t.Run("dead letters", func(t *testing.T) {
		tag := weir.NewOutputTag[weir.DeadLetter]("bad")
		clock := int64(1_700_000_000_000)
		env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1, Clock: func() int64 { return clock }})
		out := weir.Process(weir.FromTimestamped(env, in, weir.WatermarkStrategy[string]{}), weir.ProcessFunction[string, int](&parseInts{policy: weir.DeadLetterTo(tag)}))
		good := weir.Collect(out)
		dead := weir.Collect(weir.SideOutput(out, tag))
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		if v := good.Values(); len(v) != 2 || v[0] != 1 || v[1] != 3 {
			t.Fatalf("good records %v, want [1 3]", v)
		}
		d := dead.Timestamped()
		if len(d) != 2 {
			t.Fatalf("%d dead letters, want 2", len(d))
		}
		for i, want := range []struct {
			raw string
			ts  int64
		}{{"x", 20}, {"y4", 40}} {
			got := d[i]
			if string(got.Value.Raw) != want.raw || got.TS != want.ts || got.Value.Field != "value" || got.Value.Source != "record "+want.raw {
				t.Errorf("dead letter %d = %+v at %d, want raw %q at %d", i, got.Value, got.TS, want.raw, want.ts)
			}
			if !got.Value.Time.Equal(time.UnixMilli(clock)) {
				t.Errorf("dead letter %d time %v, want the job clock", i, got.Value.Time)
			}
		}
	})
	t.Run("no reader", func(t *testing.T) {
		env := weir.NewEnvironment(weir.Options{AutoWatermarkInterval: -1})
		tag := weir.NewOutputTag[weir.DeadLetter]("bad")
		weir.Collect(weir.Process(weir.FromTimestamped(env, in, weir.WatermarkStrategy[string]{}), weir.ProcessFunction[string, int](&parseInts{policy: weir.DeadLetterTo(tag)})))
		err := env.Execute(context.Background())
		if !errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), `no stream reads dead-letter side output "bad"`) {
			t.Fatalf("Execute = %v, want an unread dead-letter error", err)
		}
	})
}

// lineSource emits its lines as ints, rejecting the others under policy;
// its line buffer is reused, as a real reader's would be.
type lineSource struct {
	lines  []string
	policy weir.ErrorPolicy
	side   weir.OutputTag[string] // if set, every record is also echoed there
}

func (s lineSource) CreateReader(weir.SourceContext) (weir.SourceReader[int], error) {
	return &lineReader{src: s}, nil
}

type lineReader struct {
	src  lineSource
	next int
	buf  []byte
}

func (r *lineReader) Poll(_ context.Context, out *weir.SourceOutput[int]) (weir.PollStatus, error) {
	for ; r.next < len(r.src.lines); r.next++ {
		line := r.src.lines[r.next]
		r.buf = append(r.buf[:0], line...)
		if r.src.side.ID() != "" {
			weir.EmitSide(out, r.src.side, line, int64(r.next))
		}
		n, err := strconv.Atoi(line)
		if err != nil {
			d := weir.DeadLetter{Source: "line " + strconv.Itoa(r.next+1), Reason: err.Error(), Raw: r.buf}
			if err := weir.RejectFromSource(out, r.src.policy, d); err != nil {
				return weir.EndOfInput, err
			}
			if len(r.buf) > 0 {
				r.buf[0] = '#' // must not show in the dead letter
			}
			continue
		}
		out.Collect(n)
	}
	return weir.EndOfInput, nil
}

func (r *lineReader) Close() error { return nil }

func TestRejectFromSource(t *testing.T) {
	lines := []string{"1", "two", "3", "", "5"}
	tag := weir.NewOutputTag[weir.DeadLetter]("dlq")

	env := weir.NewEnvironment(weir.Options{})
	s := weir.FromSource[int](env, lineSource{lines: lines, policy: weir.DeadLetterTo(tag)}, weir.NoWatermarks[int](), "lines")
	good := weir.Collect(s)
	dead := weir.Collect(weir.SideOutput(s, tag))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := good.Values(); len(v) != 3 || v[0] != 1 || v[1] != 3 || v[2] != 5 {
		t.Fatalf("good %v, want [1 3 5]", v)
	}
	d := dead.Timestamped()
	if len(d) != 2 || d[0].Value.Source != "line 2" || string(d[0].Value.Raw) != "two" ||
		d[1].Value.Source != "line 4" || len(d[1].Value.Raw) != 0 || d[0].TS != weir.NoTimestamp {
		t.Fatalf("dead letters %+v", d)
	}

	env = weir.NewEnvironment(weir.Options{})
	weir.Collect(weir.FromSource[int](env, lineSource{lines: lines}, weir.NoWatermarks[int](), "lines"))
	err := env.Execute(context.Background())
	var bre *weir.BadRecordError
	if !errors.As(err, &bre) || bre.DeadLetter.Source != "line 2" || !strings.Contains(err.Error(), "line 2: strconv.Atoi") {
		t.Fatalf("Execute = %v, want a BadRecordError for line 2", err)
	}
}

func TestEmitSide(t *testing.T) {
	echo := weir.NewOutputTag[string]("echo")
	env := weir.NewEnvironment(weir.Options{})
	s := weir.FromSource[int](env, lineSource{lines: []string{"1", "2"}, side: echo}, weir.NoWatermarks[int](), "lines")
	weir.Collect(s)
	got := weir.Collect(weir.SideOutput(s, echo))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := got.Timestamped(); len(v) != 2 || v[0].Value != "1" || v[0].TS != 0 || v[1].Value != "2" || v[1].TS != 1 {
		t.Fatalf("side output %+v", v)
	}

	// The same tag id read with another type is an error, not a panic.
	env = weir.NewEnvironment(weir.Options{})
	s = weir.FromSource[int](env, lineSource{lines: []string{"1"}, side: echo}, weir.NoWatermarks[int](), "lines")
	weir.Collect(weir.SideOutput(s, weir.NewOutputTag[float64]("echo")))
	if err := env.Execute(context.Background()); err == nil || !strings.Contains(err.Error(), `side output "echo"`) {
		t.Fatalf("Execute = %v, want a type error for side output echo", err)
	}
}
