package result

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

// refreshIntervals are the refresh rates a live table view steps through
// with its + and - keys, as Flink's SQL client offers them; 0 stands for
// no refresh ("∞").
var refreshIntervals = [...]time.Duration{100 * time.Millisecond, 500 * time.Millisecond, time.Second, 5 * time.Second, 10 * time.Second, time.Minute, 0}

// DefaultRefresh is the index of the refresh rate a view starts with (1 s),
// and RefreshRates the number of rates (indexes 0 to RefreshRates-1, from
// fastest to none).
const (
	DefaultRefresh = 2
	RefreshRates   = len(refreshIntervals)
)

// RefreshInterval returns refresh rate i (clamped to the valid indexes);
// 0 means no refresh.
func RefreshInterval(i int) time.Duration {
	return refreshIntervals[min(max(i, 0), RefreshRates-1)]
}

// viewKeys is the key legend of the live table view (Flink's table result
// mode, without its Goto Page and Open Row).
var viewKeys = [...]string{"Q Quit", "+ Inc Refresh", "- Dec Refresh", "N Next Page", "P Prev Page", "F First Page", "L Last Page"}

// ViewState is what one screen of the live table view shows.
type ViewState struct {
	// Schema names and types the columns; Rows is the materialised
	// table, in its order.
	Schema row.Schema
	Rows   []row.Row
	// Width and Height are the screen's size in characters.
	Width, Height int
	// Page is the 0-based page shown; a negative Page, or one past the
	// last, shows the last page (which then follows new rows).
	Page int
	// Refresh is the index of the refresh rate (RefreshInterval).
	Refresh int
	// Status replaces the refresh rate in the status line once the query
	// ended ("Table program finished.", or its error).
	Status string
	// Updated is when the rows were last read.
	Updated time.Time
}

// PageSize returns how many rows fit on a screen of the given height: the
// title, the status line, a blank line, the column names and, at the
// bottom, a blank line and the key legend take 6 lines.
func PageSize(height int) int { return max(height-6, 1) }

// Pages returns the number of pages n rows take on a screen of the given
// height (at least 1).
func Pages(n, height int) int { return max((n+PageSize(height)-1)/PageSize(height), 1) }

// RenderView returns the screen of a live table view as lines (without
// line ends, none longer than the width): the title, the status line
// (refresh rate or status, page, time of the last update), the column
// names and the rows of the page, right aligned as in Flink's SQL client,
// and the key legend on the last line.
func RenderView(s ViewState) []string {
	width, height := max(s.Width, 20), max(s.Height, 8)
	pages := Pages(len(s.Rows), height)
	page := s.Page
	if page < 0 || page >= pages {
		page = pages - 1
	}
	lines := make([]string, 0, height)
	lines = append(lines, center("SQL Query Result (Table)", width))

	status := s.Status
	if status == "" {
		status = "Refresh: " + RefreshLabel(s.Refresh)
	}
	pageText := fmt.Sprintf("Page: %d of %d", page+1, pages)
	if page == pages-1 {
		pageText = fmt.Sprintf("Page: Last of %d", pages)
	}
	updated := "Updated: " + s.Updated.Format("15:04:05.000")
	lines = append(lines, spread([]string{status, pageText, updated}, width), "")

	names := s.Schema.Names()
	types := s.Schema.Types()
	lo := page * PageSize(height)
	hi := min(lo+PageSize(height), len(s.Rows))
	cells := make([][]string, 0, hi-lo)
	widths := make([]int, len(names))
	for i, n := range names {
		widths[i] = min(utf8.RuneCountInString(n), maxColumnWidth)
	}
	for _, r := range s.Rows[lo:hi] {
		vals := make([]string, len(names))
		for i := range names {
			vals[i] = cell(r.Fields[i], types[i])
			widths[i] = max(widths[i], min(utf8.RuneCountInString(vals[i]), maxColumnWidth))
		}
		cells = append(cells, vals)
	}
	lines = append(lines, clip(columns(names, widths), width))
	for _, vals := range cells {
		lines = append(lines, clip(columns(vals, widths), width))
	}
	for len(lines) < height-2 {
		lines = append(lines, "")
	}
	return append(lines, "", clip(legend(width), width))
}

// RefreshLabel names refresh rate i as the client shows it.
func RefreshLabel(i int) string {
	d := RefreshInterval(i)
	switch {
	case d == 0:
		return "∞"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	return fmt.Sprintf("%d min", int(d.Minutes()))
}

// columns right-aligns vals in columns of the given widths, cutting long
// values with "...", two spaces apart.
func columns(vals []string, widths []int) string {
	var b strings.Builder
	for i, v := range vals {
		w := widths[i]
		if utf8.RuneCountInString(v) > w {
			v = string([]rune(v)[:max(w-3, 0)]) + "..."
		}
		b.WriteString("  ")
		b.WriteString(strings.Repeat(" ", w-utf8.RuneCountInString(v)))
		b.WriteString(v)
	}
	return b.String()
}

// legend spreads the key legend over the width.
func legend(width int) string { return spread(viewKeys[:], width) }

// spread places the texts left, evenly spaced and right over the width
// (only as many as fit).
func spread(texts []string, width int) string {
	total := 0
	for _, t := range texts {
		total += utf8.RuneCountInString(t)
	}
	for total+len(texts)-1 > width && len(texts) > 1 {
		total -= utf8.RuneCountInString(texts[len(texts)-1])
		texts = texts[:len(texts)-1]
	}
	if len(texts) == 1 {
		return clip(texts[0], width)
	}
	gap := (width - total) / (len(texts) - 1)
	extra := (width - total) % (len(texts) - 1)
	var b strings.Builder
	for i, t := range texts {
		if i > 0 {
			n := gap
			if i <= extra {
				n++
			}
			b.WriteString(strings.Repeat(" ", n))
		}
		b.WriteString(t)
	}
	return b.String()
}

func center(text string, width int) string {
	n := utf8.RuneCountInString(text)
	if n >= width {
		return clip(text, width)
	}
	return strings.Repeat(" ", (width-n)/2) + text
}

// clip cuts a line to the width.
func clip(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	return string([]rune(s)[:width])
}
