package connector_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// TestFilesystemPrunesLaterPartitions checks the filesystem source's
// partition push-down: ListPartitions gives the partition directories'
// values, and the source evaluates the pushed-down predicate for every
// partition directory it finds when it runs, so a partition made after
// the plan is pruned the same way (its files are not opened: a corrupt
// one does not fail the job), and an error of the predicate fails the
// job.
func TestFilesystemPrunesLaterPartitions(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("p=1/a.csv", "1\n")
	write("p=2/a.csv", "2\n")
	write("p=__DEFAULT_PARTITION__/a.csv", "0\n")
	ctx := table(t, "src", "id BIGINT\np INT\n'connector' = 'filesystem'\n'path' = '"+dir+"'\n'format' = 'csv'")
	ctx.PartitionKeys = []int{1}

	run := func(keep func([]row.Value) (bool, error), after func()) ([]string, error) {
		t.Helper()
		var buf syncBuffer
		reg := connector.Default()
		reg.Register(connector.Print{Stdout: &buf})
		src, err := reg.CreateSource(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pp, ok := src.(connector.PartitionPushDown)
		if !ok {
			t.Fatal("the filesystem source is not a PartitionPushDown")
		}
		pp.ApplyPartitions(keep)
		after()
		sink, err := reg.CreateSink(table(t, "out", "id BIGINT\np INT\n'connector' = 'print'"))
		if err != nil {
			t.Fatal(err)
		}
		env := weir.NewEnvironment(weir.Options{Parallelism: 1})
		st, err := src.Produce(connector.BuildContext{Env: env, Prefix: "src"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sink.Consume(connector.BuildContext{Env: env, Prefix: "out"}, st); err != nil {
			t.Fatal(err)
		}
		c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		err = env.Execute(c)
		lines := buf.lines()
		sort.Strings(lines)
		return lines, err
	}

	src, err := connector.Default().CreateSource(ctx)
	if err != nil {
		t.Fatal(err)
	}
	parts, ok, err := src.(connector.PartitionPushDown).ListPartitions()
	if err != nil || !ok {
		t.Fatalf("ListPartitions: ok %v, err %v", ok, err)
	}
	var got []string
	for _, p := range parts {
		got = append(got, row.Format(p[0], row.BigInt()))
	}
	sort.Strings(got)
	if want := []string{"1", "2", "NULL"}; !slices.Equal(got, want) {
		t.Fatalf("partitions %v, want %v", got, want)
	}

	// p <> 2 (NULL is not kept); p=3 and the corrupt p=4 appear after the
	// plan.
	notTwoOrFour := func(v []row.Value) (bool, error) {
		return !v[0].IsNull() && v[0].Int() != 2 && v[0].Int() != 4, nil
	}
	lines, err := run(notTwoOrFour, func() {
		write("p=3/a.csv", "3\n")
		write("p=4/a.csv", "not-a-number\n")
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"+I[1, 1]", "+I[3, 3]"}; !slices.Equal(lines, want) {
		t.Errorf("rows %v, want %v", lines, want)
	}

	// The predicate failing on a partition fails the job.
	boom := errors.New("boom")
	_, err = run(func(v []row.Value) (bool, error) {
		if !v[0].IsNull() && v[0].Int() == 3 {
			return false, boom
		}
		return true, nil
	}, func() { _ = os.RemoveAll(filepath.Join(dir, "p=4")) })
	if !errors.Is(err, boom) {
		t.Errorf("job error %v, want %v", err, boom)
	}
}
