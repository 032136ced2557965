package file_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
)

type event struct {
	ID     int64     `json:"id" csv:"id"`
	User   string    `json:"user" csv:"user"`
	Amount float64   `json:"amount" csv:"amount"`
	OK     bool      `json:"ok" csv:"ok"`
	At     time.Time `json:"at" csv:"at"`
	Note   *string   `json:"note,omitempty" csv:"note"`
}

func (e event) key() string {
	note := "<nil>"
	if e.Note != nil {
		note = *e.Note
	}
	return fmt.Sprintf("%d|%s|%v|%v|%s|%s", e.ID, e.User, e.Amount, e.OK, e.At.Format(time.RFC3339Nano), note)
}

func keys(es []event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.key()
	}
	slices.Sort(out)
	return out
}

// events returns n events with awkward strings: separators, quotes, line
// breaks, unicode.
func events(n int) []event {
	users := []string{"ann", "bob, jr.", `say "hi"`, "multi\nline", " lead", "ünï", "", "tab\tin"}
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	out := make([]event, n)
	for i := range out {
		out[i] = event{
			ID:     int64(i),
			User:   users[i%len(users)],
			Amount: float64(i) * 1.25,
			OK:     i%3 == 0,
			At:     base.Add(time.Duration(i) * 1500 * time.Millisecond),
		}
		if i%4 == 1 {
			s := fmt.Sprintf("note %d", i)
			out[i].Note = &s
		}
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeJSONFiles spreads es over files input files in dir, written by hand
// (not by the sink under test).
func writeJSONFiles(t *testing.T, dir string, es []event, files int) {
	t.Helper()
	bufs := make([]strings.Builder, files)
	for i, e := range es {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		bufs[i%files].Write(b)
		bufs[i%files].WriteString("\n")
	}
	for i := range bufs {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("in-%02d.jsonl", i)), bufs[i].String())
	}
}

func csvQuote(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") || strings.HasPrefix(s, " ") || strings.HasPrefix(s, "\t") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// writeCSVFiles writes es as CSV by hand, with the columns in another
// order than the struct's and CRLF line ends in odd files.
func writeCSVFiles(t *testing.T, dir string, es []event, files int) {
	t.Helper()
	bufs := make([]strings.Builder, files)
	for i := range bufs {
		bufs[i].WriteString("user,at,id,note,ok,amount,extra\n")
	}
	for i, e := range es {
		note := ""
		if e.Note != nil {
			note = *e.Note
		}
		nl := "\n"
		if (i%files)%2 == 1 {
			nl = "\r\n"
		}
		fmt.Fprintf(&bufs[i%files], "%s,%s,%d,%s,%v,%v,ignored%s", csvQuote(e.User), e.At.Format(time.RFC3339Nano), e.ID, note, e.OK, e.Amount, nl)
	}
	for i := range bufs {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("in-%02d.csv", i)), bufs[i].String())
	}
}

// pipe reads src at parallelism p, writes it with sink to out and returns
// what the source produced.
func pipe(t *testing.T, p int, src weir.Source[event], sink weir.Sink[event]) []event {
	t.Helper()
	env := weir.NewEnvironment(weir.Options{Parallelism: p})
	s := weir.FromSource(env, src, weir.NoWatermarks[event](), "files")
	got := weir.Collect(s)
	if sink != nil {
		s.SinkTo(sink)
	}
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	return got.Values()
}

func TestRoundTrip(t *testing.T) {
	in := events(500)
	want := keys(in)
	formats := []struct {
		name  string
		write func(t *testing.T, dir string, es []event, files int)
		src   func(path string) weir.Source[event]
		sink  func(dir string) weir.Sink[event]
		ext   string
	}{
		{"json", writeJSONFiles,
			func(p string) weir.Source[event] {
				return file.JSONSource[event](p, file.SourceOptions{DisallowUnknownFields: true, LinesPerPoll: 7})
			},
			func(d string) weir.Sink[event] { return file.JSONSink[event](d, file.SinkOptions{}) }, "jsonl"},
		{"csv", writeCSVFiles,
			func(p string) weir.Source[event] {
				return file.CSVSource[event](p, file.SourceOptions{LinesPerPoll: 7})
			},
			func(d string) weir.Sink[event] { return file.CSVSink[event](d, file.SinkOptions{}) }, "csv"},
	}
	for _, f := range formats {
		for _, p := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/p%d", f.name, p), func(t *testing.T) {
				dir := t.TempDir()
				inDir, outDir := filepath.Join(dir, "in"), filepath.Join(dir, "out")
				f.write(t, inDir, in, 4)
				got := pipe(t, p, f.src(inDir), f.sink(outDir))
				if g := keys(got); !slices.Equal(g, want) {
					t.Fatalf("read %d records, want %d; first differing: %v", len(g), len(want), firstDiff(g, want))
				}
				// One part file per subtask.
				parts, _ := filepath.Glob(filepath.Join(outDir, "part-*"))
				if len(parts) != p {
					t.Fatalf("%d part files, want %d: %v", len(parts), p, parts)
				}
				for i := 0; i < p; i++ {
					if _, err := os.Stat(filepath.Join(outDir, fmt.Sprintf("part-%d-0.%s", i, f.ext))); err != nil {
						t.Fatal(err)
					}
				}
				// Read what the sink wrote, at parallelism 2.
				back := pipe(t, 2, f.src(outDir), nil)
				if g := keys(back); !slices.Equal(g, want) {
					t.Fatalf("sink output read back: %d records, want %d; first differing: %v", len(g), len(want), firstDiff(g, want))
				}
			})
		}
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("%q vs %q", a[i], b[i])
		}
	}
	return "(prefix)"
}

func TestCSVHeaderOnce(t *testing.T) {
	dir := t.TempDir()
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, events(3)).SinkTo(file.CSVSink[event](dir, file.SinkOptions{Comma: ';'}))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "part-0-0.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != "id;user;amount;ok;at;note" {
		t.Fatalf("header %q", lines[0])
	}
	if strings.Count(string(b), "id;user") != 1 || len(lines) != 4 {
		t.Fatalf("want one header and 3 records:\n%s", b)
	}
	if lines[2] != `1;bob, jr.;1.25;false;2026-11-22T10:00:01.5Z;note 1` {
		t.Fatalf("record line %q", lines[2])
	}
}

func TestCSVMap(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	writeFile(t, in, "\ufeffb,a\n1,\"x,y\"\n2,z\n") // with a byte order mark
	env := weir.NewEnvironment(weir.Options{})
	s := weir.FromSource(env, file.CSVSource[map[string]string](in, file.SourceOptions{}), weir.NoWatermarks[map[string]string](), "csv")
	got := weir.Collect(s)
	s.SinkTo(file.CSVSink[map[string]string](filepath.Join(dir, "out"), file.SinkOptions{}))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	v := got.Values()
	if len(v) != 2 || v[0]["a"] != "x,y" || v[0]["b"] != "1" || v[1]["a"] != "z" || v[1]["b"] != "2" {
		t.Fatalf("got %v", v)
	}
	b, err := os.ReadFile(filepath.Join(dir, "out", "part-0-0.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "a,b\n\"x,y\",1\nz,2\n" {
		t.Fatalf("sink wrote %q", b)
	}
}

func TestListing(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.jsonl"), `{"id":2}`+"\n")
	writeFile(t, filepath.Join(dir, "a.jsonl"), `{"id":1}`)
	writeFile(t, filepath.Join(dir, "sub", "c.jsonl"), "\n  \n"+`{"id":3}`+"\n\n")
	writeFile(t, filepath.Join(dir, ".hidden.jsonl"), "not json\n")
	writeFile(t, filepath.Join(dir, "_SUCCESS"), "not json\n")
	writeFile(t, filepath.Join(dir, "_tmp", "d.jsonl"), "not json\n")
	for _, p := range []int{1, 2, 5} {
		got := pipe(t, p, file.JSONSource[event](dir, file.SourceOptions{}), nil)
		var ids []int64
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []int64{1, 2, 3}) {
			t.Fatalf("p=%d: ids %v, want [1 2 3]", p, ids)
		}
	}
}

func TestMissingPath(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{})
	weir.Collect(weir.FromSource(env, file.JSONSource[event](filepath.Join(t.TempDir(), "nope"), file.SourceOptions{}), weir.NoWatermarks[event](), "f"))
	err := env.Execute(context.Background())
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Execute = %v, want a not-exist error", err)
	}
}

func TestLongLinesAndMultilineCSV(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 200_000)
	writeFile(t, filepath.Join(dir, "a.jsonl"), `{"id":1,"user":"`+long+`"}`+"\n"+`{"id":2}`+"\n")
	writeFile(t, filepath.Join(dir, "b.csv"), "id,user\r\n3,\"first\r\nsecond, \"\"quoted\"\"\"\r\n4,"+long+"\r\n")
	got := pipe(t, 1, file.JSONSource[event](filepath.Join(dir, "a.jsonl"), file.SourceOptions{}), nil)
	if len(got) != 2 || got[0].User != long || got[1].ID != 2 {
		t.Fatalf("json: %d records", len(got))
	}
	got = pipe(t, 1, file.CSVSource[event](filepath.Join(dir, "b.csv"), file.SourceOptions{}), nil)
	if len(got) != 2 || got[0].User != "first\nsecond, \"quoted\"" || got[1].ID != 4 || got[1].User != long {
		t.Fatalf("csv: %d records, first user %q", len(got), got[0].User)
	}
}

// badCase is a file with malformed lines, the line numbers and fields at
// fault, and the ids of the good records.
type badCase struct {
	name    string
	path    string
	content string
	src     func(path string, opts file.SourceOptions) weir.Source[event]
	opts    file.SourceOptions
	bad     []badLine
	goodIDs []int64
}

type badLine struct {
	line   int
	field  string
	reason string // a part of the reason
	raw    string
}

func badCases() []badCase {
	jsonSrc := func(p string, o file.SourceOptions) weir.Source[event] { return file.JSONSource[event](p, o) }
	csvSrc := func(p string, o file.SourceOptions) weir.Source[event] { return file.CSVSource[event](p, o) }
	return []badCase{
		{
			name: "json", path: "data/x.jsonl", src: jsonSrc,
			content: `{"id":1}` + "\n\n" + `{"id":"two"}` + "\n" + `{"id":3}` + "\n" + `{"id":4,` + "\n" + `{"id":5} {"id":6}` + "\n" + `{"id":7}` + "\n null \n",
			bad: []badLine{
				{line: 3, field: "id", reason: "cannot unmarshal string", raw: `{"id":"two"}`},
				{line: 5, reason: "unexpected end of JSON input", raw: `{"id":4,`},
				{line: 6, reason: "invalid character", raw: `{"id":5} {"id":6}`},
				{line: 8, reason: "null is not a record", raw: ` null `},
			},
			goodIDs: []int64{1, 3, 7},
		},
		{
			name: "json strict", path: "x.jsonl", src: jsonSrc, opts: file.SourceOptions{DisallowUnknownFields: true},
			content: `{"id":1,"colour":"red"}` + "\n" + `{"id":2}` + "\n" + `{"id":3} x` + "\n",
			bad: []badLine{
				{line: 1, field: "colour", reason: "unknown field", raw: `{"id":1,"colour":"red"}`},
				{line: 3, reason: "after top-level value", raw: `{"id":3} x`},
			},
			goodIDs: []int64{2},
		},
		{
			name: "csv", path: "in/x.csv", src: csvSrc,
			content: "id,amount,ok,at\n1,1.5,true,2026-01-01T00:00:00Z\n2,abc,true,\n3,1,maybe,\n4,1,true,yesterday\n5,1\n6,1,true,,extra\n7,\"1\"x,true,\n8,2\"5,true,\n9,,,\n",
			bad: []badLine{
				{line: 3, field: "amount", reason: "invalid syntax", raw: "2,abc,true,"},
				{line: 4, field: "ok", reason: "invalid syntax", raw: "3,1,maybe,"},
				{line: 5, field: "at", reason: "cannot parse", raw: "4,1,true,yesterday"},
				{line: 6, reason: "2 fields, header has 4", raw: "5,1"},
				{line: 7, reason: "5 fields, header has 4", raw: "6,1,true,,extra"},
				{line: 8, reason: `extraneous or missing "`, raw: `7,"1"x,true,`},
				{line: 9, reason: `bare "`, raw: `8,2"5,true,`},
			},
			goodIDs: []int64{1, 9},
		},
		{
			name: "csv unclosed quote at end", path: "y.csv", src: csvSrc,
			content: "id,user\n1,a\n2,\"open\n3,c\n",
			bad:     []badLine{{line: 3, reason: "quoted field not closed", raw: "2,\"open\n3,c"}},
			goodIDs: []int64{1},
		},
	}
}

func TestBadLinesFail(t *testing.T) {
	for _, tc := range badCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tc.path)
			writeFile(t, path, tc.content)
			env := weir.NewEnvironment(weir.Options{})
			weir.Collect(weir.FromSource(env, tc.src(path, tc.opts), weir.NoWatermarks[event](), "files"))
			err := env.Execute(context.Background())
			if err == nil {
				t.Fatal("job with a malformed line succeeded")
			}
			first := tc.bad[0]
			want := fmt.Sprintf("file %s line %d", path, first.line)
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), first.reason) {
				t.Fatalf("error %q does not name %q and %q", err, want, first.reason)
			}
			if first.field != "" && !strings.Contains(err.Error(), fmt.Sprintf("field %q", first.field)) {
				t.Fatalf("error %q does not name field %q", err, first.field)
			}
			var bre *weir.BadRecordError
			if !errors.As(err, &bre) || !errors.Is(err, weir.ErrBadRecord) {
				t.Fatalf("error %v is not a BadRecordError", err)
			}
			if string(bre.DeadLetter.Raw) != first.raw || bre.DeadLetter.Field != first.field {
				t.Fatalf("dead letter %+v, want raw %q field %q", bre.DeadLetter, first.raw, first.field)
			}
		})
	}
}

func TestBadLinesDeadLetter(t *testing.T) {
	dlq := weir.NewOutputTag[weir.DeadLetter]("dead-letters")
	for _, tc := range badCases() {
		for _, p := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/p%d", tc.name, p), func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, tc.path)
				writeFile(t, path, tc.content)
				// A second, good file, so that p=2 reads two splits.
				good := `{"id":100}` + "\n"
				if filepath.Ext(path) == ".csv" {
					good = "id\n100\n"
				}
				writeFile(t, filepath.Join(dir, "zz", "good"+filepath.Ext(path)), good)
				opts := tc.opts
				opts.OnError = weir.DeadLetterTo(dlq)
				clock := int64(1_700_000_000_000)
				env := weir.NewEnvironment(weir.Options{Parallelism: p, Clock: func() int64 { return clock }})
				s := weir.FromSource(env, tc.src(dir, opts), weir.NoWatermarks[event](), "files")
				got := weir.Collect(s)
				dead := weir.Collect(weir.SideOutput(s, dlq))
				if err := env.Execute(context.Background()); err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for _, e := range got.Values() {
					ids = append(ids, e.ID)
				}
				slices.Sort(ids)
				if want := append(slices.Clone(tc.goodIDs), 100); !slices.Equal(ids, want) {
					t.Fatalf("good records %v, want %v", ids, want)
				}
				dl := dead.Values()
				if len(dl) != len(tc.bad) {
					t.Fatalf("%d dead letters, want %d: %+v", len(dl), len(tc.bad), dl)
				}
				slices.SortFunc(dl, func(a, b weir.DeadLetter) int { return strings.Compare(a.Source, b.Source) })
				want := slices.Clone(tc.bad)
				slices.SortFunc(want, func(a, b badLine) int {
					return strings.Compare(fmt.Sprintf("file %s line %d", path, a.line), fmt.Sprintf("file %s line %d", path, b.line))
				})
				for i, d := range dl {
					w := want[i]
					if d.Source != fmt.Sprintf("file %s line %d", path, w.line) {
						t.Errorf("dead letter %d source %q, want line %d of %s", i, d.Source, w.line, path)
					}
					if d.Field != w.field || string(d.Raw) != w.raw || !strings.Contains(d.Reason, w.reason) {
						t.Errorf("dead letter %d = {field %q raw %q reason %q}, want {%q %q ~%q}", i, d.Field, d.Raw, d.Reason, w.field, w.raw, w.reason)
					}
					if d.Time.UnixMilli() != clock {
						t.Errorf("dead letter %d time %v, want the job clock", i, d.Time)
					}
				}
			})
		}
	}
}

func TestDeadLetterWithoutReaderFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.jsonl")
	writeFile(t, path, "{\"id\":1}\nbad\n")
	env := weir.NewEnvironment(weir.Options{})
	opts := file.SourceOptions{OnError: weir.DeadLetterTo(weir.NewOutputTag[weir.DeadLetter]("dlq"))}
	weir.Collect(weir.FromSource(env, file.JSONSource[event](path, opts), weir.NoWatermarks[event](), "files"))
	err := env.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), `no stream reads dead-letter side output "dlq"`) {
		t.Fatalf("Execute = %v, want an error about the unread dead-letter output", err)
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
		strict              bool
	}{
		{"duplicate", "id,id\n1,2\n", `column "id" appears twice`, false},
		{"unknown strict", "id,colour\n1,red\n", `unknown column "colour"`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.csv")
			writeFile(t, path, tc.content)
			env := weir.NewEnvironment(weir.Options{})
			dlq := weir.NewOutputTag[weir.DeadLetter]("dlq")
			s := weir.FromSource(env, file.CSVSource[event](path, file.SourceOptions{DisallowUnknownFields: tc.strict, OnError: weir.DeadLetterTo(dlq)}), weir.NoWatermarks[event](), "files")
			weir.Collect(weir.SideOutput(s, dlq))
			err := env.Execute(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "line 1") {
				t.Fatalf("Execute = %v, want %q at line 1", err, tc.want)
			}
		})
	}
}

func TestUnsupportedCSVType(t *testing.T) {
	type bad struct {
		ID   int
		Tags []string
	}
	env := weir.NewEnvironment(weir.Options{})
	weir.Collect(weir.FromSource(env, file.CSVSource[bad](t.TempDir(), file.SourceOptions{}), weir.NoWatermarks[bad](), "f"))
	err := env.Execute(context.Background())
	if !errors.Is(err, file.ErrOptions) || !strings.Contains(err.Error(), "Tags") {
		t.Fatalf("Execute = %v, want ErrOptions naming Tags", err)
	}
}

func TestJSONSinkEncodeError(t *testing.T) {
	type m struct{ X float64 }
	dir := t.TempDir()
	env := weir.NewEnvironment(weir.Options{})
	nan := 0.0
	weir.FromSlice(env, []m{{1}, {nan / nan}}).SinkTo(file.JSONSink[m](dir, file.SinkOptions{}))
	err := env.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "part-0-0.jsonl record 2") || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("Execute = %v, want an error naming record 2 and NaN", err)
	}
}

func TestCSVMapSinkErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []map[string]string
		want string
	}{
		{"empty first", []map[string]string{{}}, "record 1: the first record has no keys"},
		{"extra key", []map[string]string{{"a": "1"}, {"a": "2", "b": "3"}}, "record 2: record has 2 keys, header has 1"},
		{"other key", []map[string]string{{"a": "1", "b": "2"}, {"a": "2", "c": "3"}}, "record 2: record has keys outside the header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := weir.NewEnvironment(weir.Options{})
			weir.FromSlice(env, tc.in).SinkTo(file.CSVSink[map[string]string](t.TempDir(), file.SinkOptions{}))
			err := env.Execute(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Execute = %v, want %q", err, tc.want)
			}
		})
	}
}
