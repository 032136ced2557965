package exec

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// The JSON aggregates, as Flink's JsonObjectAggFunction and
// JsonArrayAggFunction (flink-table-runtime .../functions/aggregate/).
// The planner serialises the value argument to JSON text first (expr's
// $JSON_AGG_ITEM, as Flink's WrapJsonAggFunctionArgumentsRule wraps it in
// JSON_STRING), so the accumulators hold JSON text: a NULL value is kept
// as the JSON null (NULL ON NULL) or not at all (ABSENT ON NULL).

// jsonAggResultType is ResultType for the JSON aggregates and PERCENTILE.
func jsonAggResultType(f Func, args []row.Type, sig func() error) (row.Type, error) {
	switch f {
	case JSONObjectAggNullOnNull, JSONObjectAggAbsentOnNull:
		if len(args) != 2 {
			return row.Type{}, fmt.Errorf("sql/exec: invalid number of arguments to function 'JSON_OBJECTAGG'. Was expecting 2 arguments")
		}
		if !args[0].IsString() || !args[1].IsString() {
			return row.Type{}, fmt.Errorf("sql/exec: JSON_OBJECTAGG: the key must be a character string, not %v", args[0])
		}
		return row.String().NotNull(), nil
	case JSONArrayAggNullOnNull, JSONArrayAggAbsentOnNull:
		if len(args) != 1 || !args[0].IsString() {
			return row.Type{}, sig()
		}
		return row.String().NotNull(), nil
	case Percentile:
		if len(args) < 2 || len(args) > 3 || !args[0].IsNumeric() || (len(args) == 3 && !args[2].IsInteger()) {
			return row.Type{}, fmt.Errorf("sql/exec: %s", expr.PercentileSignatures)
		}
		p := args[1]
		switch {
		case p.IsNumeric() && !p.Nullable:
			return row.Double(), nil
		case p.Root == row.TypeArray && !p.Nullable && p.Elem != nil && p.Elem.IsNumeric() && !p.Elem.Nullable:
			return row.ArrayType(row.Double()), nil
		}
		return row.Type{}, fmt.Errorf("sql/exec: %s", expr.PercentileSignatures)
	}
	return row.Type{}, sig()
}

// jsonNull is how the accumulators keep a NULL value under NULL ON NULL:
// the empty string, which no JSON text is (Flink's NULL_STRING_DATA).
const jsonNull = ""

// jsonText returns the JSON text of an accumulated value (jsonNull for
// NULL).
func jsonText(v row.Value) string {
	if v.IsNull() {
		return jsonNull
	}
	return v.Str()
}

// jsonEntry is a key of JSON_OBJECTAGG and its value's JSON text.
type jsonEntry struct{ k, v string }

// jsonEntries is a set of entries sorted by key (the order Flink's
// Jackson writes an object's keys in, as Weir's JSON_OBJECT does).
type jsonEntries []jsonEntry

func (es jsonEntries) find(k string) (int, bool) {
	return slices.BinarySearchFunc(es, k, func(e jsonEntry, k string) int { return strings.Compare(e.k, k) })
}

func (es *jsonEntries) put(k, v string) {
	i, ok := es.find(k)
	if ok {
		(*es)[i].v = v
		return
	}
	*es = slices.Insert(*es, i, jsonEntry{k, v})
}

func (es *jsonEntries) remove(i int) { *es = slices.Delete(*es, i, i+1) }

// jsonObjectAggAcc is JSON_OBJECTAGG. entries holds the object; a
// retraction removes its key when the key holds the retracted value, and
// is kept in retracts otherwise, for merge to settle against the other
// accumulator's entries (Flink's retractMap). A key accumulated while
// present fails the job, as in Flink; so does a NULL key.
type jsonObjectAggAcc struct {
	absent   bool // ABSENT ON NULL
	entries  jsonEntries
	retracts jsonEntries
	err      error
	buf      []byte
}

func (a *jsonObjectAggAcc) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

func (a *jsonObjectAggAcc) takeErr() error {
	err := a.err
	a.err = nil
	return err
}

func errDuplicateKey(k string) error {
	return fmt.Errorf("sql/exec: Key '%s' is already present. Duplicate keys are not allowed in JSON_OBJECTAGG. Please ensure that keys are unique.", k)
}

func (a *jsonObjectAggAcc) accumulate(args []row.Value) {
	if args[0].IsNull() {
		a.fail(fmt.Errorf("sql/exec: JSON_OBJECTAGG: a key is NULL (keys must be non-NULL character strings)"))
		return
	}
	k := args[0].Str()
	if _, ok := a.entries.find(k); ok {
		a.fail(errDuplicateKey(k))
		return
	}
	if args[1].IsNull() && a.absent {
		return
	}
	a.entries.put(k, jsonText(args[1]))
}

func (a *jsonObjectAggAcc) retract(args []row.Value) {
	if args[0].IsNull() || (args[1].IsNull() && a.absent) {
		// Never accumulated (a NULL key failed the job).
		return
	}
	k, v := args[0].Str(), jsonText(args[1])
	if i, ok := a.entries.find(k); ok && a.entries[i].v == v {
		a.entries.remove(i)
		return
	}
	a.retracts.put(k, v)
}

func (a *jsonObjectAggAcc) merge(o accumulator) {
	b := o.(*jsonObjectAggAcc)
	for _, r := range b.retracts {
		if i, ok := a.entries.find(r.k); ok && a.entries[i].v == r.v {
			a.entries.remove(i)
		} else {
			a.retracts.put(r.k, r.v)
		}
	}
	for _, e := range b.entries {
		if i, ok := a.retracts.find(e.k); ok && a.retracts[i].v == e.v {
			a.retracts.remove(i)
			continue
		}
		if _, ok := a.entries.find(e.k); ok {
			a.fail(errDuplicateKey(e.k))
			continue
		}
		a.entries.put(e.k, e.v)
	}
	if err := b.takeErr(); err != nil {
		a.fail(err)
	}
}

func (a *jsonObjectAggAcc) value() row.Value {
	b := append(a.buf[:0], '{')
	for i, e := range a.entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = expr.AppendJSONString(b, e.k)
		b = append(b, ':')
		if e.v == jsonNull {
			b = append(b, "null"...)
		} else {
			b = append(b, e.v...)
		}
	}
	b = append(b, '}')
	a.buf = b
	return row.Str(string(b))
}

func (a *jsonObjectAggAcc) reset() {
	clear(a.entries)
	clear(a.retracts)
	a.entries, a.retracts = a.entries[:0], a.retracts[:0]
}

// appendTo encodes the entries then the pending retractions, each as a
// count and the keys and values (lengths then bytes).
func (a *jsonObjectAggAcc) appendTo(dst []byte) []byte {
	for _, es := range []jsonEntries{a.entries, a.retracts} {
		dst = binary.AppendUvarint(dst, uint64(len(es)))
		for _, e := range es {
			dst = appendJSONStr(dst, e.k)
			dst = appendJSONStr(dst, e.v)
		}
	}
	return dst
}

func (a *jsonObjectAggAcc) decode(src []byte) (int, error) {
	a.reset()
	off := 0
	for _, es := range []*jsonEntries{&a.entries, &a.retracts} {
		n, err := readUvarint(src, &off, "json_objectagg size")
		if err != nil {
			return 0, err
		}
		if n > uint64(len(src)-off) {
			return 0, corrupt("json_objectagg size")
		}
		for range n {
			k, err := readJSONStr(src, &off)
			if err != nil {
				return 0, err
			}
			v, err := readJSONStr(src, &off)
			if err != nil {
				return 0, err
			}
			if len(*es) > 0 && (*es)[len(*es)-1].k >= k {
				return 0, corrupt("json_objectagg key order")
			}
			*es = append(*es, jsonEntry{k, v})
		}
	}
	return off, nil
}

func appendJSONStr(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func readJSONStr(src []byte, off *int) (string, error) {
	n, err := readUvarint(src, off, "json text length")
	if err != nil {
		return "", err
	}
	if n > uint64(len(src)-*off) {
		return "", corrupt("json text length")
	}
	s := string(src[*off : *off+int(n)])
	*off += int(n)
	return s, nil
}

// jsonArrayAggAcc is JSON_ARRAYAGG: the items' JSON text in arrival
// order ("null" for a NULL under NULL ON NULL, as Flink's NULL_STR). A
// retraction removes the first equal item, or nothing (Flink's
// ListView.remove). It has no merge, as Flink's function has none: the
// planner refuses it where a merge is needed (OVER, HOP, CUMULATE and
// SESSION windows; two-phase aggregation is not planned for it).
type jsonArrayAggAcc struct {
	absent bool // ABSENT ON NULL
	list   []string
	buf    []byte
}

func (a *jsonArrayAggAcc) item(v row.Value) string {
	if v.IsNull() {
		return "null"
	}
	return v.Str()
}

func (a *jsonArrayAggAcc) accumulate(args []row.Value) {
	if args[0].IsNull() && a.absent {
		return
	}
	a.list = append(a.list, a.item(args[0]))
}

func (a *jsonArrayAggAcc) retract(args []row.Value) {
	if i := slices.Index(a.list, a.item(args[0])); i >= 0 {
		a.list = slices.Delete(a.list, i, i+1)
	}
}

// merge appends the other's items; no operator calls it (see the type).
func (a *jsonArrayAggAcc) merge(o accumulator) {
	a.list = append(a.list, o.(*jsonArrayAggAcc).list...)
}

func (a *jsonArrayAggAcc) value() row.Value {
	b := append(a.buf[:0], '[')
	for i, s := range a.list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s...)
	}
	b = append(b, ']')
	a.buf = b
	return row.Str(string(b))
}

func (a *jsonArrayAggAcc) reset() {
	clear(a.list)
	a.list = a.list[:0]
}

// appendTo encodes the count of items and each item's JSON text.
func (a *jsonArrayAggAcc) appendTo(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(a.list)))
	for _, s := range a.list {
		dst = appendJSONStr(dst, s)
	}
	return dst
}

func (a *jsonArrayAggAcc) decode(src []byte) (int, error) {
	a.reset()
	off := 0
	n, err := readUvarint(src, &off, "json_arrayagg size")
	if err != nil {
		return 0, err
	}
	if n > uint64(len(src)-off) {
		return 0, corrupt("json_arrayagg size")
	}
	for range n {
		s, err := readJSONStr(src, &off)
		if err != nil {
			return 0, err
		}
		a.list = append(a.list, s)
	}
	return off, nil
}

// handlesNulls reports whether the function's accumulator sees the rows
// with NULL arguments (the JSON aggregates and PERCENTILE decide there).
func handlesNulls(f Func) bool {
	switch f {
	case JSONObjectAggNullOnNull, JSONObjectAggAbsentOnNull, JSONArrayAggNullOnNull, JSONArrayAggAbsentOnNull, Percentile:
		return true
	}
	return false
}

// checkJSONArrayAggWindow refuses JSON_ARRAYAGG in the windows whose
// Flink operators merge accumulators (HOP and CUMULATE slices, SESSION
// windows), as Flink's function has no merge; TUMBLE is fine.
func checkJSONArrayAggWindow(s WindowAggSpec) error {
	if s.Window.Kind == TumbleWindow {
		return nil
	}
	for _, c := range s.Aggs {
		if c.Func == JSONArrayAggNullOnNull || c.Func == JSONArrayAggAbsentOnNull {
			kind := map[WindowKind]string{HopWindow: "HOP", CumulateWindow: "CUMULATE", SessionWindow: "SESSION"}[s.Window.Kind]
			return fmt.Errorf("sql/exec: JSON_ARRAYAGG is not supported in %s windows: it cannot merge accumulators, as in Flink (use a TUMBLE window or a GROUP BY)", kind)
		}
	}
	return nil
}

// onePhaseOnly reports whether an aggregation with the function is never
// split into local and global phases: the JSON aggregates and PERCENTILE
// (as ARRAY_AGG, they are planned in one phase).
func onePhaseOnly(f Func) bool { return handlesNulls(f) }
