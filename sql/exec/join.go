package exec

import (
	"errors"
	"fmt"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// JoinType is the kind of a SQL join.
type JoinType uint8

// Join types.
const (
	// InnerJoin emits only matching pairs.
	InnerJoin JoinType = iota
	// LeftJoin (LEFT OUTER JOIN) also emits left rows without a match,
	// padded with NULLs on the right.
	LeftJoin
	// RightJoin (RIGHT OUTER JOIN) also emits right rows without a match.
	RightJoin
	// FullJoin (FULL OUTER JOIN) emits unmatched rows of both sides.
	FullJoin
	// SemiJoin (l WHERE EXISTS / IN (SELECT ... r)) emits the left rows
	// that have a match, left columns only. RegularJoin only.
	SemiJoin
	// AntiJoin (NOT EXISTS / NOT IN) emits the left rows without a match,
	// left columns only. RegularJoin only.
	AntiJoin
)

// String returns the SQL name of the join type.
func (t JoinType) String() string {
	switch t {
	case InnerJoin:
		return "INNER"
	case LeftJoin:
		return "LEFT"
	case RightJoin:
		return "RIGHT"
	case FullJoin:
		return "FULL"
	case SemiJoin:
		return "SEMI"
	case AntiJoin:
		return "ANTI"
	}
	return fmt.Sprintf("JoinType(%d)", uint8(t))
}

func (t JoinType) leftOuter() bool  { return t == LeftJoin || t == FullJoin }
func (t JoinType) rightOuter() bool { return t == RightJoin || t == FullJoin }

// JoinCondition is a compiled non-equi residual join condition: it reports
// whether a left row and a right row (their fields) join. A NULL (unknown)
// result must be reported as false, as SQL's WHERE/ON does.
type JoinCondition func(left, right []row.Value) (bool, error)

// JoinSpec configures RegularJoin.
type JoinSpec struct {
	// Type is the join type.
	Type JoinType
	// LeftTypes and RightTypes are the field types of the inputs.
	LeftTypes, RightTypes []row.Type
	// LeftKeys and RightKeys are the equi-join key columns, pairwise
	// (LeftKeys[i] = RightKeys[i]); at least one pair. A row with a NULL
	// in a key column never matches (SQL's =).
	LeftKeys, RightKeys []int
	// NullSafe, if set, has one flag per key pair: true makes that pair
	// match NULL with NULL (IS NOT DISTINCT FROM) instead of never.
	NullSafe []bool
	// Condition is the optional residual condition (nil = none).
	Condition JoinCondition
	// StateTTL is table.exec.state.ttl: how long (processing time) a row
	// is kept in join state after it was last written; 0 keeps it forever.
	StateTTL time.Duration
	// LeftStateTTL and RightStateTTL, when positive, override StateTTL
	// for one side (Flink's STATE_TTL hint).
	LeftStateTTL, RightStateTTL time.Duration
	// LeftAppendOnly and RightAppendOnly declare an input insert-only
	// (+I rows only; a retraction from it is an error). Such a side, if it
	// is not an outer side, keeps its rows in a cheaper state layout (see
	// join_append.go).
	LeftAppendOnly, RightAppendOnly bool
	// Project, if not nil, lists the columns of the joined row (left
	// columns, then right columns) that an output row has, in its order: a
	// Calc that only keeps or reorders the join's columns, run in the join
	// so that a pair is written once with the columns read above it
	// (join_project.go). The condition still sees both whole rows, and the
	// state keeps them whole. nil emits every column. Not for SEMI and
	// ANTI joins (their output is the left row as received).
	Project []int
	// MiniBatch, when enabled, holds each side's rows of a batch in
	// memory, folds a row's accumulation and retraction within the batch,
	// and joins the rest when the batch is flushed (Flink's
	// MiniBatchStreamingJoinOperator; join_minibatch.go). Not for SEMI and
	// ANTI joins.
	MiniBatch MiniBatch
	// listLayout keeps a list side's rows in the list state where they
	// could be kept values (join_kept.go): for tests of the layouts'
	// restores into each other, and benchmarks.
	listLayout bool
}

func (s *JoinSpec) check() error {
	if s.Type > AntiJoin {
		return fmt.Errorf("sql/exec: join: unknown join type %d", s.Type)
	}
	if len(s.LeftKeys) == 0 || len(s.LeftKeys) != len(s.RightKeys) {
		return fmt.Errorf("sql/exec: join: need equal, non-empty lists of left and right key columns (have %d and %d)", len(s.LeftKeys), len(s.RightKeys))
	}
	for i := range s.LeftKeys {
		l, r := s.LeftKeys[i], s.RightKeys[i]
		if l < 0 || l >= len(s.LeftTypes) || r < 0 || r >= len(s.RightTypes) {
			return fmt.Errorf("sql/exec: join: key pair %d (%d, %d) out of range of %d left and %d right columns", i, l, r, len(s.LeftTypes), len(s.RightTypes))
		}
		if err := checkJoinKeyTypes(s.LeftTypes[l], s.RightTypes[r]); err != nil {
			return fmt.Errorf("sql/exec: join: key pair %d: %w", i, err)
		}
	}
	if s.NullSafe != nil && len(s.NullSafe) != len(s.LeftKeys) {
		return fmt.Errorf("sql/exec: join: %d null-safe flags for %d key pairs", len(s.NullSafe), len(s.LeftKeys))
	}
	if s.StateTTL < 0 || s.LeftStateTTL < 0 || s.RightStateTTL < 0 {
		return errors.New("sql/exec: join: negative state TTL")
	}
	if s.Project != nil {
		if s.Type >= SemiJoin {
			return fmt.Errorf("sql/exec: join: no projection for a %s join", s.Type)
		}
		for i, c := range s.Project {
			if c < 0 || c >= len(s.LeftTypes)+len(s.RightTypes) {
				return fmt.Errorf("sql/exec: join: projected column %d (%d) out of range of %d columns", i, c, len(s.LeftTypes)+len(s.RightTypes))
			}
		}
	}
	if s.MiniBatch.Enabled() && s.Type >= SemiJoin {
		return fmt.Errorf("sql/exec: join: no mini-batch for a %s join (Flink's StreamingSemiAntiJoinOperator has none)", s.Type)
	}
	return s.MiniBatch.check()
}

// checkKeyTypes requires the two sides of an equi-key to encode equal
// values to equal bytes: the same root type (the planner casts otherwise).
func checkJoinKeyTypes(l, r row.Type) error {
	if !l.WithNullable(true).Equal(r.WithNullable(true)) {
		if l.Root == r.Root && (l.IsString() || l.IsBinary() || l.IsTimestamp()) {
			return nil
		}
		return fmt.Errorf("key types %s and %s differ (cast one side first)", l, r)
	}
	return nil
}

func joinKeyTypes(types []row.Type, idx []int) []row.Type {
	out := make([]row.Type, len(idx))
	for i, c := range idx {
		out[i] = types[c]
	}
	return out
}

// joinKeySelector returns the KeyBy function of one side: the encoded key
// columns. Rows with a NULL key all land on one key; they never match
// because the operator checks for NULLs before it looks at the other side.
func joinKeySelector(idx []int, types []row.Type) func(row.Row) string {
	if sel := intJoinKey(idx, types); sel != nil {
		return sel
	}
	kt := joinKeyTypes(types, idx)
	return func(r row.Row) string {
		if len(r.Fields) != len(types) {
			// A malformed row: the operator rejects it with an error; it
			// must not panic here.
			return ""
		}
		var buf [64]byte
		return string(row.AppendKey(buf[:0], r, idx, kt))
	}
}

func hasNullKey(r row.Row, idx []int) bool { return hasRejectedNull(r, idx, nil) }

// hasRejectedNull reports whether r has a NULL in a key column whose pair
// is not null-safe.
func hasRejectedNull(r row.Row, idx []int, nullSafe []bool) bool {
	for j, i := range idx {
		if r.Fields[i].IsNull() && (nullSafe == nil || !nullSafe[j]) {
			return true
		}
	}
	return false
}

// joinCounts is what join state keeps for each distinct row of one side:
// how many times it is present, and (outer sides only) with how many rows
// of the other side it is associated.
type joinCounts struct {
	N     int64
	Assoc int64
}

// RegularJoin joins two changelog streams on equal keys (Flink's
// StreamingJoinOperator): every row of both sides is kept in keyed state
// with its multiplicity, and each input row is joined with the other side's
// rows of the same key that satisfy the residual condition.
//
// Output rows are the left columns followed by the right columns (the left
// columns only for SEMI and ANTI joins, see semiAnti). An inner
// join emits the pairs with the input row's kind (+I/+U for an accumulating
// row, -U/-D for a retraction). With an outer side, accumulated pairs are
// +I, and pairs retracted by a row of an outer side -D (a retraction from
// the inner side keeps its kind, as in Flink). A row of an outer side
// without a match is emitted padded with NULLs (+I); when its first match
// arrives the padded row is retracted (-D) just before the pair is emitted,
// and when its last match is retracted the padded row is emitted again
// (+I) just after. The inputs may be append-only or updating; a retraction
// of a row not in state still retracts the pairs it would have formed, as
// Flink does.
//
// Unlike Flink (whose association count ignores a duplicate's arrival but
// not its retraction), each outer row counts its matches with
// multiplicity, so duplicates on either side give the same table as a
// batch join.
func RegularJoin(left, right weir.Stream[row.Row], spec JoinSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	fn := &regularJoinFn{spec: spec}
	fn.lcodec = row.NewCodec(spec.LeftTypes)
	fn.rcodec = row.NewCodec(spec.RightTypes)
	ks := weir.ConnectKeyed(
		weir.KeyBy(left, joinKeySelector(spec.LeftKeys, spec.LeftTypes)),
		weir.KeyBy(right, joinKeySelector(spec.RightKeys, spec.RightTypes)))
	return weir.CoProcessKeyed[string, row.Row, row.Row, row.Row](ks, fn).DefaultName("Join(" + spec.Type.String() + ")"), nil
}

type regularJoinFn struct {
	spec           JoinSpec
	lcodec, rcodec *row.Codec
	lstate, rstate state.Map[string, joinCounts]
	// entries is a scratch copy of the other side's rows of a key
	// (state.AppendEntries: ranging over All allocates per call).
	entries []state.Entry[string, joinCounts]
	// strs is a scratch copy of a list side's rows of a key
	// (state.AppendList).
	strs []string
	// lrows, rrows keep the rows of an append-only side instead of
	// lstate, rstate (join_append.go); nil otherwise.
	lrows, rrows state.List[string]
	// lside, rside are the states of the append-only sides (lrows and
	// rrows, and their kept values, join_kept.go); nil otherwise.
	lside, rside *listSide
	// keptEnc is the encoding of a row kept in a joinKept.
	keptEnc []byte
	// scratch, per subtask (nil in the shared template)
	buf   []byte
	assoc []joinMatch
	// lcache, rcache hold decoded rows of a list side (join_probe.go);
	// slab is where output rows' fields are carved from.
	lcache, rcache *rowCache
	slab           row.Slab
	// lnull, rnull are rows of NULLs of each side's width, only read
	// (nullRow).
	lnull, rnull []row.Value
	// chunk is where the encodings appended to a list side are copied
	// (join_probe.go).
	chunk []byte
	// mb holds the rows of a mini-batch (join_minibatch.go; nil without
	// mini-batch); flushing and ts: the rows emitted now are a
	// mini-batch's, with timestamp ts.
	mb       *joinBundle
	flushing bool
	ts       int64
	// heldEnc is the encoding of the held row being joined (nil
	// otherwise).
	heldEnc []byte
}

// joinMatch is one distinct row of the other side that satisfies the
// condition, with its state entry.
type joinMatch struct {
	enc string
	r   row.Row
	c   joinCounts
}

func joinStateTTL(d time.Duration) state.TTL {
	if d <= 0 {
		return state.TTL{}
	}
	return state.TTL{TTL: d, Update: state.OnCreateAndWrite, Visibility: state.NeverReturnExpired}
}

func (f *regularJoinFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	lttl, rttl := f.spec.StateTTL, f.spec.StateTTL
	if f.spec.LeftStateTTL > 0 {
		lttl = f.spec.LeftStateTTL
	}
	if f.spec.RightStateTTL > 0 {
		rttl = f.spec.RightStateTTL
	}
	f.lstate = state.GetMap[string, string, joinCounts](ctx.State(), state.Descriptor{Name: "join-left", TTL: joinStateTTL(lttl)})
	f.rstate = state.GetMap[string, string, joinCounts](ctx.State(), state.Descriptor{Name: "join-right", TTL: joinStateTTL(rttl)})
	f.openLists(ctx.State(), joinStateTTL(lttl), joinStateTTL(rttl))
	if f.spec.MiniBatch.Enabled() {
		// In Open: each subtask has its own copy of f (and so of mb).
		f.mb = newJoinBundle()
	}
	return nil
}

func (f *regularJoinFn) ProcessElement1(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if f.spec.Type >= SemiJoin {
		return f.semiAnti(ctx, in, true)
	}
	if f.mb != nil {
		return f.buffer(ctx, in, true)
	}
	return f.process(ctx, in, true)
}

func (f *regularJoinFn) ProcessElement2(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if f.spec.Type >= SemiJoin {
		return f.semiAnti(ctx, in, false)
	}
	if f.mb != nil {
		return f.buffer(ctx, in, false)
	}
	return f.process(ctx, in, false)
}

// matches fills f.assoc with the other side's rows that join in (a row of
// the left side if isLeft), of the join key key.
func (f *regularJoinFn) matches(key string, in row.Row, isLeft bool) error {
	s := &f.spec
	inKeys, otherState, otherCodec := s.LeftKeys, f.rstate, f.rcodec
	if !isLeft {
		inKeys, otherState, otherCodec = s.RightKeys, f.lstate, f.lcodec
	}
	f.assoc = f.assoc[:0]
	if hasRejectedNull(in, inKeys, s.NullSafe) {
		return nil
	}
	// An append-only other side keeps its rows in a list; its map holds
	// only rows restored from a snapshot taken before it did (join_append.go),
	// matched first.
	otherRows, otherSide, otherList, otherCache := f.rrows, f.rside, f.rcodec, f.rcache
	if !isLeft {
		otherRows, otherSide, otherList, otherCache = f.lrows, f.lside, f.lcodec, f.lcache
	}
	// (A list side's map is empty unless restored from such a
	// snapshot: IsEmpty answers without copying entries.)
	if otherRows != nil && otherState.IsEmpty() {
		return f.listMatches(key, in, isLeft, otherSide, otherList, otherCache)
	}
	f.entries = state.AppendEntries(otherState, f.entries[:0])
	defer clear(f.entries) // no encodings kept alive
	for _, e := range f.entries {
		oenc, c := e.Key, e.Value
		o, err := decodeStored(otherCodec, oenc)
		if err != nil {
			return err
		}
		ok := true
		if s.Condition != nil {
			var err error
			if isLeft {
				ok, err = s.Condition(in.Fields, o.Fields)
			} else {
				ok, err = s.Condition(o.Fields, in.Fields)
			}
			if err != nil {
				return fmt.Errorf("sql/exec: join condition: %w", err)
			}
		}
		if ok {
			f.assoc = append(f.assoc, joinMatch{enc: oenc, r: o, c: c})
		}
	}
	sortMatches(f.assoc)
	if otherRows != nil {
		return f.listMatches(key, in, isLeft, otherSide, otherList, otherCache)
	}
	return nil
}

// semiAnti is Flink's StreamingSemiAntiJoinOperator. A left row is
// emitted with its own kind when it has a match (semi) or none (anti); a
// right row that gives a left row its first match emits that left row +I
// (semi) or -D (anti), and one that takes its last match away emits -D
// (semi) or +I (anti).
func (f *regularJoinFn) semiAnti(ctx *weir.KeyedContext[string, row.Row], in row.Row, isLeft bool) error {
	s := &f.spec
	anti := s.Type == AntiJoin
	types, c, st := s.LeftTypes, f.lcodec, f.lstate
	if !isLeft {
		types, c, st = s.RightTypes, f.rcodec, f.rstate
	}
	if len(in.Fields) != len(types) {
		return fmt.Errorf("sql/exec: join: input row has %d fields, want %d", len(in.Fields), len(types))
	}
	f.buf = c.Append(f.buf[:0], in.WithKind(row.Insert))
	enc := string(f.buf)
	if err := f.matches(ctx.Key(), in, isLeft); err != nil {
		return err
	}
	var n int64
	for _, m := range f.assoc {
		n += m.c.N
	}
	if isLeft {
		if (n > 0) != anti {
			ctx.Collect(in)
		}
		cur, _ := st.Get(enc)
		if in.Kind.IsAccumulate() {
			cur.N++
			cur.Assoc = n
			st.Put(enc, cur)
		} else if cur.N > 1 {
			cur.N--
			st.Put(enc, cur)
		} else {
			st.Remove(enc)
		}
		return nil
	}
	cur, _ := st.Get(enc)
	acc := in.Kind.IsAccumulate()
	if acc {
		cur.N++
		st.Put(enc, cur)
	} else if cur.N > 1 {
		cur.N--
		st.Put(enc, cur)
	} else {
		st.Remove(enc)
	}
	for _, m := range f.assoc {
		switch {
		case acc && m.c.Assoc == 0:
			k := row.Insert
			if anti {
				k = row.Delete
			}
			for range m.c.N {
				ctx.Collect(m.r.WithKind(k))
			}
		case !acc && m.c.Assoc == 1:
			k := row.Delete
			if anti {
				k = row.Insert
			}
			for range m.c.N {
				ctx.Collect(m.r.WithKind(k))
			}
		}
		if acc {
			m.c.Assoc++
		} else if m.c.Assoc > 0 {
			m.c.Assoc--
		}
		f.lstate.Put(m.enc, m.c)
	}
	return nil
}

// process is StreamingJoinOperator's processElement for one input row.
func (f *regularJoinFn) process(ctx *weir.KeyedContext[string, row.Row], in row.Row, isLeft bool) error {
	s := &f.spec
	inTypes, inCodec, inState, otherState := s.LeftTypes, f.lcodec, f.lstate, f.rstate
	inOuter, otherOuter := s.Type.leftOuter(), s.Type.rightOuter()
	if !isLeft {
		inTypes, inCodec, inState, otherState = s.RightTypes, f.rcodec, f.rstate, f.lstate
		inOuter, otherOuter = otherOuter, inOuter
	}
	if len(in.Fields) != len(inTypes) {
		return fmt.Errorf("sql/exec: join: input row has %d fields, want %d", len(in.Fields), len(inTypes))
	}
	inRows, inSide := f.lrows, f.lside
	if !isLeft {
		inRows, inSide = f.rrows, f.rside
	}
	if inRows != nil && !in.Kind.IsAccumulate() {
		return fmt.Errorf("sql/exec: join: a %s row on an input planned as insert-only", in.Kind)
	}
	// The row as kept in state: its fields with kind +I.
	var enc string
	switch {
	case inSide != nil && inSide.inPlace:
		// Copied into the key's kept rows below.
		f.keptEnc = inCodec.Append(f.keptEnc[:0], in.WithKind(row.Insert))
	case inRows != nil:
		enc = f.listRow(inCodec, in)
	case f.heldEnc != nil: // a mini-batch's row, encoded when it was held
		enc = string(f.heldEnc)
	default:
		f.buf = inCodec.Append(f.buf[:0], in.WithKind(row.Insert))
		enc = string(f.buf)
	}

	// The other side's rows that match (a NULL key matches nothing).
	if err := f.matches(ctx.Key(), in, isLeft); err != nil {
		return err
	}
	emit := func(o row.Row, k row.Kind) {
		if isLeft {
			f.collect(ctx, f.joinRows(k, in.Fields, o.Fields))
		} else {
			f.collect(ctx, f.joinRows(k, o.Fields, in.Fields))
		}
	}
	// NULL rows of a side, only read (joinRows copies them).
	nullOther := func() []row.Value {
		if isLeft {
			return f.nullRow(false)
		}
		return f.nullRow(true)
	}
	emitPadded := func(o row.Row, k row.Kind) { // other side's row with NULLs for the input side
		if isLeft {
			f.collect(ctx, f.joinRows(k, f.nullRow(true), o.Fields))
		} else {
			f.collect(ctx, f.joinRows(k, o.Fields, f.nullRow(false)))
		}
	}
	// n counts the matches with multiplicity.
	var n int64
	for _, m := range f.assoc {
		n += m.c.N
	}

	if in.Kind.IsAccumulate() {
		if inOuter && len(f.assoc) == 0 {
			if isLeft {
				f.collect(ctx, f.joinRows(row.Insert, in.Fields, nullOther()))
			} else {
				f.collect(ctx, f.joinRows(row.Insert, nullOther(), in.Fields))
			}
		}
		// Pairs keep the input's kind only when neither side is outer.
		kind := row.Insert
		if !inOuter && !otherOuter {
			kind = in.Kind
		}
		for _, m := range f.assoc {
			for range m.c.N {
				// An outer row of the other side that had no match loses
				// its padded row before its first pair.
				if otherOuter && m.c.Assoc == 0 {
					emitPadded(m.r, row.Delete)
				}
				emit(m.r, kind)
			}
			if otherOuter {
				m.c.Assoc++
				otherState.Put(m.enc, m.c)
			}
		}
		if inSide != nil && inSide.inPlace {
			if err := inSide.check(); err != nil {
				return err
			}
			f.strs = inSide.keep(f.keptEnc, f.strs)
			return nil
		}
		if inRows != nil {
			inRows.Add(enc)
			return nil
		}
		c, _ := inState.Get(enc)
		c.N++
		if inOuter {
			c.Assoc = n
		}
		inState.Put(enc, c)
		return nil
	}

	// A retraction.
	if inOuter && len(f.assoc) == 0 {
		if isLeft {
			f.collect(ctx, f.joinRows(row.Delete, in.Fields, nullOther()))
		} else {
			f.collect(ctx, f.joinRows(row.Delete, nullOther(), in.Fields))
		}
	}
	// Retracted pairs keep the input's kind unless the input side is outer.
	kind := in.Kind
	if inOuter {
		kind = row.Delete
	}
	for _, m := range f.assoc {
		for range m.c.N {
			emit(m.r, kind)
			// An outer row of the other side that loses its last match is
			// emitted padded again.
			if otherOuter && m.c.Assoc == 1 {
				emitPadded(m.r, row.Insert)
			}
		}
		if otherOuter {
			if m.c.Assoc > 0 {
				m.c.Assoc--
			}
			otherState.Put(m.enc, m.c)
		}
	}
	if c, ok := inState.Get(enc); ok {
		c.N--
		if c.N <= 0 {
			inState.Remove(enc)
		} else {
			inState.Put(enc, c)
		}
	}
	return nil
}

// sortMatches orders matches by their encoding, so that the output does
// not depend on the state backend's iteration order.
func sortMatches(ms []joinMatch) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].enc < ms[j-1].enc; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

func joinRows(k row.Kind, l, r []row.Value) row.Row {
	f := make([]row.Value, 0, len(l)+len(r))
	f = append(f, l...)
	f = append(f, r...)
	return row.Row{Kind: k, Fields: f}
}
