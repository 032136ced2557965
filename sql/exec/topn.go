package exec

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// SortKey is one ORDER BY column of a Top-N.
type SortKey struct {
	Col  int
	Desc bool
	// NullsFirst puts NULLs first (Flink's default: NULLS FIRST for ASC,
	// NULLS LAST for DESC; the planner sets it).
	NullsFirst bool
}

// TopNSpec describes an append-only Top-N: ROW_NUMBER() OVER (PARTITION BY
// keys ORDER BY sort keys) with WHERE rn <= N (Flink's
// AppendOnlyTopNFunction). The input must be append-only.
type TopNSpec struct {
	// InputTypes are the types of the input columns.
	InputTypes []row.Type
	// PartitionKeys are the PARTITION BY columns (empty: one partition).
	PartitionKeys []int
	// SortKeys are the ORDER BY columns.
	SortKeys []SortKey
	// N is the number of rows kept per partition (rn <= N).
	N int
	// OutputRank appends the row number (BIGINT NOT NULL) to the output
	// rows; without it the output has the input columns.
	OutputRank bool
	// GenerateUpdateBefore makes a change of a ranked row emit -U before
	// +U (with OutputRank).
	GenerateUpdateBefore bool
	// StateTTL is table.exec.state.ttl (0 = never expire).
	StateTTL time.Duration
	// UID and Name identify the operator (default name "TopN").
	UID, Name string
}

// OutputTypes returns the output column types.
func (s TopNSpec) OutputTypes() ([]row.Type, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	out := append([]row.Type(nil), s.InputTypes...)
	if s.OutputRank {
		out = append(out, row.BigInt().NotNull())
	}
	return out, nil
}

func (s TopNSpec) check() error {
	if err := checkKeys(s.InputTypes, s.PartitionKeys, "partition key"); err != nil {
		return err
	}
	if len(s.SortKeys) == 0 {
		return fmt.Errorf("sql/exec: a Top-N needs ORDER BY columns")
	}
	for _, k := range s.SortKeys {
		if k.Col < 0 || k.Col >= len(s.InputTypes) {
			return fmt.Errorf("sql/exec: sort column %d out of range (%d input columns)", k.Col, len(s.InputTypes))
		}
	}
	if s.N <= 0 {
		return fmt.Errorf("sql/exec: a Top-N needs a positive N, got %d", s.N)
	}
	return nil
}

// TopN keeps the first N rows per partition in sort order. Rows that tie
// on the sort keys rank in arrival order. Without OutputRank, a row
// entering the top N is emitted as +I and the row it pushes out as -D;
// with OutputRank every rank whose row changed is updated: -U (with
// GenerateUpdateBefore) and +U of the row now at that rank, +I for a rank
// filled for the first time.
func TopN(in weir.Stream[row.Row], spec TopNSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	ks := weir.KeyBy(in, keySelector(spec.InputTypes, spec.PartitionKeys))
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &topNFn{spec: spec}).DefaultName("TopN")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

// topNFn keeps per partition the sorted top rows, encoded: a count, then
// the rows with row.Codec.
type topNFn struct {
	spec  TopNSpec
	codec *row.Codec
	rows  state.Value[string]
	buf   []byte
}

func (f *topNFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.codec = row.NewCodec(f.spec.InputTypes)
	f.rows = state.GetValue[string, string](ctx.State(), state.Descriptor{Name: "topn", TTL: stateTTL(f.spec.StateTTL)})
	return nil
}

// compare orders rows by the sort keys.
func (f *topNFn) compare(a, b row.Row) int {
	return compareSortKeys(f.spec.SortKeys, f.spec.InputTypes, a.Fields, b.Fields)
}

// compareSortKeys orders two rows' fields by keys (NULL placement does not
// flip with DESC).
func compareSortKeys(keys []SortKey, types []row.Type, a, b []row.Value) int {
	for _, k := range keys {
		x, y := a[k.Col], b[k.Col]
		var c int
		switch {
		case x.IsNull() && y.IsNull():
			c = 0
		case x.IsNull() || y.IsNull():
			// NULL placement does not flip with DESC.
			if x.IsNull() == k.NullsFirst {
				return -1
			}
			return 1
		default:
			c = row.Compare(x, y, types[k.Col])
			if k.Desc {
				c = -c
			}
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func (f *topNFn) load() ([]row.Row, error) {
	enc, ok := f.rows.Value()
	if !ok {
		return nil, nil
	}
	b := unsafe.Slice(unsafe.StringData(enc), len(enc))
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, corrupt("top-n size")
	}
	b = b[k:]
	rows := make([]row.Row, 0, n+1)
	for range n {
		r, m, err := f.codec.Decode(b)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
		b = b[m:]
	}
	return rows, nil
}

func (f *topNFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: the append-only TopN takes an append-only input, got a %v row", in.Kind)
	}
	rows, err := f.load()
	if err != nil {
		return err
	}
	n := f.spec.N
	if len(rows) >= n && f.compare(in, rows[len(rows)-1]) >= 0 {
		return nil // not in the top N
	}
	pos := len(rows)
	for pos > 0 && f.compare(in, rows[pos-1]) < 0 {
		pos--
	}
	old := rows
	rows = make([]row.Row, 0, len(old)+1)
	rows = append(rows, old[:pos]...)
	rows = append(rows, in.Clone().WithKind(row.Insert))
	rows = append(rows, old[pos:]...)
	var evicted *row.Row
	if len(rows) > n {
		evicted = &rows[n]
		rows = rows[:n]
	}
	f.buf = binary.AppendUvarint(f.buf[:0], uint64(len(rows)))
	for _, r := range rows {
		f.buf = f.codec.Append(f.buf, r)
	}
	f.rows.Update(string(f.buf))

	if !f.spec.OutputRank {
		ctx.Collect(rows[pos])
		if evicted != nil {
			ctx.Collect(evicted.WithKind(row.Delete))
		}
		return nil
	}
	for i := pos; i < len(rows); i++ {
		if i < len(old) {
			if f.spec.GenerateUpdateBefore {
				ctx.Collect(withRank(old[i], row.UpdateBefore, i+1))
			}
			ctx.Collect(withRank(rows[i], row.UpdateAfter, i+1))
		} else {
			ctx.Collect(withRank(rows[i], row.Insert, i+1))
		}
	}
	return nil
}

func withRank(r row.Row, k row.Kind, rank int) row.Row {
	f := make([]row.Value, len(r.Fields), len(r.Fields)+1)
	copy(f, r.Fields)
	return row.Row{Kind: k, Fields: append(f, row.Int(int64(rank)))}
}
