package nexmark

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
)

func TestFilesRoundTripAndRun(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig(6000, 11)
	cfg.Rate = 100
	c, err := WriteFiles(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.Persons != 120 || c.Auctions != 360 || c.Bids != 5520 {
		t.Fatalf("counts %+v, want 120:360:5520", c)
	}
	got, err := ReadFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(want, func(a, b Event) int {
		if a.Timestamp() != b.Timestamp() {
			return int(a.Timestamp() - b.Timestamp())
		}
		return int(a.Type) - int(b.Type)
	})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events read back differ from the generated ones")
	}
	b, err := os.ReadFile(filepath.Join(dir, BidFile))
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	for _, f := range []string{`"auction":`, `"bidder":`, `"price":`, `"channel":`, `"url":"https://`, `"dateTime":"2024-01-01T00:00:00.`, `Z","extra":"`} {
		if !strings.Contains(line, f) {
			t.Errorf("bid line %s lacks %s", line, f)
		}
	}
	for _, q := range Queries() {
		if !q.Deterministic {
			continue
		}
		rows, err := Run(context.Background(), q, got, weir.Options{Parallelism: 2})
		if err != nil {
			t.Fatal(err)
		}
		if d := diffRows(rows, q.Reference(want)); d != "" {
			t.Errorf("%s over files: %s", q.Name, d)
		}
	}
}
