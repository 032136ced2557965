package connector

import (
	"slices"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weirstream/weir/row"
)

// multisetNode is the Parquet schema of a MULTISET as Flink's
// ParquetSchemaConverter writes it: a MAP (key_value) whose key is the
// element with the element type's nullability (convertToParquetType
// ("key", elementType): OPTIONAL for a nullable element) and whose value
// is the count, a required INT32. parquet-go's Map makes every key
// required, so the key_value group is built here; a NULL element is then
// written as Flink's MapWriter does, with its key absent, and its count
// present (Flink's writer leaves the required count out too, which
// misaligns the count column; Weir keeps it so the file reads back).
func (c *parquetConfig) multisetNode(t row.Type) pq.Node {
	kv := pq.Repeated(pq.Group{"key": c.node(*t.Elem), "value": c.node(*t.Value)})
	return multisetMap{Node: pq.Map(pq.Int(32), pq.Int(32)), kv: kv}
}

// multisetMap is a MAP node (its Type is parquet-go's MAP) with the
// key_value group of multisetNode.
type multisetMap struct {
	pq.Node
	kv pq.Node
}

func (m multisetMap) Fields() []pq.Field {
	return []pq.Field{namedField{Node: m.kv, name: "key_value"}}
}

// multisetOfEntries is the MULTISET read from a Parquet MAP of its
// elements to their counts (Flink's layout): the entries in ascending
// order of the elements, as COLLECT makes them, so that the same
// elements and counts are one value (a GROUP BY key, a retraction
// matched downstream) whichever order the writer used (Flink's follows
// its HashMap). An element the file holds twice keeps its later count,
// as Flink's conversion of the map to a Java Map does.
func multisetOfEntries(keys, counts []row.Value, elem row.Type) row.Value {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return row.Compare(keys[i], keys[j], elem) })
	ks := make([]row.Value, 0, len(keys))
	cs := make([]row.Value, 0, len(keys))
	for _, o := range order {
		if n := len(ks); n > 0 && row.Compare(ks[n-1], keys[o], elem) == 0 {
			cs[n-1] = counts[o]
			continue
		}
		ks = append(ks, keys[o])
		cs = append(cs, counts[o])
	}
	return row.Map(ks, cs)
}
