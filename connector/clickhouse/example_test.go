package clickhouse_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/clickhouse"
	"github.com/weirstream/weir/connector/kafka"
)

type pageView struct {
	User string `json:"user"`
	Page string `json:"page"`
	Ms   uint32 `json:"ms"`
}

// Insert page views into a ClickHouse table (the server on
// 127.0.0.1:8123) in batches.
func ExampleSink() {
	run := func(sql string) string {
		resp, err := http.Post("http://127.0.0.1:8123/?query="+url.QueryEscape(sql), "text/plain", nil)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b))
	}
	table := fmt.Sprintf("example_views_%08x", rand.Uint32())
	run("CREATE TABLE " + table + " (user String, page String, ms UInt32) ENGINE = MergeTree ORDER BY user")
	defer run("DROP TABLE " + table)

	env := weir.NewEnvironment(weir.Options{})
	views := []pageView{{"ann", "/", 120}, {"bob", "/cart", 80}, {"ann", "/pay", 200}}
	weir.FromSlice(env, views).SinkTo(clickhouse.NewSink(clickhouse.Options[pageView]{
		Table: table, Serializer: kafka.JSONSerde[pageView]{}, BatchSize: 1000, Gzip: true,
	}))
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println(run("SELECT user, count(), sum(ms) FROM " + table + " GROUP BY user ORDER BY user"))
	// Output:
	// ann	2	320
	// bob	1	80
}
