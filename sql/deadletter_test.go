package sql_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
)

// deadLetter is weir.DeadLetter as the file dead-letter output writes it.
type deadLetter struct {
	Source, Field, Reason string
	Raw                   []byte
}

// readDeadLetters reads the JSON lines of the part files under dir.
func readDeadLetters(t *testing.T, dir string) []deadLetter {
	t.Helper()
	var out []deadLetter
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var d deadLetter
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			out = append(out, d)
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// runSQL runs a script's statements; the last one is a query whose rows
// it returns as printed, sorted (the table's final rows), stopping once
// it has n rows when n > 0 (unbounded sources).
func runSQL(t *testing.T, script string, n int) []string {
	t.Helper()
	sess := sql.NewSession(sql.SessionOptions{})
	_, jobs, err := sess.ExecuteScript(script)
	if err != nil {
		t.Fatal(err)
	}
	job := jobs[len(jobs)-1]
	out := runUntilRows(t, context.Background(), job, n, 1, true)
	if strings.Contains(out, "error") || strings.Contains(out, "timed out") {
		t.Fatalf("job: %s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	sort.Strings(lines)
	return lines
}

// TestDeadLetterPathFilesystem: the malformed lines of a CSV and a JSON
// file go to 'dead-letter.path' naming file, line and field, with their
// bytes; the good lines are the result; the job does not fail.
func TestDeadLetterPathFilesystem(t *testing.T) {
	dir := t.TempDir()
	csvLines := []string{"1,ann,10", "2,bob,ten", "3,cid,30", "x,dan,40", "5,eve,50"}
	jsonLines := []string{`{"id":6,"name":"fay","n":60}`, `{"id":7,"name":"gus","n":"seventy"}`, `{"id":8,`, `{"id":9,"name":"hal","n":90}`}
	for name, lines := range map[string][]string{"in.csv": csvLines, "in.json": jsonLines} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf(`
CREATE TABLE C (id INT, name STRING, n INT) WITH ('connector' = 'filesystem', 'path' = '%[1]s/in.csv', 'format' = 'csv',
  'dead-letter.path' = '%[1]s/dl-csv');
CREATE TABLE J (id INT, name STRING, n INT) WITH ('connector' = 'filesystem', 'path' = '%[1]s/in.json', 'format' = 'json',
  'dead-letter.path' = '%[1]s/dl-json');
SELECT id, name, n FROM C UNION ALL SELECT id, name, n FROM J;
`, dir)
	got := runSQL(t, script, 0)
	want := []string{"+I[1, ann, 10]", "+I[3, cid, 30]", "+I[5, eve, 50]", "+I[6, fay, 60]", "+I[9, hal, 90]"}
	if !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	check := func(dl []deadLetter, file string, lines []string, bad map[int]string) {
		t.Helper()
		if len(dl) != len(bad) {
			t.Fatalf("%s: %d dead letters %+v, want %d", file, len(dl), dl, len(bad))
		}
		i := 0
		for _, ln := range slices.Sorted(lineNumbers(bad)) {
			d := dl[i]
			i++
			if !strings.Contains(d.Source, file) || !strings.HasSuffix(d.Source, fmt.Sprintf("line %d", ln)) {
				t.Errorf("dead letter source %q, want %s line %d", d.Source, file, ln)
			}
			if d.Field != bad[ln] {
				t.Errorf("%s line %d: field %q, want %q (%s)", file, ln, d.Field, bad[ln], d.Reason)
			}
			if string(d.Raw) != lines[ln-1] || d.Reason == "" {
				t.Errorf("%s line %d: raw %q reason %q, want raw %q and a reason", file, ln, d.Raw, d.Reason, lines[ln-1])
			}
		}
	}
	check(readDeadLetters(t, filepath.Join(dir, "dl-csv")), "in.csv", csvLines, map[int]string{2: "n", 4: "id"})
	check(readDeadLetters(t, filepath.Join(dir, "dl-json")), "in.json", jsonLines, map[int]string{2: "n", 3: ""})
}

func lineNumbers(m map[int]string) func(func(int) bool) {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestDeadLetterPathKafka: Kafka values that do not decode go to the
// dead-letter directory naming topic, partition and offset (committed
// with the job's checkpoints); the job reads on to the last, good record.
func TestDeadLetterPathKafka(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "in"); err != nil {
		t.Fatal(err)
	}
	values := []string{`{"k":"a","n":1}`, `{"k":"b","n":"two"}`, `not json`, `{"k":"c","n":3}`}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "in", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	sess := sql.NewSession(sql.SessionOptions{})
	_, jobs, err := sess.ExecuteScript(fmt.Sprintf(`
SET 'execution.checkpointing.interval' = '20 ms';
SET 'execution.checkpointing.dir' = '%[3]s';
CREATE TABLE K (k STRING, n INT) WITH ('connector' = 'kafka', 'topic' = 'in', 'properties.bootstrap.servers' = '%[1]s',
  'scan.startup.mode' = 'earliest-offset', 'format' = 'json', 'dead-letter.path' = '%[2]s');
SELECT k, n FROM K;`, strings.Join(c.ListenAddrs(), ","), dir, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	job := jobs[0]
	env := weir.NewEnvironment(job.Options())
	var mu sync.Mutex
	var rows []string
	if err := job.Build(env, func(r row.Row) error {
		mu.Lock()
		defer mu.Unlock()
		rows = append(rows, row.FormatRow(r, job.Schema().Types()))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	jc, err := env.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { jc.Cancel(); _ = jc.Wait() }()
	// Wait for both rows and both dead letters to be committed (a
	// checkpoint after they were read), polling with the test's deadline.
	var dl []deadLetter
	for ctx.Err() == nil {
		mu.Lock()
		n := len(rows)
		mu.Unlock()
		if dl = readDeadLetters(t, dir); len(dl) >= 2 && n >= 2 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	mu.Lock()
	got := append([]string(nil), rows...)
	mu.Unlock()
	if want := []string{"+I[a, 1]", "+I[c, 3]"}; !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	if len(dl) != 2 {
		t.Fatalf("dead letters %+v, want 2", dl)
	}
	for i, want := range []struct {
		src, field string
		raw        string
	}{{"topic in partition 0 offset 1", "n", values[1]}, {"topic in partition 0 offset 2", "", values[2]}} {
		if dl[i].Source != want.src || dl[i].Field != want.field || string(dl[i].Raw) != want.raw {
			t.Errorf("dead letter %d: %+v, want source %q field %q raw %q", i, dl[i], want.src, want.field, want.raw)
		}
	}
}
