package sql_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/udf"
)

// maxLen is a user-defined aggregate: the length of the longest string,
// with a struct accumulator that Weir keeps in checkpointed state (encoded
// by the default codec). It implements Retract, so it also aggregates
// updating input.
type maxLen struct{}

type maxLenAcc struct {
	// Counts holds how many strings of each length were seen.
	Counts map[int64]int64
}

func (maxLen) ResultType([]row.Type) (row.Type, error) { return row.BigInt(), nil }
func (maxLen) CreateAccumulator() maxLenAcc            { return maxLenAcc{Counts: map[int64]int64{}} }

func (maxLen) Accumulate(acc *maxLenAcc, args []row.Value) error {
	if !args[0].IsNull() {
		acc.Counts[int64(len(args[0].Str()))]++
	}
	return nil
}

func (maxLen) Retract(acc *maxLenAcc, args []row.Value) error {
	if !args[0].IsNull() {
		n := int64(len(args[0].Str()))
		if acc.Counts[n]--; acc.Counts[n] == 0 {
			delete(acc.Counts, n)
		}
	}
	return nil
}

func (maxLen) GetValue(acc *maxLenAcc) (row.Value, error) {
	if len(acc.Counts) == 0 {
		return row.Null(), nil
	}
	best := int64(-1)
	for n := range acc.Counts {
		best = max(best, n)
	}
	return row.Int(best), nil
}

// Register a scalar function (a typed Go function) and an aggregate
// function on a session, bind one of them to a SQL name with CREATE
// FUNCTION, and use both in a query.
func ExampleSession_CreateTemporarySystemFunction() {
	sess := sql.NewSession(sql.SessionOptions{})
	shout, err := udf.Func1(func(s string) (string, error) { return strings.ToUpper(s) + "!", nil })
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := sess.CreateTemporarySystemFunction("shout", shout); err != nil {
		fmt.Println(err)
		return
	}
	agg, err := udf.NewAggregate[maxLenAcc](maxLen{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A Flink user writes a class name after AS; in Weir it is the
	// identifier the Go function was registered under.
	if err := sess.RegisterFunction("com.example.MaxLen", agg); err != nil {
		fmt.Println(err)
		return
	}
	stmts, err := parser.Parse(`
		CREATE FUNCTION max_len AS 'com.example.MaxLen' LANGUAGE GO;
		SELECT shout(team), max_len(name) FROM (VALUES ('a', 'ann'), ('b', 'bo'), ('a', 'carla')) AS T(team, name) GROUP BY team`)
	if err != nil {
		fmt.Println(err)
		return
	}
	var job *sql.Job
	for _, st := range stmts {
		if _, job, err = sess.Execute(st); err != nil {
			fmt.Println(err)
			return
		}
	}
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	types := job.Schema().Types()
	if err := job.Build(env, func(r row.Row) error {
		fmt.Println(row.FormatRow(r, types))
		return nil
	}); err != nil {
		fmt.Println(err)
		return
	}
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// +I[A!, 3]
	// +I[B!, 2]
	// -U[A!, 3]
	// +U[A!, 5]
}

// Overload gives one SQL name several implementations: each call binds to
// one by its argument types when the query is planned.
func ExampleSession_CreateTemporarySystemFunction_overloaded() {
	sess := sql.NewSession(sql.SessionOptions{})
	byInt, err := udf.Func1(func(x int64) (string, error) { return fmt.Sprintf("number %d", x), nil })
	if err != nil {
		fmt.Println(err)
		return
	}
	byString, err := udf.Func1(func(s string) (string, error) { return "text " + s, nil })
	if err != nil {
		fmt.Println(err)
		return
	}
	describe, err := udf.Overload(byInt, byString)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := sess.CreateTemporarySystemFunction("describe", describe); err != nil {
		fmt.Println(err)
		return
	}
	stmts, err := parser.Parse(`SELECT describe(42), describe('forty-two')`)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, job, err := sess.Execute(stmts[0])
	if err != nil {
		fmt.Println(err)
		return
	}
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	types := job.Schema().Types()
	if err := job.Build(env, func(r row.Row) error {
		fmt.Println(row.FormatRow(r, types))
		return nil
	}); err != nil {
		fmt.Println(err)
		return
	}
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// +I[number 42, text forty-two]
}
