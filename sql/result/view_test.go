package result

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

func viewRows(n int) []row.Row {
	rows := make([]row.Row, n)
	for i := range rows {
		rows[i] = row.Of(row.Str(fmt.Sprintf("name%d", i)), row.Int(int64(i*10)))
	}
	return rows
}

var viewSchema = row.NewSchema(row.Col("name", row.String()), row.Col("cnt", row.BigInt()))

func TestRenderView(t *testing.T) {
	at := time.Date(2026, 12, 5, 7, 32, 16, 80e6, time.UTC)
	lines := RenderView(ViewState{Schema: viewSchema, Rows: viewRows(3), Width: 100, Height: 12, Page: -1, Refresh: DefaultRefresh, Updated: at})
	if len(lines) != 12 {
		t.Fatalf("%d lines, want the screen's 12:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if got := strings.TrimSpace(lines[0]); got != "SQL Query Result (Table)" {
		t.Errorf("title %q", got)
	}
	for _, want := range []string{"Refresh: 1 s", "Page: Last of 1", "Updated: 07:32:16.080"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("status line %q lacks %q", lines[1], want)
		}
	}
	// Values right aligned under their names, as Flink's client shows them.
	want := []string{"   name  cnt", "  name0    0", "  name1   10", "  name2   20"}
	for i, w := range want {
		if lines[3+i] != w {
			t.Errorf("line %d = %q, want %q", 3+i, lines[3+i], w)
		}
	}
	if !strings.HasPrefix(lines[11], "Q Quit") || !strings.Contains(lines[11], "L Last Page") {
		t.Errorf("legend %q", lines[11])
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("line %d is %d wide", i, n)
		}
	}
}

func TestRenderViewPages(t *testing.T) {
	rows := viewRows(10) // height 8: 2 rows a page, 5 pages
	if got := Pages(len(rows), 8); got != 5 {
		t.Fatalf("Pages = %d, want 5", got)
	}
	for _, c := range []struct {
		page      int
		status    string
		firstRow  string
		pageLabel string
	}{
		{0, "Page: 1 of 5", "name0", ""},
		{1, "Page: 2 of 5", "name2", ""},
		{4, "Page: Last of 5", "name8", ""},
		{-1, "Page: Last of 5", "name8", ""},
		{9, "Page: Last of 5", "name8", ""},
	} {
		lines := RenderView(ViewState{Schema: viewSchema, Rows: rows, Width: 80, Height: 8, Page: c.page, Refresh: 0, Status: "Table program finished."})
		if !strings.Contains(lines[1], c.status) || !strings.HasPrefix(lines[1], "Table program finished.") {
			t.Errorf("page %d: status line %q, want %q and the status", c.page, lines[1], c.status)
		}
		if !strings.Contains(lines[4], c.firstRow) {
			t.Errorf("page %d: first row %q, want %s", c.page, lines[4], c.firstRow)
		}
		if len(lines) != 8 {
			t.Errorf("page %d: %d lines", c.page, len(lines))
		}
	}
}

func TestRenderViewCutsWideValues(t *testing.T) {
	long := strings.Repeat("x", 50)
	lines := RenderView(ViewState{Schema: viewSchema, Rows: []row.Row{row.Of(row.Str(long), row.Int(1))}, Width: 40, Height: 8})
	if !strings.Contains(lines[4], "...") || strings.Contains(lines[4], long) {
		t.Errorf("a 50-character value is not cut: %q", lines[4])
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > 40 {
			t.Errorf("line %d is %d wide: %q", i, n, l)
		}
	}
}

func TestRefreshLabels(t *testing.T) {
	var got []string
	for i := range RefreshRates {
		got = append(got, RefreshLabel(i))
	}
	if s := strings.Join(got, ","); s != "100 ms,500 ms,1 s,5 s,10 s,1 min,∞" {
		t.Errorf("labels %s", s)
	}
	if RefreshInterval(-3) != 100*time.Millisecond || RefreshInterval(99) != 0 {
		t.Error("RefreshInterval does not clamp")
	}
}
