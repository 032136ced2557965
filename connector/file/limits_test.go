package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
)

// runDeadLetters reads src and returns the ids of the good records and the
// dead letters, or the job's error.
func runDeadLetters(t *testing.T, src func(opts file.SourceOptions) weir.Source[event], opts file.SourceOptions) ([]int64, []weir.DeadLetter, error) {
	t.Helper()
	dlq := weir.NewOutputTag[weir.DeadLetter]("dlq")
	env := weir.NewEnvironment(weir.Options{})
	if opts.OnError == (weir.ErrorPolicy{}) {
		s := weir.FromSource(env, src(opts), weir.NoWatermarks[event](), "files")
		got := weir.Collect(s)
		err := env.Execute(context.Background())
		return idsOf(got.Values()), nil, err
	}
	opts.OnError = weir.DeadLetterTo(dlq)
	s := weir.FromSource(env, src(opts), weir.NoWatermarks[event](), "files")
	got := weir.Collect(s)
	dead := weir.Collect(weir.SideOutput(s, dlq))
	err := env.Execute(context.Background())
	return idsOf(got.Values()), dead.Values(), err
}

func idsOf(es []event) []int64 {
	var ids []int64
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	return ids
}

// A record over MaxRecordBytes is a bad record of its file and line; the
// lines after it are read. Lines longer than the read buffer (64 KiB) are
// skipped without being held whole.
func TestMaxRecordBytes(t *testing.T) {
	dlq := weir.DeadLetterTo(weir.NewOutputTag[weir.DeadLetter]("x"))
	for _, tc := range []struct {
		name     string
		max      int
		content  string
		csv      bool
		badLines []int
		good     []int64
	}{
		{name: "short line", max: 1000, content: `{"id":1}` + "\n" + `{"id":2,"user":"` + strings.Repeat("x", 5000) + `"}` + "\n" + `{"id":3}` + "\n",
			badLines: []int{2}, good: []int64{1, 3}},
		{name: "over the read buffer", max: 100_000, content: `{"id":1}` + "\n" + `{"id":2,"user":"` + strings.Repeat("x", 300_000) + `"}` + "\r\n" + `{"id":3}` + "\n",
			badLines: []int{2}, good: []int64{1, 3}},
		{name: "last line without newline", max: 100_000, content: `{"id":1}` + "\n" + `{"id":2,"user":"` + strings.Repeat("x", 300_000) + `"}`,
			badLines: []int{2}, good: []int64{1}},
		{name: "exactly at the limit", max: len(`{"id":2,"user":"xxxx"}`), content: `{"id":2,"user":"xxxx"}` + "\r\n" + `{"id":3}`,
			good: []int64{2, 3}},
		{name: "csv line", max: 1000, csv: true, content: "id,user\n1,a\n2," + strings.Repeat("y", 2000) + "\n3,c\n",
			badLines: []int{3}, good: []int64{1, 3}},
		{name: "csv quoted field over lines", max: 1000, csv: true,
			content: "id,user\n1,a\n2,\"" + strings.Repeat("multi\n", 400) + "\"\n3,c\n",
			// The record from line 3 is cut where it crosses the limit;
			// reading resumes after that line, inside the quoted field, so
			// the rest of it is read as records too (of one field: bad).
			badLines: nil, good: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.jsonl")
			src := func(o file.SourceOptions) weir.Source[event] { return file.JSONSource[event](path, o) }
			if tc.csv {
				path = filepath.Join(t.TempDir(), "in.csv")
				src = func(o file.SourceOptions) weir.Source[event] { return file.CSVSource[event](path, o) }
			}
			writeFile(t, path, tc.content)
			ids, dead, err := runDeadLetters(t, src, file.SourceOptions{MaxRecordBytes: tc.max, OnError: dlq})
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "csv quoted field over lines" {
				// The over-long record is a dead letter from line 3, whatever follows.
				if len(dead) == 0 || dead[0].Source != fmt.Sprintf("file %s line 3", path) || !strings.Contains(dead[0].Reason, "longer than the limit of 1000 bytes") {
					t.Fatalf("dead letters %+v, want the record of line 3 first", dead)
				}
				if !slices.Contains(ids, 1) || slices.Contains(ids, 2) {
					t.Fatalf("good records %v", ids)
				}
				return
			}
			if !slices.Equal(ids, tc.good) {
				t.Fatalf("good records %v, want %v", ids, tc.good)
			}
			if len(dead) != len(tc.badLines) {
				t.Fatalf("%d dead letters, want lines %v: %+v", len(dead), tc.badLines, dead)
			}
			for i, d := range dead {
				if d.Source != fmt.Sprintf("file %s line %d", path, tc.badLines[i]) || !strings.Contains(d.Reason, fmt.Sprintf("longer than the limit of %d bytes", tc.max)) {
					t.Errorf("dead letter %q: %q, want line %d", d.Source, d.Reason, tc.badLines[i])
				}
				if len(d.Raw) == 0 || len(d.Raw) > 1024 {
					t.Errorf("dead letter keeps %d bytes of the record, want its first KiB", len(d.Raw))
				}
			}
			// Under the default policy the job fails, naming the line.
			if len(tc.badLines) > 0 {
				_, _, err := runDeadLetters(t, src, file.SourceOptions{MaxRecordBytes: tc.max})
				var bre *weir.BadRecordError
				if !errors.As(err, &bre) || !strings.Contains(err.Error(), fmt.Sprintf("file %s line %d", path, tc.badLines[0])) {
					t.Fatalf("Execute = %v, want a bad record at line %d", err, tc.badLines[0])
				}
			}
		})
	}
}

// The default limit holds: a line of DefaultMaxRecordBytes+1 bytes is bad.
func TestDefaultMaxRecordBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.jsonl")
	writeFile(t, path, `{"id":1,"user":"`+strings.Repeat("x", file.DefaultMaxRecordBytes)+`"}`+"\n")
	_, _, err := runDeadLetters(t, func(o file.SourceOptions) weir.Source[event] { return file.JSONSource[event](path, o) }, file.SourceOptions{})
	if !errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("Execute = %v, want a bad record at line 1", err)
	}
}

// required has fields FailOnMissingField requires and some it does not.
type required struct {
	Key   string  `json:"key"`
	Seq   int64   `json:"seq"`
	Note  *string `json:"note"`            // required, may be null
	Extra string  `json:"extra,omitempty"` // optional
	Skip  int     `json:"-"`
	embedded
}

type embedded struct {
	Value int64 `json:"value"`
}

// With FailOnMissingField a JSON object lacking a field of the record type
// (or with null for a field that cannot be nil) is a bad record naming the
// field; without it the field is zero-filled as before.
func TestFailOnMissingField(t *testing.T) {
	lines := []string{
		`{"key":"a","seq":1,"note":"n","value":10}`,
		`{"key":"a"}`,
		`{}`,
		`{"key":"b","seq":null,"note":null,"value":3}`,
		`{"key":"c","seq":4,"note":null,"value":4,"extra":"e"}`,
		`{"KEY":"d","Seq":5,"note":"x","Value":5}`,
		`{"key":"e","seq":6,"note":"x"}`,
		`{"k\u0065y":"f","seq":7,"note":"x","value":{"x":[1,"}"]}}`,
		`null`,
	}
	path := filepath.Join(t.TempDir(), "in.jsonl")
	writeFile(t, path, strings.Join(lines, "\n")+"\n")
	dlq := weir.NewOutputTag[weir.DeadLetter]("dlq")
	env := weir.NewEnvironment(weir.Options{})
	s := weir.FromSource(env, file.JSONSource[required](path, file.SourceOptions{FailOnMissingField: true, OnError: weir.DeadLetterTo(dlq)}), weir.NoWatermarks[required](), "files")
	got := weir.Collect(s)
	dead := weir.Collect(weir.SideOutput(s, dlq))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range got.Values() {
		keys = append(keys, r.Key)
	}
	slices.Sort(keys)
	if want := []string{"a", "c", "d"}; !slices.Equal(keys, want) {
		t.Fatalf("good records %v, want %v", keys, want)
	}
	var bad []string
	for _, d := range dead.Values() {
		bad = append(bad, fmt.Sprintf("%s|%s|%s", strings.TrimPrefix(d.Source, "file "+path+" "), d.Field, d.Reason))
	}
	slices.Sort(bad)
	want := []string{
		`line 2|seq|missing field "seq"`,
		`line 3|key|missing field "key"`,
		`line 4|seq|field "seq" is null`,
		`line 7|value|missing field "value"`,
		`line 8|embedded.value|json: cannot unmarshal object into Go struct field required.embedded.value of type int64`,
		`line 9||null is not a record`,
	}
	if !slices.Equal(bad, want) {
		t.Fatalf("dead letters\n%s\nwant\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}

	// Without the option the fields are zero-filled, as before.
	env = weir.NewEnvironment(weir.Options{})
	lax := weir.FromSource(env, file.JSONSource[required](path, file.SourceOptions{OnError: weir.DeadLetterTo(dlq)}), weir.NoWatermarks[required](), "files")
	n := weir.Collect(lax)
	weir.Collect(weir.SideOutput(lax, dlq))
	if err := env.Execute(context.Background()); err != nil || len(n.Values()) != 7 {
		t.Fatalf("without FailOnMissingField: %v, %d records, want 7", err, len(n.Values()))
	}

	// The option needs a struct.
	env = weir.NewEnvironment(weir.Options{})
	weir.Collect(weir.FromSource(env, file.JSONSource[map[string]any](path, file.SourceOptions{FailOnMissingField: true}), weir.NoWatermarks[map[string]any](), "files"))
	if err := env.Execute(context.Background()); !errors.Is(err, file.ErrOptions) {
		t.Fatalf("Execute = %v, want ErrOptions", err)
	}
}

// JSON whitespace is space, tab, CR and LF: a value followed by a vertical
// tab or a form feed is not valid JSON in either mode (the strict mode took
// bytes.TrimSpace's wider set), nor is trailing garbage.
func TestJSONWhitespace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.jsonl")
	writeFile(t, path, "{\"id\":1}\v\n{\"id\":2}\f\n \t{\"id\":3}\t \r\n{\"id\":4} GARBAGE\n\v\n")
	for _, strict := range []bool{false, true} {
		ids, dead, err := runDeadLetters(t, func(o file.SourceOptions) weir.Source[event] { return file.JSONSource[event](path, o) },
			file.SourceOptions{DisallowUnknownFields: strict, OnError: weir.DeadLetterTo(weir.NewOutputTag[weir.DeadLetter]("x"))})
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, d := range dead {
			lines = append(lines, strings.TrimPrefix(d.Source, "file "+path+" "))
		}
		if !slices.Equal(ids, []int64{3}) || !slices.Equal(lines, []string{"line 1", "line 2", "line 4", "line 5"}) {
			t.Fatalf("strict=%v: good %v, bad %v; want good [3], bad lines 1, 2, 4, 5", strict, ids, lines)
		}
	}
}

// A CSV header that shares no column with the record type fails the job
// (every record would be the zero value); unknown columns next to known
// ones are ignored with a warning.
func TestCSVHeaderColumns(t *testing.T) {
	dir := t.TempDir()
	none := filepath.Join(dir, "none.csv")
	writeFile(t, none, "colour,size\nred,3\n")
	_, _, err := runDeadLetters(t, func(o file.SourceOptions) weir.Source[event] { return file.CSVSource[event](none, o) },
		file.SourceOptions{OnError: weir.DeadLetterTo(weir.NewOutputTag[weir.DeadLetter]("x"))})
	if !errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), "no column matches a field") || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("Execute = %v, want a header error at line 1", err)
	}

	some := filepath.Join(dir, "some.csv")
	writeFile(t, some, "id,colour\n7,red\n")
	var logs bytes.Buffer
	env := weir.NewEnvironment(weir.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	got := weir.Collect(weir.FromSource(env, file.CSVSource[event](some, file.SourceOptions{}), weir.NoWatermarks[event](), "files"))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ids := idsOf(got.Values()); !slices.Equal(ids, []int64{7}) {
		t.Fatalf("records %v", ids)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "colour") || !strings.Contains(logs.String(), some) {
		t.Fatalf("no warning naming the file and the unknown column:\n%s", logs.String())
	}

	// A map type takes any header.
	env = weir.NewEnvironment(weir.Options{})
	m := weir.Collect(weir.FromSource(env, file.CSVSource[map[string]string](none, file.SourceOptions{}), weir.NoWatermarks[map[string]string](), "files"))
	if err := env.Execute(context.Background()); err != nil || len(m.Values()) != 1 {
		t.Fatalf("map: %v, %d records", err, len(m.Values()))
	}
}

type csvRequired struct {
	Key  string   `csv:"key"`
	Seq  int64    `csv:"seq"`
	Note *float64 `csv:"note"`
}

// With FailOnMissingField an empty CSV cell is a bad record naming its
// column, except for strings and pointers; without it the cell is the zero
// value.
func TestCSVFailOnMissingField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.csv")
	writeFile(t, path, "key,seq,note\na,1,2.5\n,2,\nc,,1\n")
	for _, strict := range []bool{true, false} {
		dlq := weir.NewOutputTag[weir.DeadLetter]("dlq")
		env := weir.NewEnvironment(weir.Options{})
		s := weir.FromSource(env, file.CSVSource[csvRequired](path, file.SourceOptions{FailOnMissingField: strict, OnError: weir.DeadLetterTo(dlq)}), weir.NoWatermarks[csvRequired](), "files")
		got := weir.Collect(s)
		dead := weir.Collect(weir.SideOutput(s, dlq))
		if err := env.Execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		var bad []string
		for _, d := range dead.Values() {
			bad = append(bad, fmt.Sprintf("%s|%s", strings.TrimPrefix(d.Source, "file "+path+" "), d.Field))
		}
		wantGood, wantBad := 3, []string(nil)
		if strict {
			wantGood, wantBad = 2, []string{"line 4|seq"}
		}
		if len(got.Values()) != wantGood || !slices.Equal(bad, wantBad) {
			t.Errorf("FailOnMissingField %v: %d good records %v, dead letters %v; want %d and %v",
				strict, len(got.Values()), got.Values(), bad, wantGood, wantBad)
		}
	}
}
