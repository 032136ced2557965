package redis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/testnet"
)

func addEntries(t testing.TB, c *goredis.Client, stream string, from, to int) {
	t.Helper()
	pipe := c.Pipeline()
	for i := from; i < to; i++ {
		pipe.XAdd(context.Background(), &goredis.XAddArgs{Stream: stream, Values: []string{"v", fmt.Sprint("v", i)}})
	}
	_, err := pipe.Exec(context.Background())
	must(t, err)
}

func stringField(_ string, m goredis.XMessage) (string, error) {
	s, ok := m.Values["v"].(string)
	if !ok {
		return "", errors.New("no field v")
	}
	return s, nil
}

// pendingCount is the number of entries of the group not acknowledged.
func pendingCount(t testing.TB, c *goredis.Client, stream, group string) int64 {
	p, err := c.XPending(context.Background(), stream, group).Result()
	must(t, err)
	return p.Count
}

// checkExactlyOnce fails unless got holds v0..v(n-1) exactly once each.
func checkExactlyOnce(t *testing.T, got []string, n int) {
	t.Helper()
	count := map[string]int{}
	for _, v := range got {
		count[v]++
	}
	for i := range n {
		if c := count[fmt.Sprint("v", i)]; c != 1 {
			t.Fatalf("v%d committed %d times (%d values committed, want %d)", i, c, len(got), n)
		}
	}
	if len(got) != n {
		t.Fatalf("%d values committed, want %d", len(got), n)
	}
}

// runUntil steps st until cond holds.
func runUntil(t *testing.T, st *weir.Stepper, what string, cond func() bool) {
	t.Helper()
	waitFor(t, what, 20*time.Second, func() bool {
		must(t, st.Run())
		return cond()
	})
}

// TestSourceRestore checks the guarantee: a checkpoint's entries are
// acknowledged once it completes; after a crash, the job restored from it
// re-reads what was emitted after it (still pending) and drops nothing
// else, at the same and at a smaller parallelism (where a subtask adopts
// the consumer that no longer has one). What a two-phase-commit sink
// commits is every entry exactly once.
func TestSourceRestore(t *testing.T) {
	for _, tc := range []struct {
		p2     int
		noAcks bool
	}{{2, false}, {1, false}, {2, true}, {1, true}} {
		p2 := tc.p2
		t.Run(fmt.Sprintf("parallelism 2 to %d, crash before acks %v", p2, tc.noAcks), func(t *testing.T) {
			c := client(t)
			stream := prefix(t, c) + "s"
			const group = "g"
			addEntries(t, c, stream, 0, 100)
			dir := t.TempDir()
			src := func() *Source[string] {
				s, err := NewSource(SourceOptions[string]{Redis: goredis.Options{Addr: redisAddr},
					Streams: []string{stream}, Group: group, Deserializer: stringField, Count: 7, Block: 50 * time.Millisecond})
				must(t, err)
				return s
			}
			ctx := context.Background()
			// Run A: checkpoint after at least 40 entries, read more, crash.
			com := &committer{}
			env := weir.NewEnvironment(weir.Options{Parallelism: 2,
				Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: dir}})
			srcA := src()
			srcA.noAcks = tc.noAcks
			weir.FromSource[string](env, srcA, weir.NoWatermarks[string](), "redis").SinkTo(com)
			st, err := env.Stepwise(ctx, 0)
			must(t, err)
			runUntil(t, st, "40 entries read", func() bool { return com.writtenCount() >= 40 })
			_, path, err := st.Checkpoint()
			must(t, err)
			atCheckpoint := len(com.values())
			t.Logf("checkpoint covers %d entries, %d written", atCheckpoint, com.writtenCount())
			if !tc.noAcks {
				waitFor(t, "checkpointed entries acknowledged", 10*time.Second, func() bool {
					return testutil.ToFloat64(srcA.acked) == float64(atCheckpoint)
				})
			}
			addEntries(t, c, stream, 100, 150)
			runUntil(t, st, "more entries read", func() bool { return com.writtenCount() >= atCheckpoint+20 })
			must(t, st.Close()) // a crash: nothing after the checkpoint is acknowledged
			if n := pendingCount(t, c, stream, group); n < 20 {
				t.Fatalf("%d entries pending after the crash, want at least the 20 read after the checkpoint", n)
			}
			addEntries(t, c, stream, 150, 170)

			// Run B from the checkpoint.
			com2 := &committer{committed: com.values(), seen: maps.Clone(com.seen)}
			env = weir.NewEnvironment(weir.Options{Parallelism: p2, Restore: path,
				Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: dir}})
			weir.FromSource[string](env, src(), weir.NoWatermarks[string](), "redis").SinkTo(com2)
			st, err = env.Stepwise(ctx, 0)
			must(t, err)
			defer st.Close()
			runUntil(t, st, "the rest read", func() bool { return com2.writtenCount() >= 170-atCheckpoint })
			_, _, err = st.Checkpoint()
			must(t, err)
			got := com2.values()
			checkExactlyOnce(t, got, 170)
			waitFor(t, "every entry acknowledged", 10*time.Second, func() bool {
				return pendingCount(t, c, stream, group) == 0
			})
		})
	}
}

// TestSourceOutage cuts the connection while entries are read: every
// entry arrives once (an XREADGROUP reply lost with the connection is
// recovered from the pending list).
func TestSourceOutage(t *testing.T) {
	c := client(t)
	stream := prefix(t, c) + "s"
	proxy := testnet.NewProxy(t, redisAddr)
	s, err := NewSource(SourceOptions[string]{Redis: goredis.Options{Addr: proxy.Addr(), MaxRetries: -1},
		Streams: []string{stream}, Group: "g", Deserializer: stringField, Count: 5, Block: 20 * time.Millisecond})
	must(t, err)
	env := weir.NewEnvironment(weir.Options{Parallelism: 2,
		Checkpoints: weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: t.TempDir()}})
	g := &gather[string]{}
	weir.FromSource[string](env, s, weir.NoWatermarks[string](), "redis").SinkTo(g.sink())
	job, err := env.Start(context.Background())
	must(t, err)
	defer func() { job.Cancel(); _ = job.Wait() }()
	for i := 0; i < 400; i += 50 {
		addEntries(t, c, stream, i, i+50)
		if i%100 == 0 {
			accepted := proxy.Accepted()
			proxy.Cut()
			proxy.Restore()
			waitFor(t, "reconnect", 10*time.Second, func() bool { return proxy.Accepted() > accepted })
		}
	}
	waitFor(t, "400 entries read", 20*time.Second, func() bool { return g.len() >= 400 })
	checkExactlyOnce(t, g.values(), 400)
	if testutil.ToFloat64(s.reconnects) == 0 {
		t.Fatal("no reconnect counted")
	}
}

// TestSourceDeadLetters sends undecodable entries to the dead-letter side
// output, naming the stream and id, and fails the job without a policy.
func TestSourceDeadLetters(t *testing.T) {
	c := client(t)
	stream := prefix(t, c) + "s"
	ctx := context.Background()
	ids := make([]string, 0, 3)
	for _, v := range []string{`{"n":1}`, `{"n":`, `{"n":3}`} {
		id, err := c.XAdd(ctx, &goredis.XAddArgs{Stream: stream, Values: []string{"data", v}}).Result()
		must(t, err)
		ids = append(ids, id)
	}
	type doc struct{ N int }
	tag := weir.NewOutputTag[weir.DeadLetter]("dead")
	newSrc := func(p weir.ErrorPolicy, group string) *Source[doc] {
		s, err := NewSource(SourceOptions[doc]{Redis: goredis.Options{Addr: redisAddr}, Streams: []string{stream},
			Group: group, Deserializer: FieldDeserializer("data", JSON[doc]), ErrorPolicy: p, Block: 20 * time.Millisecond})
		must(t, err)
		return s
	}
	env := weir.NewEnvironment(weir.Options{})
	good, dead := &gather[doc]{}, &gather[weir.DeadLetter]{}
	in := weir.FromSource[doc](env, newSrc(weir.DeadLetterTo(tag), "g1"), weir.NoWatermarks[doc](), "redis")
	in.SinkTo(good.sink())
	weir.SideOutput(in, tag).SinkTo(dead.sink())
	job, err := env.Start(ctx)
	must(t, err)
	waitFor(t, "2 good entries and a dead letter", 10*time.Second, func() bool { return good.len() == 2 && dead.len() == 1 })
	job.Cancel()
	_ = job.Wait()
	d := dead.values()[0]
	if want := "redis stream " + stream + " id " + ids[1]; d.Source != want || !strings.Contains(string(d.Raw), `{\"n\":`) {
		t.Fatalf("dead letter %+v, want source %q", d, want)
	}

	env = weir.NewEnvironment(weir.Options{})
	weir.FromSource[doc](env, newSrc(weir.FailOnError(), "g2"), weir.NoWatermarks[doc](), "redis").SinkTo(good.sink())
	ctx2, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := env.Execute(ctx2); !errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), ids[1]) {
		t.Fatalf("job error %v, want a bad record naming id %s", err, ids[1])
	}
}

func TestPositionEncoding(t *testing.T) {
	p := position{consumer: 3, stream: "s:1", id: streamID{1700000000000, 7}}
	q, err := decodePosition(p.encode())
	if err != nil || q != p {
		t.Fatalf("decoded %+v, %v, want %+v", q, err, p)
	}
	b := p.encode()
	for i := range len(b) {
		if _, err := decodePosition(b[:i]); err == nil {
			t.Fatalf("truncated position of %d bytes decoded", i)
		}
	}
	if !slices.Equal([]byte(p.id.String()), []byte("1700000000000-7")) {
		t.Fatal(p.id.String())
	}
}
