package connector

import "github.com/weirstream/weir/row"

// MariaDB/MySQL DATE and DATETIME values lie in the years 0000 to 9999: a
// split bound outside them (a DATE bound in days, a TIMESTAMP bound in
// milliseconds) does not convert (CAST gives NULL, and the split reads
// nothing). A bound below the least value is no limit, one above the
// greatest none either, and a split wholly outside them reads nothing.

// mysqlBoundLimits is the range of bounds MariaDB represents for a DATE or
// TIMESTAMP partition column; ok is false for other columns.
func mysqlBoundLimits(t row.Type) (least, greatest int64, ok bool) {
	const first, last = -719528, 2932896 // 0000-01-01 and 9999-12-31, in days
	switch t.Root {
	case row.TypeDate:
		return first, last, true
	case row.TypeTimestamp:
		return first * 86400000, (last+1)*86400000 - 1, true
	}
	return 0, 0, false
}

// mysqlSplitCondition is splitCondition for a MariaDB scan, with the bounds
// MariaDB cannot represent left out (see above).
func (p *jdbcPartition) mysqlSplitCondition(t row.Type, name string, rs []jdbcSplitRange, i int, param func(v int64, upper bool) string) string {
	least, greatest, ok := mysqlBoundLimits(t)
	r := rs[i]
	// The split is col >= lo, and col <= upper, or col < upper when strict.
	upper, strict := r.hi, false
	if !p.exactRange(t) && i != len(rs)-1 {
		upper, strict = r.hi+1, true
	}
	if !ok || (r.lo >= least && upper <= greatest) {
		return p.splitCondition(t, name, rs, i, param)
	}
	if r.lo > greatest || upper < least || (strict && upper == least) {
		return "(1 = 0)"
	}
	cond := ""
	if r.lo >= least {
		cond = name + " >= " + param(r.lo, false)
	}
	if upper <= greatest {
		op := " <= "
		if strict {
			op = " < "
		}
		if cond != "" {
			cond += " AND "
		}
		cond += name + op + param(upper, true)
	}
	if cond == "" {
		cond = name + " IS NOT NULL"
	}
	return "(" + cond + ")"
}
