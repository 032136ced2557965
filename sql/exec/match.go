package exec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/cep"
	wcodec "github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// MatchSkip is an AFTER MATCH SKIP strategy of MatchRecognize.
type MatchSkip uint8

// AFTER MATCH SKIP strategies.
const (
	SkipToNextRow MatchSkip = iota
	SkipPastLastRow
	SkipToFirst
	SkipToLast
)

// MatchVar is one pattern variable of MatchRecognize: its quantifier and
// DEFINE condition (see MatchSpec).
type MatchVar struct {
	Name string
	// Min and Max bound the rows it takes (Max -1: unbounded); 1, 1
	// without a quantifier. Greedy is false for a reluctant quantifier.
	Min, Max int
	Greedy   bool
	// Define is the condition over the navigation slots (nil: TRUE); Navs
	// are the slots it reads.
	Define expr.Expr
	Navs   []int
}

// MatchNavKind is what a navigation slot computes.
type MatchNavKind uint8

// Navigation kinds (see MatchNav).
const (
	NavLast MatchNavKind = iota
	NavFirst
	NavPrev
	NavAgg
	NavRowtime
	NavProctime
)

// MatchNav is a navigation slot: a value computed from the rows of a
// (partial) match, which DEFINE conditions and measures read as an input
// column.
//
//   - NavLast: Arg on the Offset-th last row of Var (0: the last);
//   - NavFirst: Arg on the Offset-th row of Var from the first;
//   - NavPrev: Arg on the Offset-th row before the row under test;
//   - NavAgg: the aggregate Agg (COUNT, SUM, AVG, MIN, MAX; Arg nil for
//     COUNT(*)) of Arg over the rows of Var;
//   - NavRowtime, NavProctime: MATCH_ROWTIME() and MATCH_PROCTIME().
//
// Var "" stands for all rows (Flink's default pattern variable *). While
// a DEFINE condition of variable V is evaluated, the rows of V and of *
// end with the row under test.
type MatchNav struct {
	Kind     MatchNavKind
	Var      string
	Offset   int
	Arg      expr.Expr
	Agg      string
	Distinct bool
	T        row.Type
}

// MatchSpec configures MatchRecognize.
type MatchSpec struct {
	// InputTypes are the input's column types.
	InputTypes []row.Type
	// PartitionKeys are the PARTITION BY columns (none: one partition).
	PartitionKeys []int
	// TimeCol is the ORDER BY rowtime column, or ProcTime to match rows as
	// they arrive (processing time).
	TimeCol int
	// OrderBy orders the rows of equal timestamps (event time) by these
	// columns, after the time attribute (Flink's EventComparator); none:
	// arrival order.
	OrderBy []SortKey
	Vars    []MatchVar
	Navs    []MatchNav
	// Measures are the MEASURES expressions over the slots; MeasureNavs
	// the slots they read.
	Measures    []expr.Expr
	MeasureNavs []int
	Skip        MatchSkip
	SkipVar     string
	// Within bounds a match from its first row to its last (exclusive);
	// 0: unbounded.
	Within time.Duration
	// Location is the session time zone for the expressions.
	Location *time.Location
	// UID and Name identify the operator (default name "Match").
	UID, Name string
}

func (s *MatchSpec) check() error {
	if len(s.Vars) == 0 {
		return errors.New("sql/exec: MATCH_RECOGNIZE: empty pattern")
	}
	for _, k := range s.PartitionKeys {
		if k < 0 || k >= len(s.InputTypes) {
			return fmt.Errorf("sql/exec: MATCH_RECOGNIZE: partition column %d out of range of %d columns", k, len(s.InputTypes))
		}
	}
	if s.TimeCol != ProcTime && (s.TimeCol < 0 || s.TimeCol >= len(s.InputTypes) || !s.InputTypes[s.TimeCol].IsTimestamp()) {
		return fmt.Errorf("sql/exec: MATCH_RECOGNIZE: time column %d is not a timestamp column", s.TimeCol)
	}
	for _, v := range s.Vars {
		for _, n := range v.Navs {
			if n < 0 || n >= len(s.Navs) {
				return fmt.Errorf("sql/exec: MATCH_RECOGNIZE: DEFINE %s reads slot %d of %d", v.Name, n, len(s.Navs))
			}
		}
	}
	for _, n := range s.MeasureNavs {
		if n < 0 || n >= len(s.Navs) {
			return fmt.Errorf("sql/exec: MATCH_RECOGNIZE: MEASURES read slot %d of %d", n, len(s.Navs))
		}
	}
	return nil
}

// pattern builds the CEP pattern of the spec, as Flink's planner
// translates MATCH_RECOGNIZE: variables joined by strict contiguity
// (Next), quantified variables consecutive, greedy unless reluctant.
func (s *MatchSpec) pattern(p *matchProgram) *cep.Seq[matchRow] {
	var seq *cep.Seq[matchRow]
	for i, v := range s.Vars {
		if i == 0 {
			seq = cep.Begin[matchRow](v.Name)
		} else {
			seq = seq.Next(v.Name)
		}
		if v.Define != nil {
			seq.WhereCond(&defineCond{p: p, v: i})
		}
		optional := v.Min == 0 && v.Max == 1
		switch {
		case v.Min == 1 && v.Max == 1:
		case v.Min == 0 && v.Max == -1:
			seq.OneOrMore().Optional().Consecutive()
		case v.Min == 1 && v.Max == -1:
			seq.OneOrMore().Consecutive()
		case optional:
			seq.Optional()
		case v.Max != -1:
			from := v.Min
			if from == 0 {
				from = 1
				seq.Optional()
			}
			seq.TimesRange(from, v.Max).Consecutive()
			if from == v.Max {
				continue // a fixed count has nothing to be greedy about
			}
		default:
			seq.TimesOrMore(v.Min).Consecutive()
		}
		if v.Greedy && !optional && !(v.Min == 1 && v.Max == 1) {
			seq.Greedy()
		}
	}
	if s.Within > 0 {
		seq.Within(s.Within)
	}
	switch s.Skip {
	case SkipPastLastRow:
		seq.Skip(cep.SkipPastLastEvent())
	case SkipToFirst:
		seq.Skip(cep.SkipToFirst(s.SkipVar))
	case SkipToLast:
		seq.Skip(cep.SkipToLast(s.SkipVar))
	default:
		seq.Skip(cep.SkipToNext())
	}
	return seq
}

// MatchRecognize runs MATCH_RECOGNIZE ... ONE ROW PER MATCH on an
// append-only input, on the CEP engine (package cep): the input is keyed
// by the partition columns; in event time each row waits in keyed state
// until the watermark passes it and rows are matched in timestamp order
// (rows at or behind the watermark are late: dropped and counted in the
// operator's late_records_dropped_total metric, as Flink's CepOperator
// does); in processing time rows are matched on arrival. Each match emits
// one row: the partition columns, then the measures, stamped with the
// time of the row that completed the match.
func MatchRecognize(in weir.Stream[row.Row], spec MatchSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	p, err := newMatchProgram(&spec)
	if err != nil {
		return weir.Stream[row.Row]{}, err
	}
	seq := spec.pattern(p)
	if err := seq.Validate(); err != nil {
		return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: MATCH_RECOGNIZE: %w", err)
	}
	name := spec.Name
	if name == "" {
		name = "Match"
	}
	live := &matchRowSrc{c: p.codec}
	if len(spec.PartitionKeys) == 1 && intKeyType(spec.InputTypes[spec.PartitionKeys[0]]) {
		// One integer partition column: keyed by its value, no encoding,
		// read again from the row where KeyBy needs it.
		k := spec.PartitionKeys[0]
		rows := weir.Map(in, func(r row.Row) matchRow { return matchRow{f: r.Fields, src: live} }).Name(name + "Rows")
		return matchOn(weir.KeyBy(rows, func(r matchRow) intKey {
			if k >= len(r.f) {
				return intKey{}
			}
			v := r.f[k]
			return intKey{V: v.Int(), Null: v.IsNull()}
		}), seq, p, &spec, name), nil
	}
	key := func(row.Row) string { return "" }
	if len(spec.PartitionKeys) > 0 {
		key = joinKeySelector(spec.PartitionKeys, spec.InputTypes)
	}
	// The key is computed once here: KeyBy calls its function for the
	// exchange and again for the operator's key context.
	rows := weir.Map(in, func(r row.Row) matchRow {
		return matchRow{f: r.Fields, src: live, key: key(r)}
	}).Name(name + "Rows")
	return matchOn(weir.KeyBy(rows, func(r matchRow) string { return r.key }), seq, p, &spec, name), nil
}

// intKey is the partition key of a MATCH_RECOGNIZE partitioned by one
// integer column: its value, or NULL (one partition, as Flink groups NULL
// keys).
type intKey struct {
	V    int64
	Null bool
}

// intKeyType reports whether a partition column of type t can be keyed by
// its integer value: equal values are equal keys.
func intKeyType(t row.Type) bool {
	switch t.Root {
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		return true
	}
	return false
}

// matchOn runs the pattern on the keyed rows and computes the measures of
// each match.
func matchOn[K comparable](ks weir.KeyedStream[K, matchRow], seq *cep.Seq[matchRow], p *matchProgram, spec *MatchSpec, name string) weir.Stream[row.Row] {
	ps := cep.Pattern(ks, seq)
	if spec.TimeCol == ProcTime {
		ps = ps.InProcessingTime()
	} else if len(spec.OrderBy) > 0 {
		ps = ps.WithComparator(func(a, b matchRow) int {
			// A row queued in state may be an encoding (Pebble): decode it.
			x, errA := p.row(a)
			y, errB := p.row(b)
			if errA != nil || errB != nil {
				return 0 // arrival order; the measures report the error
			}
			return compareSortKeys(spec.OrderBy, spec.InputTypes, x.Fields, y.Fields)
		})
	}
	out := cep.SelectMatch(ps, func(_ K, m *cep.Match[matchRow]) (row.Row, error) { return p.measure(m) }).Name(name)
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out
}

// matchProgram is the compiled, immutable part of a MATCH_RECOGNIZE,
// shared by the subtasks; the evaluators, which are not safe for
// concurrent use, live in matchStates taken from a pool per call.
type matchProgram struct {
	spec   *MatchSpec
	codec  *row.Codec
	varIdx map[string]int
	navVar []int // per slot: variable index, -1 for all rows
	// parts are each variable's DEFINE condition split at its top-level
	// ANDs (see defineCond.Filter).
	parts  [][]definePart
	states sync.Pool
	err    error
}

func newMatchProgram(spec *MatchSpec) (*matchProgram, error) {
	p := &matchProgram{spec: spec, codec: row.NewCodec(spec.InputTypes), varIdx: map[string]int{}}
	for i, v := range spec.Vars {
		p.varIdx[v.Name] = i
	}
	p.navVar = make([]int, len(spec.Navs))
	for i, n := range spec.Navs {
		p.navVar[i] = -1
		if n.Var != "" {
			v, ok := p.varIdx[n.Var]
			if !ok {
				return nil, fmt.Errorf("sql/exec: MATCH_RECOGNIZE: slot %d names %s, not a pattern variable", i, n.Var)
			}
			p.navVar[i] = v
		}
	}
	p.parts = make([][]definePart, len(spec.Vars))
	for i, v := range spec.Vars {
		if v.Define == nil {
			continue
		}
		for _, c := range matchConjuncts(v.Define, nil) {
			part := definePart{cond: c}
			seen := map[int]bool{}
			expr.Refs(c, func(n int) {
				if !seen[n] {
					seen[n] = true
					part.navs = append(part.navs, n)
					part.history = part.history || p.needsHistory(n, i)
				}
			})
			p.parts[i] = append(p.parts[i], part)
		}
	}
	// Compile once to report errors now; states compile their own copies.
	st, err := p.newState()
	if err != nil {
		return nil, err
	}
	p.states.New = func() any {
		st, err := p.newState()
		if err != nil {
			return nil // cannot happen: the same expressions compiled above
		}
		return st
	}
	p.states.Put(st)
	return p, nil
}

// varOf returns the index of the pattern variable named name, as varIdx
// does, without hashing: patterns have a few variables, and the CEP
// engine hands back the very strings the pattern was built with, which
// compare equal at once.
func (p *matchProgram) varOf(name string) int {
	for i := range p.spec.Vars {
		if p.spec.Vars[i].Name == name {
			return i
		}
	}
	return p.varIdx[name]
}

// definePart is one conjunct of a DEFINE condition: the slots it reads,
// and whether one of them needs the partial match's earlier rows.
type definePart struct {
	cond    expr.Expr
	navs    []int
	history bool
}

// matchConjuncts splits a condition at its top-level ANDs.
func matchConjuncts(e expr.Expr, out []expr.Expr) []expr.Expr {
	if c, ok := e.(*expr.Call); ok && c.Func.Name == "AND" {
		for _, a := range c.Args {
			out = matchConjuncts(a, out)
		}
		return out
	}
	return append(out, e)
}

// needsHistory reports whether slot n, read by the DEFINE condition of
// variable v, needs more than the row under test: only the last row of v
// or of all rows (the row under test itself), PREV(x, 0) and the match
// times do not.
func (p *matchProgram) needsHistory(n, v int) bool {
	nav := &p.spec.Navs[n]
	switch nav.Kind {
	case NavLast:
		return nav.Offset != 0 || (p.navVar[n] >= 0 && p.navVar[n] != v)
	case NavPrev:
		return nav.Offset != 0
	case NavRowtime, NavProctime:
		return false
	}
	return true
}

// matchRow is an input row as the CEP engine keeps it in keyed state: its
// fields (the input's row values, not copied) and, for a string partition
// key, the key. It encodes itself in state (codec.SelfEncoder), when the
// state is snapshotted (heap backend) or written (pebble), not as it
// enters the matcher: most rows leave the matcher before any snapshot. A
// row decoded from state has only its encoding, decoded on use.
//
// The encoding, schema included, is the one of struct{Enc []byte} (Enc
// the row's row.Codec encoding), which matchRow was before it encoded
// itself, so that snapshots taken by earlier versions restore.
//
// matchRow is copied by value through the engine (exchange batches, the
// CEP buffer's event slots): it is kept small, 48 bytes.
type matchRow struct {
	f   []row.Value
	src *matchRowSrc
	key string
}

// matchRowSrc is where a matchRow's bytes come from: the codec that encodes
// a live row's fields (shared by all rows of a MatchRecognize), or the
// encoding of a row decoded from state.
type matchRowSrc struct {
	c   *row.Codec
	enc []byte
}

// matchRowSchema is the state layout of matchRow: the one of struct{Enc
// []byte} (see matchRow).
const matchRowSchema = "struct{Enc []uint;}"

// StateSchema implements codec.SelfSchema.
func (mr matchRow) StateSchema() string { return matchRowSchema }

// AppendState implements codec.SelfEncoder: a zero byte for an empty slot,
// else the length of the row's encoding plus one, then the encoding (as
// the default codec encodes a []byte).
func (mr matchRow) AppendState(dst []byte) []byte {
	if mr.f == nil {
		if mr.src == nil || mr.src.enc == nil {
			return append(dst, 0)
		}
		dst = binary.AppendUvarint(dst, uint64(len(mr.src.enc))+1)
		return append(dst, mr.src.enc...)
	}
	// Encode in place, then shift the encoding right by the size of its
	// length prefix.
	start := len(dst)
	dst = mr.src.c.Append(dst, row.Row{Fields: mr.f})
	n := len(dst) - start
	var pre [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(pre[:], uint64(n)+1)
	dst = append(dst, pre[:k]...)
	copy(dst[start+k:], dst[start:start+n])
	copy(dst[start:], pre[:k])
	return dst
}

// DecodeState implements codec.SelfDecoder: the row's encoding is kept,
// and decoded on use (matchProgram.row) by the program's codec.
func (mr *matchRow) DecodeState(src []byte) (int, error) {
	*mr = matchRow{}
	n, k := binary.Uvarint(src)
	if k <= 0 || (n > 0 && uint64(len(src)-k) < n-1) {
		return 0, fmt.Errorf("%w: MATCH_RECOGNIZE row", wcodec.ErrCorrupt)
	}
	if n == 0 {
		return k, nil
	}
	enc := make([]byte, n-1)
	copy(enc, src[k:])
	mr.src = &matchRowSrc{enc: enc}
	return k + int(n-1), nil
}

// row returns the row of mr.
func (p *matchProgram) row(mr matchRow) (row.Row, error) {
	if mr.f != nil || mr.src == nil || len(mr.src.enc) == 0 {
		return row.Row{Fields: mr.f}, nil
	}
	r, _, err := p.codec.Decode(mr.src.enc)
	if err != nil {
		return row.Row{}, fmt.Errorf("sql/exec: MATCH_RECOGNIZE: a row restored from a snapshot: %w", err)
	}
	return r, nil
}

// matchSlab is how many output rows a matchState's slab holds.
const matchSlab = 32

// matchState is one goroutine's evaluators and scratch space.
type matchState struct {
	ctx      expr.EvalContext
	navArgs  []expr.Evaluator
	navAccs  []*call
	defines  [][]expr.Evaluator // per variable, per part
	measures []expr.Evaluator
	slots    []row.Value
	one      [1]row.Value
	// slab is where output rows' values are carved from, matchSlab rows
	// at a time (one allocation instead of one per match).
	slab row.Slab
	// the rows of the (partial) match in order and their variables
	rows []row.Row
	vars []int
	// collect is st.add as a func value made once (EachEvent's callback
	// must not allocate per call); err is its error.
	collect func(step string, mr matchRow) bool
	err     error
	p       *matchProgram
}

// add appends a partial match's event (newest first) to st.rows.
func (st *matchState) add(step string, mr matchRow) bool {
	r, err := st.p.row(mr)
	if err != nil {
		st.err = err
		return false
	}
	st.rows = append(st.rows, r)
	st.vars = append(st.vars, st.p.varOf(step))
	return true
}

func (p *matchProgram) newState() (*matchState, error) {
	s := p.spec
	st := &matchState{ctx: expr.EvalContext{Location: s.Location}, slots: make([]row.Value, len(s.Navs)), p: p}
	st.collect = st.add
	st.navArgs = make([]expr.Evaluator, len(s.Navs))
	st.navAccs = make([]*call, len(s.Navs))
	for i, n := range s.Navs {
		if n.Arg != nil {
			ev, err := expr.Compile(n.Arg)
			if err != nil {
				return nil, fmt.Errorf("sql/exec: MATCH_RECOGNIZE: %w", err)
			}
			st.navArgs[i] = ev
		}
		if n.Kind == NavAgg {
			var args []int
			var types []row.Type
			if n.Arg != nil {
				args, types = []int{0}, []row.Type{n.Arg.Type()}
			}
			f, err := ParseFunc(n.Agg, len(args))
			if err != nil {
				return nil, err
			}
			k, err := newCall(AggCall{Func: f, Args: args, Distinct: n.Distinct, Filter: NoFilter}, types, false)
			if err != nil {
				return nil, err
			}
			st.navAccs[i] = k
		}
	}
	st.defines = make([][]expr.Evaluator, len(s.Vars))
	for i, parts := range p.parts {
		for _, part := range parts {
			ev, err := expr.Compile(part.cond)
			if err != nil {
				return nil, fmt.Errorf("sql/exec: MATCH_RECOGNIZE: DEFINE %s: %w", s.Vars[i].Name, err)
			}
			st.defines[i] = append(st.defines[i], ev)
		}
	}
	st.measures = make([]expr.Evaluator, len(s.Measures))
	for i, m := range s.Measures {
		ev, err := expr.Compile(m)
		if err != nil {
			return nil, fmt.Errorf("sql/exec: MATCH_RECOGNIZE: measure %d: %w", i, err)
		}
		st.measures[i] = ev
	}
	return st, nil
}

func (p *matchProgram) get() *matchState { return p.states.Get().(*matchState) }

func (p *matchProgram) put(st *matchState) {
	clear(st.rows)
	st.rows, st.vars = st.rows[:0], st.vars[:0]
	p.states.Put(st)
}

// fill computes the slots navs over st.rows (with their variables in
// st.vars), at match timestamp ts and processing time proc.
func (p *matchProgram) fill(st *matchState, navs []int, ts, proc int64) error {
	for _, i := range navs {
		n := &p.spec.Navs[i]
		v := p.navVar[i]
		var val row.Value
		var err error
		switch n.Kind {
		case NavLast, NavFirst:
			k := -1
			if n.Kind == NavLast {
				seen := 0
				for j := len(st.rows) - 1; j >= 0; j-- {
					if v < 0 || st.vars[j] == v {
						if seen == n.Offset {
							k = j
							break
						}
						seen++
					}
				}
			} else {
				seen := 0
				for j := range st.rows {
					if v < 0 || st.vars[j] == v {
						if seen == n.Offset {
							k = j
							break
						}
						seen++
					}
				}
			}
			if k >= 0 {
				val, err = st.navArgs[i](&st.ctx, st.rows[k].Fields)
			}
		case NavPrev:
			if k := len(st.rows) - 1 - n.Offset; k >= 0 && k < len(st.rows) {
				val, err = st.navArgs[i](&st.ctx, st.rows[k].Fields)
			}
		case NavAgg:
			acc := st.navAccs[i]
			acc.acc.reset()
			for j, r := range st.rows {
				if v >= 0 && st.vars[j] != v {
					continue
				}
				if st.navArgs[i] != nil {
					if st.one[0], err = st.navArgs[i](&st.ctx, r.Fields); err != nil {
						break
					}
				}
				acc.apply(row.Row{Fields: st.one[:]}, false)
			}
			val = acc.acc.value()
			st.one[0] = row.Value{}
		case NavRowtime:
			val = row.Timestamp(ts, 0)
		case NavProctime:
			val = row.Timestamp(proc, 0)
		}
		if err != nil {
			return fmt.Errorf("sql/exec: MATCH_RECOGNIZE: %s: %w", p.navName(i), err)
		}
		st.slots[i] = val
	}
	return nil
}

func (p *matchProgram) navName(i int) string {
	n := p.spec.Navs[i]
	v := n.Var
	if v == "" {
		v = "*"
	}
	arg := "*"
	if n.Arg != nil {
		arg = n.Arg.String()
	}
	switch n.Kind {
	case NavFirst:
		return fmt.Sprintf("FIRST(%s.%s, %d)", v, arg, n.Offset)
	case NavPrev:
		return fmt.Sprintf("PREV(%s, %d)", arg, n.Offset)
	case NavAgg:
		return fmt.Sprintf("%s(%s.%s)", n.Agg, v, arg)
	}
	return fmt.Sprintf("LAST(%s.%s, %d)", v, arg, n.Offset)
}

// defineCond is the DEFINE condition of one pattern variable as a CEP
// condition: it sees the partial match and the row under test.
type defineCond struct {
	p *matchProgram
	v int
}

// Filter implements cep.Condition. The condition's conjuncts are
// evaluated in order and the first that is not TRUE decides (as Flink's
// generated code short-circuits AND); the partial match's rows are
// collected only once a conjunct reads more than the row under test.
func (c *defineCond) Filter(ev matchRow, ctx *cep.Context[matchRow]) (bool, error) {
	p := c.p
	cur, err := p.row(ev)
	if err != nil {
		return false, err
	}
	st := p.get()
	defer p.put(st)
	st.rows = append(st.rows, cur)
	st.vars = append(st.vars, c.v)
	collected := false
	v := &p.spec.Vars[c.v]
	for k, part := range p.parts[c.v] {
		if part.history && !collected {
			collected = true
			st.rows, st.vars = st.rows[:0], st.vars[:0]
			st.err = nil
			ctx.EachEvent(st.collect)
			if st.err != nil {
				return false, st.err
			}
			for i, j := 0, len(st.rows)-1; i < j; i, j = i+1, j-1 {
				st.rows[i], st.rows[j] = st.rows[j], st.rows[i]
				st.vars[i], st.vars[j] = st.vars[j], st.vars[i]
			}
			st.rows = append(st.rows, cur)
			st.vars = append(st.vars, c.v)
		}
		if err := p.fill(st, part.navs, ctx.Timestamp(), 0); err != nil {
			return false, fmt.Errorf("DEFINE %s: %w", v.Name, err)
		}
		out, err := st.defines[c.v][k](&st.ctx, st.slots)
		if err != nil {
			return false, fmt.Errorf("sql/exec: MATCH_RECOGNIZE: DEFINE %s: %w", v.Name, err)
		}
		if out.IsNull() || !out.Bool() {
			return false, nil
		}
	}
	return true, nil
}

// measure computes a match's output row: the partition columns (from its
// first row), then the measures.
func (p *matchProgram) measure(m *cep.Match[matchRow]) (row.Row, error) {
	st := p.get()
	defer p.put(st)
	for i, mr := range m.Events() {
		r, err := p.row(mr)
		if err != nil {
			return row.Row{}, err
		}
		st.rows = append(st.rows, r)
		st.vars = append(st.vars, p.varOf(m.Step(i)))
	}
	evs := st.rows
	if err := p.checkSkip(st); err != nil {
		return row.Row{}, err
	}
	if err := p.fill(st, p.spec.MeasureNavs, m.Timestamp(), m.ProcessingTime()); err != nil {
		return row.Row{}, err
	}
	s := p.spec
	n := len(s.PartitionKeys) + len(s.Measures)
	out := row.Row{Fields: st.slab.Take(n, matchSlab)}
	for i, k := range s.PartitionKeys {
		out.Fields[i] = evs[0].Fields[k]
	}
	for i, ev := range st.measures {
		v, err := ev(&st.ctx, st.slots)
		if err != nil {
			return row.Row{}, fmt.Errorf("sql/exec: MATCH_RECOGNIZE: measure %d: %w", i+1, err)
		}
		out.Fields[len(s.PartitionKeys)+i] = v
	}
	return out, nil
}

// checkSkip fails the job, as Flink's throwExceptionOnMiss does for SQL,
// when SKIP TO FIRST/LAST names a variable the match has no row of, or
// would restart at the match's own first row (an endless loop).
func (p *matchProgram) checkSkip(st *matchState) error {
	s := p.spec
	if s.Skip != SkipToFirst && s.Skip != SkipToLast {
		return nil
	}
	v := p.varIdx[s.SkipVar]
	at := -1
	for j := range st.rows {
		if st.vars[j] == v {
			if at < 0 || s.Skip == SkipToLast {
				at = j
			}
		}
	}
	what := "FIRST"
	if s.Skip == SkipToLast {
		what = "LAST"
	}
	switch at {
	case -1:
		return fmt.Errorf("sql/exec: MATCH_RECOGNIZE: AFTER MATCH SKIP TO %s %s: Could not skip to %s. No element in the match with the pattern name %s", what, s.SkipVar, s.SkipVar, s.SkipVar)
	case 0:
		return fmt.Errorf("sql/exec: MATCH_RECOGNIZE: AFTER MATCH SKIP TO %s %s: Could not skip to first element of a match (the next match would start where this one did: an endless loop)", what, s.SkipVar)
	}
	return nil
}
