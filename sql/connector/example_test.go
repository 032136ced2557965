package connector_test

import (
	"context"
	"fmt"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// The planner's part for
//
//	CREATE TABLE gen (id BIGINT, name STRING) WITH ('connector' = 'datagen',
//	  'number-of-rows' = '3', 'fields.id.kind' = 'sequence',
//	  'fields.id.start' = '1', 'fields.id.end' = '3', 'fields.name.length' = '0');
//	CREATE TABLE out (id BIGINT, name STRING) WITH ('connector' = 'print');
//	INSERT INTO out SELECT * FROM gen;
func Example() {
	reg := connector.Default()
	schema := row.NewSchema(row.Col("id", row.BigInt()), row.Col("name", row.String()))
	src, err := reg.CreateSource(connector.Context{Table: "gen", Schema: schema, Options: map[string]string{
		"connector": "datagen", "number-of-rows": "3",
		"fields.id.kind": "sequence", "fields.id.start": "1", "fields.id.end": "3",
		"fields.name.length": "0",
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	sink, err := reg.CreateSink(connector.Context{Table: "out", Schema: schema, Options: map[string]string{"connector": "print"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := sink.ChangelogMode(src.ChangelogMode()); err != nil {
		fmt.Println(err)
		return
	}
	env := weir.NewEnvironment(weir.Options{})
	rows, err := src.Produce(connector.BuildContext{Env: env, Prefix: "gen"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := sink.Consume(connector.BuildContext{Env: env, Prefix: "out"}, rows); err != nil {
		fmt.Println(err)
		return
	}
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// +I[1, ]
	// +I[2, ]
	// +I[3, ]
}

// Unknown options are refused with the list of supported ones, as in
// Flink.
func ExampleRegistry_CreateSource() {
	_, err := connector.Default().CreateSource(connector.Context{
		Table:   "gen",
		Schema:  row.NewSchema(row.Col("id", row.BigInt())),
		Options: map[string]string{"connector": "datagen", "rows-per-sec": "10"},
	})
	fmt.Println(err)
	// Output:
	// connector: table gen: Unsupported options found for 'datagen'.
	//
	// Unsupported options:
	//
	// rows-per-sec
	//
	// Supported options:
	//
	// connector
	// fields.id.kind
	// fields.id.max
	// fields.id.min
	// fields.id.null-rate
	// number-of-rows
	// rows-per-second
	// scan.parallelism
}
