package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/weirstream/weir"
)

// parsed splits the sample file with the standard library alone: the lines
// that are valid payments, and the line numbers of those that are not.
func parsed(t *testing.T) (valid []Payment, bad []int) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(sample))
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			continue // header
		}
		f := strings.Split(sc.Text(), ",")
		if len(f) != 3 {
			bad = append(bad, n)
			continue
		}
		amount, err1 := strconv.ParseFloat(f[1], 64)
		ts, err2 := time.Parse(time.RFC3339, f[2])
		if err1 != nil || err2 != nil {
			bad = append(bad, n)
			continue
		}
		valid = append(valid, Payment{f[0], amount, ts})
	}
	return valid, bad
}

// expected computes the hourly totals and the late payments directly: a
// payment is late when its hour ended at or before the watermark, which is
// the largest time read so far minus 10 minutes minus 1 ms.
func expected(valid []Payment) ([]Total, []Payment) {
	type key struct {
		account string
		hour    int64
	}
	totals := map[key]*Total{}
	var late []Payment
	wm := int64(math.MinInt64)
	for _, p := range valid {
		ms := p.Time.UnixMilli()
		hour := ms - ms%3_600_000
		if hour+3_600_000-1 <= wm {
			late = append(late, p)
		} else {
			k := key{p.Account, hour}
			if totals[k] == nil {
				totals[k] = &Total{Account: p.Account, Hour: time.UnixMilli(hour).UTC()}
			}
			totals[k].Payments++
			totals[k].Amount += p.Amount
		}
		wm = max(wm, ms-10*60_000-1)
	}
	var out []Total
	for _, t := range totals {
		t.Amount = math.Round(t.Amount*100) / 100
		out = append(out, *t)
	}
	return out, late
}

func readJSON[T any](t *testing.T, dir string) []T {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "part-*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no part files in %s (%v)", dir, err)
	}
	var out []T
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			var v T
			if err := json.Unmarshal(l, &v); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, v)
		}
	}
	return out
}

func TestFileDeadLetters(t *testing.T) {
	valid, bad := parsed(t)
	wantTotals, wantLate := expected(valid)
	if len(bad) < 4 || len(wantLate) < 1 {
		t.Fatalf("the sample has %d bad lines and %d late payments; the test needs both", len(bad), len(wantLate))
	}
	input := filepath.Join(t.TempDir(), "payments.csv")
	if err := os.WriteFile(input, sample, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{1, 2} {
		out := t.TempDir()
		res, err := Run(context.Background(), input, out, p)
		if err != nil {
			t.Fatal(err)
		}
		sortTotals := cmpopts.SortSlices(func(a, b Total) bool {
			return a.Account+a.Hour.String() < b.Account+b.Hour.String()
		})
		if d := cmp.Diff(wantTotals, readJSON[Total](t, filepath.Join(out, "totals")), sortTotals); d != "" {
			t.Errorf("parallelism %d: totals differ (-want +got):\n%s", p, d)
		}
		if d := cmp.Diff(wantLate, readJSON[Payment](t, filepath.Join(out, "late")), cmpopts.SortSlices(func(a, b Payment) bool { return a.Time.Before(b.Time) })); d != "" {
			t.Errorf("parallelism %d: late payments differ (-want +got):\n%s", p, d)
		}
		dead := readJSON[weir.DeadLetter](t, filepath.Join(out, "dead-letters"))
		var lines []int
		for _, d := range dead {
			i := strings.LastIndex(d.Source, " line ")
			n, err := strconv.Atoi(d.Source[i+len(" line "):])
			if i < 0 || err != nil || d.Reason == "" {
				t.Errorf("dead letter %+v does not name its line and reason", d)
			}
			lines = append(lines, n)
		}
		if d := cmp.Diff(bad, lines, cmpopts.SortSlices(func(a, b int) bool { return a < b })); d != "" {
			t.Errorf("parallelism %d: dead-letter lines differ (-want +got):\n%s", p, d)
		}
		if len(res.DeadLetters) != len(dead) || len(res.Totals) != len(wantTotals) {
			t.Errorf("parallelism %d: Run returned %d dead letters and %d totals, files hold %d and %d",
				p, len(res.DeadLetters), len(res.Totals), len(dead), len(wantTotals))
		}
		var n int64
		for _, tot := range wantTotals {
			n += tot.Payments
		}
		if int(n)+len(wantLate)+len(bad) != bytes.Count(sample, []byte("\n"))-1 {
			t.Errorf("totals, late and dead letters do not add up to the file's lines")
		}
	}
}
