package redis_test

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/redis"
)

type price struct {
	Symbol string
	Cents  int64
}

// Example writes the latest price of each symbol to Redis (an idempotent
// upsert with a TTL) and reads one back through a cached lookup. It needs
// Redis on 127.0.0.1:6379.
func Example() {
	ctx := context.Background()
	const prefix = "weir:example:price:"
	sink, err := redis.NewSink(redis.SinkOptions[price]{
		Redis: goredis.Options{Addr: "127.0.0.1:6379"},
		Map: func(p price) (redis.Command, error) {
			return redis.Command{Op: redis.OpSet, Key: prefix + p.Symbol,
				Value: fmt.Appendf(nil, "%d", p.Cents), TTL: time.Minute}, nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, []price{{"ACME", 1200}, {"INIT", 700}, {"ACME", 1250}}).SinkTo(sink)
	if err := env.Execute(ctx); err != nil {
		fmt.Println(err)
		return
	}

	lookup, err := redis.NewLookup(redis.LookupOptions[string, string, string]{
		Redis:    goredis.Options{Addr: "127.0.0.1:6379"},
		Decode:   func(b []byte) (string, error) { return string(b), nil },
		CacheTTL: time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lookup.Close()
	v, found, err := lookup.Get(ctx, prefix+"ACME")
	fmt.Println(v, found, err)
	// Output: 1250 true <nil>
}
