package plan

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/sql/expr"
)

// JoinType is the kind of a join in FROM.
type JoinType uint8

// Join types.
const (
	InnerJoin JoinType = iota
	LeftJoin
	RightJoin
	FullJoin
)

// String returns the join type as Flink's EXPLAIN prints it.
func (t JoinType) String() string {
	switch t {
	case LeftJoin:
		return "LeftOuterJoin"
	case RightJoin:
		return "RightOuterJoin"
	case FullJoin:
		return "FullOuterJoin"
	}
	return "InnerJoin"
}

// joinCommon holds what every join node has: inputs, equi-keys, the
// residual condition over the concatenated left and right columns, and
// the output columns (left columns then right columns).
type joinCommon struct {
	Left, Right         Rel
	Type                JoinType
	LeftKeys, RightKeys []int
	// NullSafe, when set, flags the key pairs that match NULL with NULL
	// (IS NOT DISTINCT FROM); regular joins only.
	NullSafe []bool
	// Residual is the non-equi part of the condition, over the
	// concatenated left+right row, or nil.
	Residual expr.Expr
	Cols     []Column
}

func (j *joinCommon) joinAttrs() []string {
	lw := len(j.Left.Columns())
	var conds []string
	for i := range j.LeftKeys {
		op := "="
		if j.NullSafe != nil && j.NullSafe[i] {
			op = "IS NOT DISTINCT FROM"
		}
		conds = append(conds, fmt.Sprintf("%s(%s, %s)", op, j.Cols[j.LeftKeys[i]].Name, j.Cols[lw+j.RightKeys[i]].Name))
	}
	for _, c := range conjuncts(j.Residual) {
		conds = append(conds, withNames(c, j.Cols))
	}
	where := "true"
	switch len(conds) {
	case 0:
	case 1:
		where = conds[0]
	default:
		where = "AND(" + strings.Join(conds, ", ") + ")"
	}
	return []string{"joinType=[" + j.Type.String() + "]", "where=[" + where + "]", "select=[" + names(j.Cols) + "]"}
}

// Columns implements Rel.
func (j *joinCommon) Columns() []Column { return j.Cols }

// Inputs implements Rel.
func (j *joinCommon) Inputs() []Rel { return []Rel{j.Left, j.Right} }

// Join is a regular streaming join (Flink's StreamingJoinOperator): both
// inputs are kept in state forever (or for the state TTL) and every
// change of either side is joined with the other side's rows of its key.
// Its time attributes become plain timestamps.
type Join struct {
	joinCommon
}

// Mode implements Rel: updating if an input is updating or the join is
// an outer join.
func (j *Join) Mode() Mode {
	if j.Type != InnerJoin || j.Left.Mode() == Updating || j.Right.Mode() == Updating {
		return Updating
	}
	return InsertOnly
}

func (j *Join) describe() (string, []string) {
	return "Join", j.joinAttrs()
}

// IntervalJoin is a time-bounded join of two append-only inputs:
// Right.time - Lower <= Left.time <= Right.time + Upper (ms, inclusive).
type IntervalJoin struct {
	joinCommon
	// LeftTime and RightTime are the time attribute columns.
	LeftTime, RightTime int
	// Lower and Upper bound the interval, in ms.
	Lower, Upper int64
	// ProcTime is set for a processing-time interval join.
	ProcTime bool
}

// Mode implements Rel: an interval join is append-only.
func (j *IntervalJoin) Mode() Mode { return InsertOnly }

func (j *IntervalJoin) describe() (string, []string) {
	attrs := j.joinAttrs()
	win := fmt.Sprintf("windowBounds=[isRowTime=%v, leftLowerBound=%d, leftUpperBound=%d, leftTimeIndex=%d, rightTimeIndex=%d]", !j.ProcTime, -j.Lower, j.Upper, j.LeftTime, j.RightTime)
	return "IntervalJoin", append([]string{attrs[0], win}, attrs[1:]...)
}

// WindowJoin joins two window table function (or window aggregation)
// outputs on equal windows and keys; it emits when a window closes.
type WindowJoin struct {
	joinCommon
	// Window is the (common) window of both inputs.
	Window Window
	// LeftStart, LeftEnd, RightStart and RightEnd are the window_start and
	// window_end columns of each side.
	LeftStart, LeftEnd, RightStart, RightEnd int
}

// Mode implements Rel: a window join is append-only.
func (j *WindowJoin) Mode() Mode { return InsertOnly }

func (j *WindowJoin) describe() (string, []string) {
	attrs := j.joinAttrs()
	lc, rc := j.Left.Columns(), j.Right.Columns()
	w := "leftWindow=[" + windowOn(j.Window, lc[j.LeftStart].Name, lc[j.LeftEnd].Name) + "], rightWindow=[" + windowOn(j.Window, rc[j.RightStart].Name, rc[j.RightEnd].Name) + "]"
	return "WindowJoin", append([]string{w}, attrs...)
}
