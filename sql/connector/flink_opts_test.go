package connector_test

import (
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
