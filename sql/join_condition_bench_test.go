package sql

import (
	"testing"
	"time"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/expr"
)

// BenchmarkJoinCondition: one evaluation of Nexmark q4's residual join
// condition (B.dateTime BETWEEN A.dateTime AND A.expires over the
// auction's id, dateTime, expires, category and the bid's auction, price,
// dateTime), through the pooled condition every join but the regular one
// uses (pooled) and through a subtask's own (unshared, JoinSpec.NewCondition).
func BenchmarkJoinCondition(b *testing.B) {
	ts := row.TimestampType(3)
	ge, err := expr.NewCall(">=", expr.Ref(6, ts), expr.Ref(1, ts))
	if err != nil {
		b.Fatal(err)
	}
	le, err := expr.NewCall("<=", expr.Ref(6, ts), expr.Ref(2, ts))
	if err != nil {
		b.Fatal(err)
	}
	cond, err := expr.NewCall("AND", ge, le)
	if err != nil {
		b.Fatal(err)
	}
	tr := &translator{loc: time.UTC}
	const t0 = 1_796_601_600_000 // ms
	l := []row.Value{row.Int(1), row.Timestamp(t0, 0), row.Timestamp(t0+3_600_000, 0), row.Int(10)}
	r := []row.Value{row.Int(1), row.Int(100), row.Timestamp(t0+60_000, 0)}
	run := func(b *testing.B, c exec.JoinCondition) {
		for b.Loop() {
			if ok, err := c(l, r); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	}
	b.Run("pooled", func(b *testing.B) {
		c, err := tr.joinCondition(cond)
		if err != nil {
			b.Fatal(err)
		}
		run(b, c)
	})
	b.Run("unshared", func(b *testing.B) {
		newCond, err := tr.joinConditions(cond)
		if err != nil {
			b.Fatal(err)
		}
		run(b, newCond())
	})
}
