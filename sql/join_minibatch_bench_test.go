package sql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/parser"
)

// mbJoinBenchInputs are the changelogs of BenchmarkMiniBatchJoin, n rows
// in all: L (u, n) is a running count per user of users users, as a GROUP
// BY emits it (+I, then -U and +U per update), R (u, name) a dimension of
// the users, inserted first and updated (-U, +U) every 50 rows of L.
func mbJoinBenchInputs(n, users int) (l, r []row.Row) {
	rng := rand.New(rand.NewPCG(3, 5))
	counts := make([]int64, users)
	names := make([]int, users)
	for u := range users {
		r = append(r, row.Of(row.Int(int64(u)), row.Str(fmt.Sprint("user-", u, "-0"))))
	}
	for len(l)+len(r) < n {
		u := rng.IntN(users)
		if counts[u] == 0 {
			l = append(l, row.Of(row.Int(int64(u)), row.Int(1)))
		} else {
			l = append(l, row.Of(row.Int(int64(u)), row.Int(counts[u])).WithKind(row.UpdateBefore),
				row.Of(row.Int(int64(u)), row.Int(counts[u]+1)).WithKind(row.UpdateAfter))
		}
		counts[u]++
		if len(l)%50 == 0 {
			v := rng.IntN(users)
			r = append(r, row.Of(row.Int(int64(v)), row.Str(fmt.Sprint("user-", v, "-", names[v]))).WithKind(row.UpdateBefore))
			names[v]++
			r = append(r, row.Of(row.Int(int64(v)), row.Str(fmt.Sprint("user-", v, "-", names[v]))).WithKind(row.UpdateAfter))
		}
	}
	return l, r
}

// BenchmarkMiniBatchJoin runs a LEFT JOIN of two changelog tables
// (mbJoinBenchInputs, 200 or 20000 users) with mini-batch off and on
// (allow-latency 1 s, size 1000) at parallelism 1 on the engine (env.Execute), one op per
// input row; the output goes to a no-op collector. cpu_s is the process's
// CPU time (user + system) over the run, rec/s/core the rows per CPU
// second, out/rec the output rows per input row.
func BenchmarkMiniBatchJoin(b *testing.B) {
	for _, users := range []int{200, 20000} {
		for _, mb := range []bool{false, true} {
			name := fmt.Sprintf("users=%d/off", users)
			if mb {
				name = fmt.Sprintf("users=%d/on", users)
			}
			b.Run(name, func(b *testing.B) { benchMBJoin(b, users, mb) })
		}
	}
}

func benchMBJoin(b *testing.B, users int, mb bool) {
	l, r := mbJoinBenchInputs(b.N, users)
	sess := NewSession(SessionOptions{})
	script := `CREATE TABLE L (u BIGINT, n BIGINT) WITH ('connector' = 'filesystem', 'path' = '/nonexistent-mbjoin', 'format' = 'debezium-json');
CREATE TABLE R (u BIGINT, name STRING) WITH ('connector' = 'filesystem', 'path' = '/nonexistent-mbjoin', 'format' = 'debezium-json');
SET 'table.exec.mini-batch.enabled' = '` + fmt.Sprint(mb) + `';
SET 'table.exec.mini-batch.allow-latency' = '1 s';
SET 'table.exec.mini-batch.size' = '1000';
SELECT L.u, L.n, R.name FROM L LEFT JOIN R ON L.u = R.u;`
	stmts, err := parser.Parse(script)
	if err != nil {
		b.Fatal(err)
	}
	var job *Job
	for _, st := range stmts {
		if _, job, err = sess.Execute(st); err != nil {
			b.Fatal(err)
		}
	}
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	out := 0
	err = job.BuildOn(env, map[string]weir.Stream[row.Row]{"L": weir.FromSlice(env, l), "R": weir.FromSlice(env, r)},
		func(row.Row) error { out++; return nil })
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	if err := env.Execute(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu := (cpuTime() - cpu0).Seconds()
	n := float64(len(l) + len(r))
	b.ReportMetric(cpu, "cpu_s")
	b.ReportMetric(n/cpu, "rec/s/core")
	b.ReportMetric(float64(out)/n, "out/rec")
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
