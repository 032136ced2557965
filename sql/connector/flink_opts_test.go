package connector_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql/connector"
)

// TestFlinkOptionValues: the Flink options taken by the opts branch are
// accepted with good values and refused with bad ones, the error naming
// the option.
func TestFlinkOptionValues(t *testing.T) {
	fsJSON := "id BIGINT\ns STRING\n'connector' = 'filesystem'\n'path' = '/nonexistent-flinkopts'\n'format' = 'json'\n"
	kafkaJSON := "id BIGINT\ns STRING\n'connector' = 'kafka'\n'topic' = 't'\n'properties.bootstrap.servers' = 'localhost:1'\n'format' = 'json'\n"
	upsertJSON := "id BIGINT\ns STRING\n'connector' = 'upsert-kafka'\n'topic' = 't'\n'properties.bootstrap.servers' = 'localhost:1'\n'key.format' = 'json'\n'value.format' = 'json'\n"
	fsRaw := "s STRING\n'connector' = 'filesystem'\n'path' = '/nonexistent-flinkopts'\n'format' = 'raw'\n"
	kafkaRawKey := "id BYTES\ns STRING\n'connector' = 'kafka'\n'topic' = 't'\n'properties.bootstrap.servers' = 'localhost:1'\n'format' = 'json'\n'key.format' = 'raw'\n'key.fields' = 'id'\n'value.fields-include' = 'EXCEPT_KEY'\n"
	cases := []struct {
		name, spec string
		sink       bool
		key, good  string
		bad        string
	}{
		{"fs-json-ignore-null-sink", fsJSON, true, "json.encode.ignore-null-fields", "TRUE", "yes"},
		{"fs-json-ignore-null-source", fsJSON, false, "json.encode.ignore-null-fields", "false", "1"},
		{"fs-json-parser-source", fsJSON, false, "json.decode.json-parser.enabled", "false", "maybe"},
		{"fs-json-parser-sink", fsJSON, true, "json.decode.json-parser.enabled", "true", ""},
		{"kafka-json-ignore-null", kafkaJSON, true, "json.encode.ignore-null-fields", "true", "on"},
		{"upsert-value-ignore-null", upsertJSON, true, "value.json.encode.ignore-null-fields", "true", "x"},
		{"upsert-key-parser", upsertJSON, false, "key.json.decode.json-parser.enabled", "false", "x"},
		{"fs-csv-scientific-sink", strings.Replace(fsJSON, "'json'", "'csv'", 1), true, "csv.write-bigdecimal-in-scientific-notation", "False", "no"},
		{"kafka-csv-scientific", strings.Replace(kafkaJSON, "'json'", "'csv'", 1), true, "csv.write-bigdecimal-in-scientific-notation", "true", "2"},
		{"fs-report-statistics-source", fsJSON, false, "source.report-statistics", "none", "SOME"},
		{"fs-report-statistics-sink", fsJSON, true, "source.report-statistics", "ALL", ""},
		{"fs-raw-endianness-source", fsRaw, false, "raw.endianness", "LITTLE-endian", "BIG_ENDIAN"},
		{"fs-raw-endianness-sink", fsRaw, true, "raw.endianness", "big-endian", "little"},
		{"kafka-key-raw-endianness", kafkaRawKey, true, "key.raw.endianness", "little-endian", ""},
	}
	reg := connector.Default()
	create := func(ctx connector.Context, sink bool) error {
		ctx.PrimaryKey = []int{0}
		var err error
		if sink {
			_, err = reg.CreateSink(ctx)
		} else {
			_, err = reg.CreateSource(ctx)
		}
		return err
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := table(t, "t", c.spec+"'"+c.key+"' = '"+c.good+"'\n")
			if err := create(ctx, c.sink); err != nil {
				t.Fatalf("%s = %s refused: %v", c.key, c.good, err)
			}
			ctx = table(t, "t", c.spec+"'"+c.key+"' = '"+c.bad+"'\n")
			err := create(ctx, c.sink)
			if err == nil || !strings.Contains(err.Error(), "'"+c.key+"'") || strings.Contains(err.Error(), "Unsupported options") {
				t.Fatalf("%s = %q: got %v, want an invalid-value error naming the option", c.key, c.bad, err)
			}
		})
	}
}

// TestFilesystemRawEndianness: raw.endianness orders the bytes of numeric
// columns in Flink; a STRING column (all Weir's raw format takes) is read
// and written unchanged whichever it is.
func TestFilesystemRawEndianness(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeFile(t, filepath.Join(in, "a.raw"), "ab\u00e9\nxyz\n")
	for _, e := range []string{"big-endian", "little-endian"} {
		out := filepath.Join(t.TempDir(), "out")
		src := table(t, "src", "s STRING\n'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'raw'\n'raw.endianness' = '"+e+"'\n")
		sink := table(t, "dst", "s STRING\n'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'raw'\n'raw.endianness' = '"+e+"'\n")
		if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, sink, connector.BuildContext{}); err != nil {
			t.Fatal(err)
		}
		if got, want := committed(t, out), []string{"ab\u00e9", "xyz"}; !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", e, got, want)
		}
	}
}

// TestFilesystemJSONIgnoreNullFields: json.encode.ignore-null-fields
// leaves NULL fields out of the written objects (nested ROWs too), as
// Flink's json format; without it they are written as null.
func TestFilesystemJSONIgnoreNullFields(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeFile(t, filepath.Join(in, "a.json"), `{"id": 1, "s": null, "r": {"x": null, "y": "b"}}
{"id": null, "s": "a", "r": null}
`)
	cols := "id BIGINT\ns STRING\nr ROW<x INT, y STRING>\n"
	for _, tc := range []struct {
		opt  string
		want []string
	}{
		{"", []string{`{"id":1,"s":null,"r":{"x":null,"y":"b"}}`, `{"id":null,"s":"a","r":null}`}},
		{"'json.encode.ignore-null-fields' = 'false'\n", []string{`{"id":1,"s":null,"r":{"x":null,"y":"b"}}`, `{"id":null,"s":"a","r":null}`}},
		{"'json.encode.ignore-null-fields' = 'true'\n", []string{`{"id":1,"r":{"y":"b"}}`, `{"s":"a"}`}},
	} {
		out := filepath.Join(t.TempDir(), "out")
		src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'json'\n'json.decode.json-parser.enabled' = 'false'\n")
		sink := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'json'\n"+tc.opt)
		env := weir.NewEnvironment(weir.Options{})
		if err := runJob(t, connector.Default(), env, src, sink, connector.BuildContext{}); err != nil {
			t.Fatal(err)
		}
		if got := committed(t, out); !slices.Equal(got, tc.want) {
			t.Errorf("%q: got\n%s\nwant\n%s", tc.opt, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

// planOf builds src → sink on an environment of parallelism 3 without
// running it and returns each operator's uid → its vertex's parallelism
// and vertex id.
func planOf(t *testing.T, src, sink connector.Context) (par, vertex map[string]int) {
	t.Helper()
	reg := connector.Default()
	s, err := reg.CreateSource(src)
	if err != nil {
		t.Fatal(err)
	}
	k, err := reg.CreateSink(sink)
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(weir.Options{Parallelism: 3})
	b := connector.BuildContext{Env: env, Prefix: src.Table}
	st, err := s.Produce(b)
	if err != nil {
		t.Fatal(err)
	}
	b.Prefix = sink.Table
	if _, err := k.Consume(b, st); err != nil {
		t.Fatal(err)
	}
	par, vertex = map[string]int{}, map[string]int{}
	for _, v := range env.Plan().Vertices {
		for _, op := range v.Operators {
			if op.UID != "" {
				par[op.UID], vertex[op.UID] = v.Parallelism, v.ID
			}
		}
	}
	return par, vertex
}

// TestScanAndSinkParallelism: kafka and upsert-kafka take
// scan.parallelism (the source and the filter dropping skipped records
// run at it, chained; upsert-kafka's ChangelogNormalize at the job's), the
// filesystem sink sink.parallelism (the writer; a partition committer
// stays at 1). Values below 1 are refused naming the option.
func TestScanAndSinkParallelism(t *testing.T) {
	dir := t.TempDir()
	kafkaSrc := "id BIGINT\ns STRING\n'connector' = 'kafka'\n'topic' = 't'\n'properties.bootstrap.servers' = 'localhost:1'\n'format' = 'json'\n'scan.startup.mode' = 'earliest-offset'\n"
	upsertSrc := "id BIGINT\ns STRING\n'connector' = 'upsert-kafka'\n'topic' = 't'\n'properties.bootstrap.servers' = 'localhost:1'\n'key.format' = 'json'\n'value.format' = 'json'\n"
	blackhole := "id BIGINT\ns STRING\n'connector' = 'blackhole'\n"
	fsSink := "id BIGINT\ns STRING\n'connector' = 'filesystem'\n'path' = '" + filepath.Join(dir, "out") + "'\n'format' = 'csv'\n"
	partSink := "id BIGINT\ns STRING\n'connector' = 'filesystem'\n'path' = '" + filepath.Join(dir, "part") + "'\n'format' = 'csv'\n'sink.partition-commit.policy.kind' = 'success-file'\n"
	gen := "id BIGINT\ns STRING\n'connector' = 'datagen'\n'number-of-rows' = '1'\n"
	for _, tc := range []struct {
		name, src, sink string
		want            map[string]int // uid → parallelism
		chained         [2]string      // two uids in one vertex
	}{
		{"kafka", kafkaSrc + "'scan.parallelism' = '2'\n", blackhole,
			map[string]int{"src-source": 2, "src-drop-skipped": 2}, [2]string{"src-source", "src-drop-skipped"}},
		{"kafka-default", kafkaSrc, blackhole,
			map[string]int{"src-source": 3, "src-drop-skipped": 3}, [2]string{"src-source", "src-drop-skipped"}},
		{"upsert-kafka", upsertSrc + "'scan.parallelism' = '1'\n", blackhole,
			map[string]int{"src-source": 1, "src-drop-skipped": 1, "src-changelog-normalize": 3}, [2]string{"src-source", "src-drop-skipped"}},
		{"filesystem-sink", gen, fsSink + "'sink.parallelism' = '2'\n",
			map[string]int{"dst-sink": 2}, [2]string{}},
		{"filesystem-sink-default", gen, fsSink,
			map[string]int{"dst-sink": 3}, [2]string{}},
		{"filesystem-partitioned-commit", gen, partSink + "'sink.parallelism' = '2'\n",
			map[string]int{"dst-sink": 2, "dst-partition-committer": 1}, [2]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, sink := table(t, "src", tc.src), table(t, "dst", tc.sink)
			src.PrimaryKey = []int{0}
			if tc.name == "filesystem-partitioned-commit" {
				sink.PartitionKeys = []int{1}
			}
			par, vertex := planOf(t, src, sink)
			for uid, p := range tc.want {
				if got, ok := par[uid]; !ok || got != p {
					t.Errorf("%s: parallelism %d (present %v), want %d; plan %v", uid, got, ok, p, par)
				}
			}
			if tc.chained[0] != "" && vertex[tc.chained[0]] != vertex[tc.chained[1]] {
				t.Errorf("%s and %s are not chained: %v", tc.chained[0], tc.chained[1], vertex)
			}
		})
	}
	for _, bad := range []struct{ spec, key string }{
		{kafkaSrc, "scan.parallelism"}, {upsertSrc, "scan.parallelism"}, {fsSink, "sink.parallelism"},
	} {
		for _, v := range []string{"0", "-1", "two"} {
			ctx := table(t, "t", bad.spec+"'"+bad.key+"' = '"+v+"'\n")
			ctx.PrimaryKey = []int{0}
			var err error
			if bad.key == "sink.parallelism" {
				_, err = connector.Default().CreateSink(ctx)
			} else {
				_, err = connector.Default().CreateSource(ctx)
			}
			if err == nil || !strings.Contains(err.Error(), "'"+bad.key+"'") {
				t.Errorf("%s = %s: got %v, want an error naming the option", bad.key, v, err)
			}
		}
	}
	// A changelog value format keeps each key's changes in order only at
	// the job's parallelism: refused, as for the filesystem source.
	deb := "id BIGINT\ns STRING\n'connector' = 'kafka'\n'topic' = 't'\n'properties.bootstrap.servers' = 'localhost:1'\n'format' = 'debezium-json'\n'scan.startup.mode' = 'earliest-offset'\n'scan.parallelism' = '2'\n"
	if _, err := connector.Default().CreateSource(table(t, "t", deb)); err == nil || !strings.Contains(err.Error(), "'scan.parallelism' with the changelog format 'debezium-json'") {
		t.Errorf("debezium-json with scan.parallelism: got %v", err)
	}
}

// TestFilesystemCSVDecimalNotation: csv.write-bigdecimal-in-scientific-
// notation as Flink's CSV serializer: DECIMALs keep their scale unless it
// is 'true' (Flink's declared default never reaches its serializer), then
// trailing zeros are stripped and scientific notation is used where
// Java's BigDecimal.toString uses it.
func TestFilesystemCSVDecimalNotation(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeFile(t, filepath.Join(in, "a.csv"), "1,100000,12.50\n2,0.000,0.0000001\n")
	cols := "id BIGINT\nd DECIMAL(12, 3)\ne DECIMAL(12, 8)\n"
	for _, tc := range []struct {
		opt  string
		want []string
	}{
		{"", []string{"1,100000.000,12.50000000", "2,0.000,0.00000010"}},
		{"'csv.write-bigdecimal-in-scientific-notation' = 'true'\n", []string{"1,1E+5,12.5", "2,0,1E-7"}},
		{"'csv.write-bigdecimal-in-scientific-notation' = 'false'\n", []string{"1,100000.000,12.50000000", "2,0.000,0.00000010"}},
	} {
		out := filepath.Join(t.TempDir(), "out")
		src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'csv'\n")
		sink := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'csv'\n"+tc.opt)
		if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, sink, connector.BuildContext{}); err != nil {
			t.Fatal(err)
		}
		if got := committed(t, out); !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.opt, got, tc.want)
		}
	}
}

// TestFilesystemPathRegex: source.path.regex-pattern reads the files
// whose whole absolute path matches (subdirectories walked, hidden files
// and directories skipped), as Flink's RegexFileFilter with
// NonSplittingRecursiveAllDirEnumerator; a pattern RE2 cannot compile is
// refused naming the option.
func TestFilesystemPathRegex(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeFile(t, filepath.Join(in, "a.json"), `{"id": 1}`+"\n")
	writeFile(t, filepath.Join(in, "b.txt"), `{"id": 2}`+"\n")
	writeFile(t, filepath.Join(in, "sub", "c.json"), `{"id": 3}`+"\n")
	writeFile(t, filepath.Join(in, "logs", "d.json"), `{"id": 4}`+"\n")
	writeFile(t, filepath.Join(in, "_e.json"), `{"id": 5}`+"\n")
	writeFile(t, filepath.Join(in, ".hid", "f.json"), `{"id": 6}`+"\n")
	abs, err := filepath.Abs(in)
	if err != nil {
		t.Fatal(err)
	}
	abs = filepath.ToSlash(abs)
	for _, tc := range []struct {
		path, re string
		want     []string
	}{
		{in, "", []string{`{"id":1}`, `{"id":2}`, `{"id":3}`, `{"id":4}`}},
		{in, `.*\.json`, []string{`{"id":1}`, `{"id":3}`, `{"id":4}`}},
		{in, abs + `/sub/.*`, []string{`{"id":3}`}},
		{in, `.*/(sub|logs)/.*`, []string{`{"id":3}`, `{"id":4}`}},
		{in, `c\.json`, nil}, // the whole path must match
		{in, `.*_e\.json|.*f\.json`, nil},
		{filepath.Join(in, "a.json"), `.*a\.json`, []string{`{"id":1}`}},
		{filepath.Join(in, "a.json"), `.*b\.json`, nil},
	} {
		out := filepath.Join(t.TempDir(), "out")
		opt := ""
		if tc.re != "" {
			opt = "'source.path.regex-pattern' = '" + tc.re + "'\n"
		}
		src := table(t, "src", "id BIGINT\n'connector' = 'filesystem'\n'path' = '"+tc.path+"'\n'format' = 'json'\n"+opt)
		sink := table(t, "dst", "id BIGINT\n'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'json'\n")
		if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{Parallelism: 2}), src, sink, connector.BuildContext{}); err != nil {
			t.Fatal(err)
		}
		var got []string
		if _, err := os.Stat(out); err == nil {
			got = committed(t, out)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("path %s regex %q: got %q, want %q", tc.path, tc.re, got, tc.want)
		}
	}
	_, err = connector.Default().CreateSource(table(t, "t", "id BIGINT\n'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'json'\n'source.path.regex-pattern' = '^(?!_).*$'\n"))
	if err == nil || !strings.Contains(err.Error(), "'source.path.regex-pattern'") {
		t.Errorf("a look-ahead pattern: got %v, want an error naming the option", err)
	}
}

// TestParquetPathRegex: source.path.regex-pattern filters the files of a
// parquet table too.
func TestParquetPathRegex(t *testing.T) {
	dir := t.TempDir()
	pq := filepath.Join(dir, "pq")
	gen := table(t, "gen", "id BIGINT\n'connector' = 'datagen'\n'number-of-rows' = '3'\n'fields.id.kind' = 'sequence'\n'fields.id.start' = '1'\n'fields.id.end' = '3'\n")
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), gen, table(t, "pq", "id BIGINT\n'connector' = 'filesystem'\n'path' = '"+pq+"'\n'format' = 'parquet'\n"), connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		re   string
		want []string
	}{
		{`.*\.parquet`, []string{"1", "2", "3"}},
		{`.*\.json`, nil},
	} {
		out := filepath.Join(t.TempDir(), "out")
		src := table(t, "src", "id BIGINT\n'connector' = 'filesystem'\n'path' = '"+pq+"'\n'format' = 'parquet'\n'source.path.regex-pattern' = '"+tc.re+"'\n")
		sink := table(t, "dst", "id BIGINT\n'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'csv'\n")
		if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, sink, connector.BuildContext{}); err != nil {
			t.Fatal(err)
		}
		var got []string
		if _, err := os.Stat(out); err == nil {
			got = committed(t, out)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("regex %q: got %q, want %q", tc.re, got, tc.want)
		}
	}
}
