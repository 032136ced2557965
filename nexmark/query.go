package nexmark

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/weirstream/weir"
)

// Mode says how a query's results evolve.
type Mode uint8

// Result modes.
const (
	// Append: every emitted row is final.
	Append Mode = iota
	// Update: rows are upserts by key; the result is the table after the
	// last update of every key.
	Update
)

// String returns append or update.
func (m Mode) String() string {
	if m == Update {
		return "update"
	}
	return "append"
}

// Query is one Nexmark query built with Weir's DataStream API, with an
// independent batch computation of its final result.
type Query struct {
	// Name is q0, q1, ...
	Name string
	// Title is the reference's title of the query.
	Title string
	// Mode says whether results are appended or updated.
	Mode Mode
	// Deterministic is false for queries whose result depends on
	// processing time (q12); they have no batch reference.
	Deterministic bool

	attach    func(s weir.Stream[Event], keep bool, lat *latencies) *Result
	reference func(events []Event) [][]byte
}

// Result receives a query's output rows while the job runs.
type Result struct {
	rows  atomic.Int64
	final func() ([][]byte, error)
}

// Rows returns the number of rows emitted (updates included).
func (r *Result) Rows() int64 { return r.rows.Load() }

// Final returns the final table as JSON objects with the reference
// SELECT's column names, sorted; available after the job ran if the query
// was attached with keep.
func (r *Result) Final() ([][]byte, error) {
	if r.final == nil {
		return nil, fmt.Errorf("nexmark: rows were not kept")
	}
	return r.final()
}

// Attach adds the query to the event stream s and a sink that counts its
// rows and, if keep, keeps them for Final.
func (q Query) Attach(s weir.Stream[Event], keep bool) *Result { return q.attach(s, keep, nil) }

// Reference computes the query's final table over events with a plain
// batch computation (no engine code), encoded and sorted like
// Result.Final. It returns nil for nondeterministic queries.
func (q Query) Reference(events []Event) [][]byte {
	if q.reference == nil {
		return nil
	}
	return q.reference(events)
}

// define builds a Query from a typed pipeline, an optional function
// reducing emitted rows to the final table (updating queries) and a typed
// batch reference. Given latencies, its sink also measures the rows'
// latency.
func define[R any](name, title string, mode Mode, build func(weir.Stream[Event]) weir.Stream[R], final func([]R) []R, ref func([]Event) []R) Query {
	q := Query{Name: name, Title: title, Mode: mode, Deterministic: ref != nil}
	q.attach = func(s weir.Stream[Event], keep bool, lat *latencies) *Result {
		res := &Result{}
		var mu sync.Mutex
		var rows []R
		sink := func(_ context.Context, v R, _ int64) error {
			res.rows.Add(1)
			return nil
		}
		if keep {
			sink = func(_ context.Context, v R, _ int64) error {
				res.rows.Add(1)
				mu.Lock()
				rows = append(rows, v)
				mu.Unlock()
				return nil
			}
			res.final = func() ([][]byte, error) {
				mu.Lock()
				defer mu.Unlock()
				r := rows
				if final != nil {
					r = final(slices.Clone(r))
				}
				return encodeSorted(r)
			}
		}
		var out weir.Sink[R] = weir.SinkFunc[R](sink)
		if lat != nil {
			out = latencySink[R]{l: lat, rows: sink}
		}
		build(s).SinkTo(out).Name(name + "Sink")
		return res
	}
	if ref != nil {
		q.reference = func(events []Event) [][]byte {
			b, err := encodeSorted(ref(events))
			if err != nil {
				return [][]byte{[]byte(err.Error())}
			}
			return b
		}
	}
	return q
}

func encodeSorted[R any](rows []R) ([][]byte, error) {
	out := make([][]byte, len(rows))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range rows {
		buf.Reset()
		if err := enc.Encode(rows[i]); err != nil {
			return nil, fmt.Errorf("nexmark: encoding a row: %w", err)
		}
		out[i] = bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	slices.SortFunc(out, bytes.Compare)
	return out, nil
}

// Decimal3 is a decimal number with three digits after the point, stored
// in thousandths; JSON encodes it as a number such as 12.345.
type Decimal3 int64

// String formats d with three decimals.
func (d Decimal3) String() string {
	v := int64(d)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	f := strconv.FormatInt(v%1000, 10)
	for len(f) < 3 {
		f = "0" + f
	}
	return sign + strconv.FormatInt(v/1000, 10) + "." + f
}

// MarshalJSON encodes d as a JSON number.
func (d Decimal3) MarshalJSON() ([]byte, error) { return []byte(d.String()), nil }

// Queries returns the implemented queries in order.
func Queries() []Query {
	return []Query{q0(), q1(), q2(), q3(), q4(), q5(), q7(), q8(), q9(), q10(), q11(), q12(), q13(), q14(), q15(), q16(), q17(), q18(), q19(), q20(), q21(), q22()}
}

// Lookup returns the query called name.
func Lookup(name string) (Query, bool) {
	for _, q := range Queries() {
		if q.Name == name {
			return q, true
		}
	}
	return Query{}, false
}
