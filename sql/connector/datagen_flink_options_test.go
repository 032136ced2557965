package connector_test

import (
	"testing"

	"github.com/weirstream/weir/sql/connector"
)

// TestDatagenAcceptsFlinkOptions: the options Flink's datagen takes for
// each type (DataGenTableSourceFactory with RandomGeneratorVisitor and
// SequenceGeneratorVisitor: min/max for numbers, length/var-len for
// strings and bytes, max-past for timestamps, length and the parts'
// options for ARRAY, MAP, MULTISET and ROW at any depth, null-rate
// everywhere, start/end for sequences) are not refused as unconsumed.
func TestDatagenAcceptsFlinkOptions(t *testing.T) {
	spec := `
a ARRAY<ROW<x INT, y STRING>>
m MAP<STRING, ARRAY<INT>>
ms MULTISET<VARCHAR(5)>
ts TIMESTAMP_LTZ(3)
t2 TIMESTAMP(3)
dc DECIMAL(10, 2)
b BOOLEAN
d DATE
tm TIME
c CHAR(4)
bn BYTES
vb BYTES
f DOUBLE
ti TINYINT
'connector' = 'datagen'
'number-of-rows' = '3'
'rows-per-second' = '100'
'scan.parallelism' = '1'
'fields.a.length' = '2'
'fields.a.null-rate' = '0.1'
'fields.a.element.null-rate' = '0.1'
'fields.a.element.x.min' = '1'
'fields.a.element.x.max' = '3'
'fields.a.element.x.null-rate' = '0.2'
'fields.a.element.y.length' = '3'
'fields.a.element.y.var-len' = 'true'
'fields.m.length' = '2'
'fields.m.key.length' = '4'
'fields.m.value.length' = '2'
'fields.m.value.element.min' = '0'
'fields.m.value.element.max' = '9'
'fields.ms.length' = '2'
'fields.ms.element.length' = '3'
'fields.ms.element.var-len' = 'true'
'fields.ms.element.null-rate' = '0.5'
'fields.ts.max-past' = '1 h'
'fields.t2.max-past' = '10 min'
'fields.t2.kind' = 'random'
'fields.dc.min' = '0'
'fields.dc.max' = '100'
'fields.b.null-rate' = '0.5'
'fields.c.length' = '4'
'fields.bn.length' = '4'
'fields.vb.length' = '8'
'fields.vb.var-len' = 'true'
'fields.f.min' = '0.5'
'fields.f.max' = '1.5'
'fields.ti.kind' = 'sequence'
'fields.ti.start' = '1'
'fields.ti.end' = '5'
`
	if _, err := connector.Default().CreateSource(table(t, "gen", spec)); err != nil {
		t.Fatal(err)
	}
}
