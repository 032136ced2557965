package exec

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/udf"
)

// NoFilter is the AggCall.Filter of a call without a FILTER clause.
const NoFilter = -1

// AggCall is one aggregate call of a query: the function, the input
// columns of its arguments, DISTINCT, and the FILTER (WHERE cond) clause
// as the index of a BOOLEAN input column computed upstream (NoFilter, -1,
// for none): only rows where that column is TRUE take part.
type AggCall struct {
	Func     Func
	Args     []int
	Distinct bool
	// IgnoreNulls is ARRAY_AGG's IGNORE NULLS (without it ARRAY_AGG keeps
	// NULL values).
	IgnoreNulls bool
	Filter      int
	// UDF and UDFName are the function and SQL name of a UserDefined
	// call (see UserCall).
	UDF     udf.AggregateFunction
	UDFName string
}

// Call returns a call of f over the given argument columns, without
// DISTINCT or FILTER (Filter is NoFilter: the zero AggCall filters on
// column 0, so build calls with Call or set Filter).
func Call(f Func, args ...int) AggCall { return AggCall{Func: f, Args: args, Filter: NoFilter} }

// WithDistinct returns c with DISTINCT.
func (c AggCall) WithDistinct() AggCall { c.Distinct = true; return c }

// WithFilter returns c with FILTER (WHERE the BOOLEAN column col).
func (c AggCall) WithFilter(col int) AggCall { c.Filter = col; return c }

// String prints the call as SQL over column numbers: "SUM(DISTINCT $1)
// FILTER $3".
func (c AggCall) String() string {
	s := c.Func.String()
	if c.Func == UserDefined {
		s = c.UDFName + "("
	} else if c.Func == CountStar {
		s = "COUNT(*"
	} else {
		s += "("
	}
	if c.Distinct {
		s += "DISTINCT "
	}
	for i, a := range c.Args {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("$%d", a)
	}
	if c.IgnoreNulls {
		s += " IGNORE NULLS"
	}
	s += ")"
	if c.Filter >= 0 {
		s += fmt.Sprintf(" FILTER $%d", c.Filter)
	}
	return s
}

// call is a compiled AggCall with its reusable accumulator.
type call struct {
	AggCall
	argTypes []row.Type
	res      row.Type
	acc      accumulator
	args     []row.Value
	// skipNulls: the rows where one of these argument positions is NULL
	// are skipped (the value argument; for COUNT, every argument).
	skipNulls []int
}

// mergeable reports whether the function can merge accumulators (needed
// by SESSION windows); FIRST_VALUE, LAST_VALUE and JSON_ARRAYAGG cannot, as in Flink.
func mergeable(f Func) bool {
	return f != FirstValue && f != LastValue && f != Lag && f != JSONArrayAggNullOnNull && f != JSONArrayAggAbsentOnNull
}

// newCall checks c against the input types and builds its accumulator;
// retracting chooses the retraction-capable accumulators.
func newCall(c AggCall, in []row.Type, retracting bool) (*call, error) {
	argTypes := make([]row.Type, len(c.Args))
	for i, a := range c.Args {
		if a < 0 || a >= len(in) {
			return nil, fmt.Errorf("sql/exec: %v: argument column %d out of range (%d input columns)", c, a, len(in))
		}
		argTypes[i] = in[a]
	}
	if c.Filter != NoFilter {
		if c.Filter < 0 || c.Filter >= len(in) {
			return nil, fmt.Errorf("sql/exec: %v: filter column %d out of range (%d input columns)", c, c.Filter, len(in))
		}
		if in[c.Filter].Root != row.TypeBoolean {
			return nil, fmt.Errorf("sql/exec: %v: filter column %d is %v, not BOOLEAN", c, c.Filter, in[c.Filter])
		}
	}
	var userAcc accumulator
	var res row.Type
	var err error
	if c.Func == UserDefined {
		userAcc, res, err = newUserAcc(c, argTypes, retracting)
	} else {
		res, err = ResultType(c.Func, c.Distinct, argTypes)
	}
	if err != nil {
		return nil, err
	}
	k := &call{AggCall: c, argTypes: argTypes, res: res, args: make([]row.Value, len(c.Args))}
	switch c.Func {
	case UserDefined:
		// A user-defined function sees every row, NULL arguments included
		// (Flink passes NULLs to eval).
		k.acc = userAcc
	case CountStar:
		k.acc = &countAcc{}
	case Count:
		k.acc = &countAcc{}
		for i := range c.Args {
			k.skipNulls = append(k.skipNulls, i)
		}
	case Sum, Sum0:
		k.acc = &sumAcc{arg: argTypes[0], res: res, kind: numKindOf(argTypes[0]), zero: c.Func == Sum0}
	case Avg:
		// The sum of integers is a BIGINT, of FLOAT/DOUBLE a DOUBLE.
		sumRes := res
		if argTypes[0].IsInteger() {
			sumRes = row.BigInt()
		} else if argTypes[0].Root == row.TypeFloat {
			sumRes = row.Double()
		}
		k.acc = &avgAcc{sumAcc: sumAcc{arg: argTypes[0], res: sumRes, kind: numKindOf(argTypes[0])}, avgRes: res}
	case Min, Max:
		k.acc = &minMaxAcc{t: argTypes[0], max: c.Func == Max, retracting: retracting}
	case FirstValue, LastValue:
		k.acc = &firstLastAcc{t: argTypes[0], last: c.Func == LastValue, retracting: retracting}
	case ListAgg:
		k.acc = &listAggAcc{}
	case ArrayAgg:
		k.acc = &arrayAggAcc{t: argTypes[0].WithNullable(true)}
	case Collect:
		k.acc = &collectAcc{t: argTypes[0]}
	case JSONObjectAggNullOnNull, JSONObjectAggAbsentOnNull:
		k.acc = &jsonObjectAggAcc{absent: c.Func == JSONObjectAggAbsentOnNull}
	case JSONArrayAggNullOnNull, JSONArrayAggAbsentOnNull:
		k.acc = &jsonArrayAggAcc{absent: c.Func == JSONArrayAggAbsentOnNull}
	case Percentile:
		k.acc = newPercentileAcc(argTypes)
	case SingleValue:
		// NULL values count: a second row fails even if NULL (Flink).
		k.acc = &singleValueAcc{t: argTypes[0].WithNullable(true)}
	case Lag:
		// NULL values of x count; the offset and default are constants.
		k.acc = &lagAcc{t: argTypes[0].WithNullable(true)}
	default:
		return nil, fmt.Errorf("sql/exec: unknown aggregate function %v", c.Func)
	}
	if c.Func != CountStar && c.Func != Count && c.Func != UserDefined && c.Func != Lag && c.Func != SingleValue &&
		(c.Func != ArrayAgg || c.IgnoreNulls) && !handlesNulls(c.Func) {
		k.skipNulls = []int{0}
	}
	if c.Distinct && c.Func != CountStar {
		k.acc = &distinctAcc{types: argTypes, inner: k.acc}
	}
	k.acc.reset()
	return k, nil
}

// apply feeds one input row to the call: accumulate, or retract when
// retract is set.
func (k *call) apply(r row.Row, retract bool) {
	if k.reaches(r) {
		k.feed(retract)
	}
}

// reaches reports whether the row reaches the call's accumulator: its
// FILTER holds and no argument the call skips NULLs of is NULL. It loads
// the row's arguments for feed.
func (k *call) reaches(r row.Row) bool {
	if k.Filter >= 0 {
		if f := r.Fields[k.Filter]; f.IsNull() || !f.Bool() {
			return false
		}
	}
	for i, a := range k.Args {
		k.args[i] = r.Fields[a]
	}
	for _, i := range k.skipNulls {
		if k.args[i].IsNull() {
			return false
		}
	}
	return true
}

// feed accumulates (or retracts) the arguments reaches loaded.
func (k *call) feed(retract bool) {
	if retract {
		k.acc.retract(k.args)
	} else {
		k.acc.accumulate(k.args)
	}
}

// aggSet is the accumulators of one group (or window): every call's, and
// the number of rows accumulated minus those retracted (Flink's
// RecordCounter), by which GroupAggregate knows a group became empty.
type aggSet struct {
	calls []*call
	rows  int64
	buf   []byte
}

func newAggSet(calls []AggCall, in []row.Type, retracting bool) (*aggSet, error) {
	s := &aggSet{}
	for _, c := range calls {
		k, err := newCall(c, in, retracting)
		if err != nil {
			return nil, err
		}
		s.calls = append(s.calls, k)
	}
	return s, nil
}

// resultTypes returns the types of the calls' results.
func (s *aggSet) resultTypes() []row.Type {
	t := make([]row.Type, len(s.calls))
	for i, k := range s.calls {
		t[i] = k.res
	}
	return t
}

func (s *aggSet) reset() {
	s.rows = 0
	for _, k := range s.calls {
		k.acc.reset()
	}
}

func (s *aggSet) apply(r row.Row, retract bool) {
	if retract {
		s.rows--
	} else {
		s.rows++
	}
	for _, k := range s.calls {
		k.apply(r, retract)
	}
}

// merge adds o (the accumulators of later rows, same calls) into s.
func (s *aggSet) merge(o *aggSet) {
	s.rows += o.rows
	for i, k := range s.calls {
		k.acc.merge(o.calls[i].acc)
	}
}

// appendValues appends every call's result.
func (s *aggSet) appendValues(dst []row.Value) []row.Value {
	for _, k := range s.calls {
		dst = append(dst, k.acc.value())
	}
	return dst
}

// encode returns the encoding of the set, as a string for state (the
// backend keeps it; it must not share the reused buffer).
func (s *aggSet) encode() string {
	s.buf = s.appendTo(s.buf[:0])
	return string(s.buf)
}

func (s *aggSet) appendTo(dst []byte) []byte {
	dst = binary.AppendVarint(dst, s.rows)
	for _, k := range s.calls {
		dst = k.acc.appendTo(dst)
	}
	return dst
}

// decode loads the set from its encoding.
func (s *aggSet) decode(src string) error {
	// The decoders only read b and copy what they keep.
	b := unsafe.Slice(unsafe.StringData(src), len(src))
	_, err := s.decodeBytes(b)
	return err
}

func (s *aggSet) decodeBytes(b []byte) (int, error) {
	off := 0
	var err error
	if s.rows, err = readVarint(b, &off, "row count"); err != nil {
		return 0, err
	}
	for _, k := range s.calls {
		n, err := k.acc.decode(b[off:])
		if err != nil {
			return 0, fmt.Errorf("%v: %w", k.AggCall, err)
		}
		off += n
	}
	return off, nil
}

// useDistinctView makes every DISTINCT call keep its multiset in v; the
// keys of call i start with ns then the byte i (set ns with
// setNamespace before each row).
func (s *aggSet) useDistinctView(v distinctView) {
	for _, k := range s.calls {
		if d, ok := k.acc.(*distinctAcc); ok {
			d.view = v
		}
	}
}

// hasDistinct reports whether a call is DISTINCT.
func (s *aggSet) hasDistinct() bool {
	for _, k := range s.calls {
		if _, ok := k.acc.(*distinctAcc); ok {
			return true
		}
	}
	return false
}

// setNamespace sets the prefix of the distinct view's keys: ns (a
// window's end, or nothing) and the call's index.
func (s *aggSet) setNamespace(ns []byte) {
	for i, k := range s.calls {
		if d, ok := k.acc.(*distinctAcc); ok {
			d.prefix = binary.AppendUvarint(append(d.prefix[:0], ns...), uint64(i))
		}
	}
}

// clone returns an empty set of the same calls with accumulators of its
// own (for merging session windows).
func (s *aggSet) clone(in []row.Type, retracting bool) *aggSet {
	c := &aggSet{}
	for _, k := range s.calls {
		k2, _ := newCall(k.AggCall, in, retracting) // k was built from the same arguments
		c.calls = append(c.calls, k2)
	}
	return c
}
