package connector

import "github.com/weirstream/weir/row"

// DATE and TIMESTAMP values have a range in the database: MariaDB/MySQL's
// DATE and DATETIME the years 0000 to 9999, PostgreSQL's date 4713 BC to
// 5874897 AD and timestamp 4713 BC to 294276 AD. A split bound outside it
// (a DATE bound in days, a TIMESTAMP bound in milliseconds) does not
// convert: MariaDB's CAST gives NULL, and the split reads nothing;
// PostgreSQL fails the query. A bound below the least value is no limit,
// one above the greatest none either, and a split wholly outside the
// range reads nothing.

// boundLimits is the range of bounds the database represents for a DATE
// or TIMESTAMP partition column; ok is false for other columns.
func boundLimits(t row.Type, mysql bool) (least, greatest int64, ok bool) {
	switch {
	case t.Root == row.TypeDate && mysql:
		return -719528, 2932896, true // 0000-01-01 and 9999-12-31, in days
	case t.Root == row.TypeTimestamp && mysql:
		return -719528 * 86400000, 2932897*86400000 - 1, true
	case t.Root == row.TypeDate:
		return -2440588, 2145042905, true // 4714-11-24 BC and 5874897-12-31
	case t.Root == row.TypeTimestamp:
		return -210866803200000, 9224318015999999, true // to 294276-12-31 23:59:59.999
	}
	return 0, 0, false
}

// limitedSplitCondition is splitCondition with the bounds the database
// cannot represent left out (see above).
func (p *jdbcPartition) limitedSplitCondition(mysql bool, t row.Type, name string, rs []jdbcSplitRange, i int, param func(v int64, upper bool) string) string {
	least, greatest, ok := boundLimits(t, mysql)
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
