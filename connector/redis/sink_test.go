package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/testnet"
)

// change is a changelog record for the sink tests.
type change struct {
	Op    Op
	Key   string
	Value string
}

func mapChange(p string) func(c change) (Command, error) {
	return func(c change) (Command, error) {
		switch c.Op {
		case OpSet:
			return Command{Op: OpSet, Key: p + c.Key, Value: []byte(c.Value), TTL: time.Hour}, nil
		case OpHSet:
			return Command{Op: OpHSet, Key: p + c.Key, Fields: []Field{{"v", c.Value}, {"n", "1"}}, TTL: time.Hour}, nil
		case OpXAdd:
			return Command{Op: OpXAdd, Key: p + c.Key, ID: c.Value, Fields: []Field{{"v", c.Value}}}, nil
		case OpNone:
			return Command{}, errors.New("no op")
		}
		return Command{Op: c.Op, Key: p + c.Key, Value: []byte(c.Value)}, nil
	}
}

// TestSinkCommands writes every kind of command through a job and checks
// Redis: upserts with TTL, hashes with expiry, deletes, stream entries and
// published messages.
func TestSinkCommands(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	ctx := context.Background()
	sub := c.Subscribe(ctx, p+"ch")
	defer sub.Close()
	_, err := sub.Receive(ctx) // the subscription is confirmed
	must(t, err)
	in := []change{
		{OpSet, "a", "1"}, {OpSet, "b", "1"}, {OpSet, "a", "2"}, {OpDel, "b", ""},
		{OpHSet, "h", "x"}, {OpHSet, "h", "y"},
		{OpXAdd, "s", ""}, {OpXAdd, "s", ""},
		{OpPublish, "ch", "hello"},
	}
	s, err := NewSink(SinkOptions[change]{Redis: goredis.Options{Addr: redisAddr}, Map: mapChange(p), BatchSize: 3})
	must(t, err)
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, in).SinkTo(s)
	must(t, env.Execute(ctx))

	if v, err := c.Get(ctx, p+"a").Result(); err != nil || v != "2" {
		t.Fatalf("a = %q, %v; want 2", v, err)
	}
	if ttl := c.PTTL(ctx, p+"a").Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("TTL of a %v", ttl)
	}
	if n := c.Exists(ctx, p+"b").Val(); n != 0 {
		t.Fatal("b not deleted")
	}
	if h := c.HGetAll(ctx, p+"h").Val(); h["v"] != "y" || h["n"] != "1" || len(h) != 2 {
		t.Fatalf("hash %v", h)
	}
	if ttl := c.PTTL(ctx, p+"h").Val(); ttl <= 0 {
		t.Fatalf("TTL of h %v", ttl)
	}
	if n := c.XLen(ctx, p+"s").Val(); n != 2 {
		t.Fatalf("stream has %d entries, want 2", n)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m, err := sub.ReceiveMessage(rctx)
	if err != nil || m.Payload != "hello" {
		t.Fatalf("published %v, %v", m, err)
	}
	if got := testutil.ToFloat64(s.m.commands); got != float64(len(in)) {
		t.Fatalf("%v records counted", got)
	}
}

// deadLetters is a dead-letter writer that keeps what it is given.
type deadLetters struct {
	got     []weir.DeadLetter
	flushes int
}

func (d *deadLetters) Write(_ context.Context, v weir.DeadLetter, _ int64) error {
	d.got = append(d.got, v)
	return nil
}
func (d *deadLetters) Flush(context.Context, bool) error { d.flushes++; return nil }
func (d *deadLetters) Close() error                      { return nil }

// CreateWriter makes deadLetters a weir.Sink (of parallelism 1 here).
func (d *deadLetters) CreateWriter(weir.SinkContext) (weir.SinkWriter[weir.DeadLetter], error) {
	return d, nil
}

// TestSinkBadRecords: a record Map rejects and a command Redis refuses
// (HSET on a string: WRONGTYPE) go to the dead letters, and the records
// around them are written; without dead letters the job fails naming the
// key.
func TestSinkBadRecords(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	ctx := context.Background()
	must(t, c.Set(ctx, p+"str", "x", 0).Err())
	in := []change{{OpSet, "a", "1"}, {OpNone, "bad", ""}, {OpHSet, "str", "y"}, {OpSet, "b", "2"}}
	dl := &deadLetters{}
	s, err := NewSink(SinkOptions[change]{Redis: goredis.Options{Addr: redisAddr}, Map: mapChange(p), DeadLetters: dl})
	must(t, err)
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, in).SinkTo(s)
	must(t, env.Execute(ctx))
	if len(dl.got) != 2 || !strings.Contains(dl.got[0].Reason, "no op") ||
		!strings.Contains(dl.got[1].Source, "HSET "+p+"str") || !strings.Contains(dl.got[1].Reason, "WRONGTYPE") || dl.flushes == 0 {
		t.Fatalf("dead letters %+v (%d flushes)", dl.got, dl.flushes)
	}
	if c.Get(ctx, p+"a").Val() != "1" || c.Get(ctx, p+"b").Val() != "2" {
		t.Fatal("records around the bad ones not written")
	}

	s, err = NewSink(SinkOptions[change]{Redis: goredis.Options{Addr: redisAddr}, Map: mapChange(p)})
	must(t, err)
	env = weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, in[2:]).SinkTo(s)
	if err := env.Execute(ctx); !errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), p+"str") {
		t.Fatalf("job error %v, want a bad record naming the key", err)
	}
}

// TestSinkFlush: commands are in Redis after Flush (a checkpoint), not
// necessarily before; replaying them (a restore) converges to the same
// state, and explicit XADD ids make the stream's replay a no-op.
func TestSinkFlush(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	ctx := context.Background()
	s, err := NewSink(SinkOptions[change]{Redis: goredis.Options{Addr: redisAddr}, Map: mapChange(p), BatchSize: 1000})
	must(t, err)
	w, err := s.CreateWriter(weir.SinkContext{})
	must(t, err)
	defer w.Close()
	write := func(from, to int) {
		for i := from; i < to; i++ {
			must(t, w.Write(ctx, change{OpSet, fmt.Sprint("k", i%10), fmt.Sprint(i)}, 0))
			must(t, w.Write(ctx, change{OpXAdd, "s", fmt.Sprintf("1-%d", i+1)}, 0))
		}
	}
	write(0, 30)
	if n := c.XLen(ctx, p+"s").Val(); n != 0 {
		t.Fatalf("%d entries before the flush", n)
	}
	must(t, w.Flush(ctx, false))
	if n := c.XLen(ctx, p+"s").Val(); n != 30 {
		t.Fatalf("%d entries after the flush, want 30", n)
	}
	// A restore replays 20..30 and goes on to 40.
	write(20, 40)
	must(t, w.Flush(ctx, false))
	if n := c.XLen(ctx, p+"s").Val(); n != 40 {
		t.Fatalf("%d entries after the replay, want 40", n)
	}
	for i := range 10 {
		if v := c.Get(ctx, fmt.Sprint(p, "k", i)).Val(); v != fmt.Sprint(30+i) {
			t.Fatalf("k%d = %s, want %d", i, v, 30+i)
		}
	}
}

// TestSinkOutage: a flush during an outage retries with backoff and
// completes once Redis is reachable again, with every write in place.
func TestSinkOutage(t *testing.T) {
	c := client(t)
	p := prefix(t, c)
	ctx := context.Background()
	proxy := testnet.NewProxy(t, redisAddr)
	s, err := NewSink(SinkOptions[change]{Redis: goredis.Options{Addr: proxy.Addr(), MaxRetries: -1}, Map: mapChange(p), BatchSize: 50})
	must(t, err)
	w, err := s.CreateWriter(weir.SinkContext{})
	must(t, err)
	defer w.Close()
	for i := range 100 {
		must(t, w.Write(ctx, change{OpSet, fmt.Sprint("k", i), "v"}, 0))
	}
	proxy.Cut()
	done := make(chan error, 1)
	go func() {
		for i := 100; i < 300; i++ {
			if err := w.Write(ctx, change{OpSet, fmt.Sprint("k", i), "v"}, 0); err != nil {
				done <- err
				return
			}
		}
		done <- w.Flush(ctx, false)
	}()
	waitFor(t, "retries during the outage", 10*time.Second, func() bool { return testutil.ToFloat64(s.m.retries) >= 2 })
	proxy.Restore()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("flush did not complete after the outage")
	}
	for i := range 300 {
		if c.Exists(ctx, fmt.Sprint(p, "k", i)).Val() != 1 {
			t.Fatalf("k%d missing", i)
		}
	}
}

// TestSinkCancel: a flush retrying during an outage returns once its
// context is done.
func TestSinkCancel(t *testing.T) {
	proxy := testnet.NewProxy(t, redisAddr)
	proxy.Cut()
	s, err := NewSink(SinkOptions[change]{Redis: goredis.Options{Addr: proxy.Addr(), MaxRetries: -1}, Map: mapChange("x")})
	must(t, err)
	w, err := s.CreateWriter(weir.SinkContext{})
	must(t, err)
	defer w.Close()
	must(t, w.Write(context.Background(), change{OpSet, "k", "v"}, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := w.Flush(ctx, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("flush error %v, want the context's", err)
	}
}
