package sql

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/parser"
)

// A plain table read from a given stream checks its rowtime column in an
// operator of its own (rowtimeNullOp), which hands runs down without
// copying them: a NULL rowtime fails the job after the rows before it
// went down, as one by one.
func TestRowtimeNullCheck(t *testing.T) {
	sess := NewSession(SessionOptions{})
	stmts, err := parser.Parse(`CREATE TABLE T (id BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen');
SELECT id FROM T WHERE id > 0;`)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sess.Execute(stmts[0]); err != nil {
		t.Fatal(err)
	}
	_, job, err := sess.Execute(stmts[1])
	if err != nil {
		t.Fatal(err)
	}
	var in []weir.TimestampedValue[row.Row]
	for i := int64(1); i <= 100; i++ {
		ts := row.Timestamp(i*1000, 0)
		if i == 60 {
			ts = row.Null()
		}
		in = append(in, weir.TimestampedValue[row.Row]{Value: row.Row{Fields: []row.Value{row.Int(i), ts}}, TS: i * 1000})
	}
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	src := weir.FromTimestamped(env, in, weir.ForBoundedOutOfOrderness[row.Row](time.Second))
	var got []int64
	if err := job.BuildOn(env, map[string]weir.Stream[row.Row]{"T": src}, func(r row.Row) error {
		got = append(got, r.Fields[0].Int())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	err = env.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the rowtime column ts of row +I[60, NULL] is NULL; a rowtime must not be NULL") {
		t.Fatalf("error %v, want the NULL rowtime of row 60", err)
	}
	if len(got) != 59 || got[0] != 1 || got[58] != 59 {
		t.Fatalf("%d rows went down before the failure (%v), want 1..59", len(got), got)
	}
}
