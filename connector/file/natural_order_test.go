package file

import (
	"slices"
	"testing"
)

func TestSortNumeric(t *testing.T) {
	got := []string{"d/part-1-0.json", "d/part-0-10.json", "d/part-0-2.json", "d/part-0-002.json", "d/part-0-1.json", "d/a", "d/part-10-0.json", "d/part-2-0.json"}
	sortNumeric(got)
	want := []string{"d/a", "d/part-0-1.json", "d/part-0-2.json", "d/part-0-002.json", "d/part-0-10.json", "d/part-1-0.json", "d/part-2-0.json", "d/part-10-0.json"}
	if !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	for _, p := range [][2]string{{"x1", "x1"}, {"", ""}} {
		if c := compareNumeric(p[0], p[1]); c != 0 {
			t.Errorf("compareNumeric(%q, %q) = %d, want 0", p[0], p[1], c)
		}
	}
	if compareNumeric("x", "x1") >= 0 || compareNumeric("x1", "x") <= 0 {
		t.Error("a prefix must sort first")
	}
}
