package redis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/state"
)

type inRec struct {
	Key        string
	Seq, Value int64
}

type outRec struct {
	Key             string
	Seq, Count, Sum int64
}

// runningSum keeps each key's count and sum of values.
type runningSum struct{ count, sum state.Value[int64] }

func (r *runningSum) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	r.count = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "count"})
	r.sum = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (r *runningSum) ProcessElement(ctx *weir.KeyedContext[string, outRec], v inRec) error {
	s, _ := r.sum.Value()
	c, _ := r.count.Value()
	s += v.Value
	c++
	r.sum.Update(s)
	r.count.Update(c)
	ctx.Collect(outRec{Key: v.Key, Seq: v.Seq, Count: c, Sum: s})
	return nil
}

var errInjected = errors.New("injected failure")

func decodeIn(_ string, m goredis.XMessage) (inRec, error) {
	k, _ := m.Values["k"].(string)
	seq, err1 := strconv.ParseInt(fmt.Sprint(m.Values["seq"]), 10, 64)
	v, err2 := strconv.ParseInt(fmt.Sprint(m.Values["v"]), 10, 64)
	return inRec{k, seq, v}, errors.Join(err1, err2)
}

// TestExactlyOnceAfterFailures runs Redis stream → keyed running count and
// sum → Redis SET (idempotent) and fails it several times, with the
// parallelism changing between runs (1, 2, 3, 1, then 3); each run
// restores the latest checkpoint (stream positions, counts and sums).
// Every entry gets an output key (none lost), and each key's final count
// and sum are those of the input: an entry read twice or lost across a
// restore would change them. (Per-entry running sums are not compared:
// at parallelism > 1 the entries of a key come from several consumers in
// an order that differs between runs.)
func TestExactlyOnceAfterFailures(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	stream := p + "in"
	ctx := context.Background()
	const n, keys, chunk = 3000, 10, 600
	input := func(from, to int64) {
		pipe := c.Pipeline()
		for i := from; i < to; i++ {
			pipe.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: []string{"k", fmt.Sprint("k", i%keys),
				"seq", strconv.FormatInt(i, 10), "v", strconv.FormatInt(i, 10)}})
		}
		_, err := pipe.Exec(ctx)
		must(t, err)
	}
	// outputs reports whether out:0 .. out:(to-1) all exist.
	outputs := func(to int64) bool {
		pipe := c.Pipeline()
		var cmds []*goredis.IntCmd
		for i := int64(0); i < to; i++ {
			cmds = append(cmds, pipe.Exists(ctx, p+"out:"+strconv.FormatInt(i, 10)))
		}
		_, err := pipe.Exec(ctx)
		must(t, err)
		for _, cmd := range cmds {
			if cmd.Val() != 1 {
				return false
			}
		}
		return true
	}
	dir := t.TempDir()
	job := func(par int, failAt int64) *weir.JobClient {
		env := weir.NewEnvironment(weir.Options{Parallelism: par, Restore: "latest",
			Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: dir, Retained: 2}})
		s, err := NewSource(SourceOptions[inRec]{Redis: goredis.Options{Addr: redisAddr}, Streams: []string{stream},
			Group: "g", Deserializer: decodeIn, Count: 50, Block: 20 * time.Millisecond})
		must(t, err)
		src := weir.FromSource[inRec](env, s, weir.NoWatermarks[inRec](), "in").UID("in")
		checked := weir.TryMap(src, func(v inRec) (inRec, error) {
			if v.Seq == failAt {
				return v, errInjected
			}
			return v, nil
		})
		sums := weir.ProcessKeyed[string, inRec, outRec](weir.KeyBy(checked, func(v inRec) string { return v.Key }), &runningSum{}).UID("sums")
		sink, err := NewSink(SinkOptions[outRec]{Redis: goredis.Options{Addr: redisAddr}, BatchSize: 100,
			Map: func(o outRec) (Command, error) {
				return Command{Op: OpSet, Key: p + "out:" + strconv.FormatInt(o.Seq, 10), Value: []byte(o.Key)}, nil
			}})
		must(t, err)
		totals, err := NewSink(SinkOptions[outRec]{Redis: goredis.Options{Addr: redisAddr}, BatchSize: 100,
			Map: func(o outRec) (Command, error) {
				return Command{Op: OpSet, Key: p + "total:" + o.Key, Value: fmt.Appendf(nil, "%d %d", o.Count, o.Sum)}, nil
			}})
		must(t, err)
		sums.SinkTo(sink).UID("out")
		sums.SinkTo(totals).UID("totals")
		jc, err := env.Start(ctx)
		must(t, err)
		return jc
	}
	for i := int64(0); i < n/chunk-1; i++ {
		input(i*chunk, i*chunk+chunk-100)
		jc := job(1+int(i%3), i*chunk+chunk-50)
		waitFor(t, fmt.Sprintf("run %d: output up to %d", i, i*chunk+chunk-100), 30*time.Second, func() bool {
			return outputs(i*chunk + chunk - 100)
		})
		input(i*chunk+chunk-100, (i+1)*chunk)
		select {
		case <-jc.Done():
		case <-time.After(30 * time.Second):
			t.Fatalf("run %d did not fail", i)
		}
		if err := jc.Wait(); !errors.Is(err, errInjected) {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	input(n-chunk, n)
	final := job(3, -1)
	want := map[string]string{}
	sums := map[string]int64{}
	for i := range int64(n) {
		sums[fmt.Sprint("k", i%keys)] += i
	}
	for k, sum := range sums {
		want[k] = fmt.Sprintf("%d %d", n/keys, sum)
	}
	totals := func() map[string]string {
		got := map[string]string{}
		for k := range want {
			got[k] = c.Get(ctx, p+"total:"+k).Val()
		}
		return got
	}
	// Subtasks replaying older entries may lag behind: wait for the
	// totals, then check them again once the job is stopped.
	var got map[string]string
	deadline := time.Now().Add(30 * time.Second)
	for got = totals(); !maps.Equal(got, want) && time.Now().Before(deadline); got = totals() {
		time.Sleep(10 * time.Millisecond) // polling the condition
	}
	final.Cancel()
	_ = final.Wait()
	if got = totals(); !maps.Equal(got, want) {
		t.Fatalf("count and sum per key %v, want %v", got, want)
	}
	if !outputs(n) {
		t.Fatal("an entry has no output")
	}
	if n := pendingCount(t, c, stream, "g"); n > 0 {
		t.Logf("%d entries still pending after the final cancel (acknowledged by a later run)", n)
	}
}
