package expr

import (
	"math"
	"strings"
	"time"
	_ "time/tzdata" // CONVERT_TZ and session zones by name on any host

	"github.com/weirstream/weir/row"
)

// wallTime returns the wall clock of a datetime value of type t as a UTC
// time.Time (TIMESTAMP_LTZ in the session zone).
func wallTime(ctx *EvalContext, v row.Value, t row.Type) time.Time {
	switch t.Root {
	case row.TypeDate:
		return time.Unix(v.Int()*86400, 0).UTC()
	case row.TypeTime:
		return time.Unix(0, v.Int()).UTC()
	case row.TypeTimestampLTZ:
		ms := instantToWall(v.Millis(), ctx.loc())
		return time.UnixMilli(ms).UTC().Add(time.Duration(v.NanoOfMilli()))
	}
	return time.UnixMilli(v.Millis()).UTC().Add(time.Duration(v.NanoOfMilli()))
}

// fromWall converts a UTC wall time back to a value of type t.
func fromWall(ctx *EvalContext, w time.Time, t row.Type) row.Value {
	switch t.Root {
	case row.TypeDate:
		return row.Int(floorDiv(w.Unix(), 86400))
	case row.TypeTime:
		// Seconds, not UnixNano: that overflows outside 1677-2262.
		sec := w.Unix() % 86400
		if sec < 0 {
			sec += 86400
		}
		return row.Int(sec*1e9 + int64(w.Nanosecond()))
	}
	ms := w.UnixMilli()
	nano := int32(w.Nanosecond() % 1e6)
	if t.Root == row.TypeTimestampLTZ {
		ms = wallToInstant(ms, ctx.loc())
	}
	return row.Timestamp(ms, nano)
}

// AddMonths adds n months to w (in UTC), clamping the day to the month's
// last day as Calcite/Flink's DateTimeUtils.addMonths does: January 31
// plus one month is the last day of February.
func AddMonths(w time.Time, n int64) time.Time { return addMonths(w, n) }

// addMonths is AddMonths.
func addMonths(w time.Time, n int64) time.Time {
	y, m, d := w.Date()
	total := int64(y)*12 + int64(m-1) + n
	ny, nm := int(floorDiv(total, 12)), time.Month(total-floorDiv(total, 12)*12+1)
	last := time.Date(ny, nm+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if d > last {
		d = last
	}
	return time.Date(ny, nm, d, w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
}

func datetimePlus(s *site, sub bool) Evaluator {
	t, it := s.argTypes[0], s.argTypes[1]
	return strict2(s, func(ctx *EvalContext, a, b row.Value) (row.Value, error) {
		n := b.Int()
		if sub {
			n = -n
		}
		if it.Root == row.TypeIntervalYearMonth {
			if t.Root == row.TypeTimestampLTZ {
				// Month arithmetic on an instant works on its UTC fields.
				w := addMonths(time.UnixMilli(a.Millis()).UTC(), n)
				return row.Timestamp(w.UnixMilli(), a.NanoOfMilli()), nil
			}
			return fromWall(ctx, addMonths(wallTime(ctx, a, t), n), t), nil
		}
		switch t.Root {
		case row.TypeDate:
			return row.Int(a.Int() + floorDiv(n, msPerDay)), nil
		case row.TypeTime:
			ns := (a.Int() + n*1e6) % (86400 * 1e9)
			if ns < 0 {
				ns += 86400 * 1e9
			}
			return row.Int(ns), nil
		}
		return row.Timestamp(a.Millis()+n, a.NanoOfMilli()), nil
	})
}

// truncUnit floors the wall time w to a unit.
func truncUnit(w time.Time, unit string) (time.Time, bool) {
	y, m, d := w.Date()
	switch unit {
	case "MILLENNIUM":
		return time.Date((y-1)/1000*1000+1, 1, 1, 0, 0, 0, 0, time.UTC), true
	case "CENTURY":
		return time.Date((y-1)/100*100+1, 1, 1, 0, 0, 0, 0, time.UTC), true
	case "DECADE":
		return time.Date(y/10*10, 1, 1, 0, 0, 0, 0, time.UTC), true
	case "YEAR":
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), true
	case "QUARTER":
		return time.Date(y, (m-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC), true
	case "MONTH":
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC), true
	case "WEEK":
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		return day.AddDate(0, 0, -int(day.Weekday())), true
	case "DAY":
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true
	case "HOUR":
		return w.Truncate(time.Hour), true
	case "MINUTE":
		return w.Truncate(time.Minute), true
	case "SECOND":
		return w.Truncate(time.Second), true
	case "MILLISECOND":
		return w.Truncate(time.Millisecond), true
	}
	return w, false
}

func addUnit(w time.Time, unit string, n int64) (time.Time, bool) {
	switch unit {
	case "MILLENNIUM":
		return addMonths(w, 12000*n), true
	case "CENTURY":
		return addMonths(w, 1200*n), true
	case "DECADE":
		return addMonths(w, 120*n), true
	case "YEAR":
		return addMonths(w, 12*n), true
	case "QUARTER":
		return addMonths(w, 3*n), true
	case "MONTH":
		return addMonths(w, n), true
	case "WEEK", "DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND", "NANOSECOND":
		return addNanoUnits(w, unitNanos(unit), n), true
	}
	return w, false
}

func timeFloorCeil(s *site, up bool) (Evaluator, error) {
	unit, t := s.symbol(1), s.argTypes[0]
	if _, ok := truncUnit(time.Time{}, unit); !ok {
		return nil, s.errorf("unsupported time unit %s", unit)
	}
	a0 := s.args[0]
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		v, err := a0(ctx, in)
		if err != nil || v.IsNull() {
			return row.Value{}, err
		}
		w := wallTime(ctx, v, t)
		var f time.Time
		if up {
			f = ceilUnit(w, unit, t.Root == row.TypeDate)
		} else {
			f, _ = truncUnit(w, unit)
		}
		return fromWall(ctx, f, t), nil
	}, nil
}

// The instants TO_TIMESTAMP_LTZ gives, as Flink's DateTimeUtils: from
// 0000-01-01 00:00:00 to 9999-12-31 23:59:59.999 UTC; outside them the
// result is NULL.
const (
	ltzMinMillis = -62167219200000
	ltzMaxMillis = 253402300799999
)

// ceilUnit returns CEIL(w TO unit) as Flink computes it (its
// DateTimeUtils.timestampCeil and unixDateCeil, asserted by its
// TemporalTypesTest): WEEK and the units from MONTH up look at the date
// only, so a timestamp on the first of a month is its own CEIL TO MONTH
// whatever its time of day; CEIL TO QUARTER moves on unless the date is
// 1 January; DECADE, CENTURY and MILLENNIUM always move past the floor's
// boundary (CEIL(DATE '2010-01-01' TO DECADE) is 2020-01-01); CEIL TO DAY
// of a DATE is the next day. DAY (of a timestamp) and smaller units round
// the instant up.
func ceilUnit(w time.Time, unit string, isDate bool) time.Time {
	y, m, d := w.Date()
	date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch unit {
	case "MILLENNIUM":
		return time.Date(1000*((y+999)/1000)+1, 1, 1, 0, 0, 0, 0, time.UTC)
	case "CENTURY":
		return time.Date(100*((y+99)/100)+1, 1, 1, 0, 0, 0, 0, time.UTC)
	case "DECADE":
		return time.Date(10*(1+y/10), 1, 1, 0, 0, 0, 0, time.UTC)
	case "YEAR":
		if m > 1 || d > 1 {
			y++
		}
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	case "QUARTER":
		q := (int(m)-1)/3 + 1
		if m > 1 || d > 1 {
			q++
		}
		return time.Date(y, time.Month(3*q-2), 1, 0, 0, 0, 0, time.UTC)
	case "MONTH":
		if d > 1 {
			m++
		}
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	case "WEEK":
		if wd := int(date.Weekday()); wd > 0 {
			return date.AddDate(0, 0, 7-wd)
		}
		return date
	case "DAY":
		if isDate {
			return date.AddDate(0, 0, 1)
		}
	}
	f, _ := truncUnit(w, unit)
	if !f.Equal(w) {
		f, _ = addUnit(f, unit, 1)
	}
	return f
}

// extractField returns EXTRACT(unit FROM w).
func extractField(w time.Time, unit string) (int64, bool) {
	y, m, d := w.Date()
	switch unit {
	case "MILLENNIUM":
		return int64((y + 999) / 1000), true
	case "CENTURY":
		return int64((y + 99) / 100), true
	case "DECADE":
		return int64(y / 10), true
	case "YEAR":
		return int64(y), true
	case "ISOYEAR":
		iy, _ := w.ISOWeek()
		return int64(iy), true
	case "QUARTER":
		return int64((m-1)/3 + 1), true
	case "MONTH":
		return int64(m), true
	case "WEEK":
		_, wk := w.ISOWeek()
		return int64(wk), true
	case "DAY":
		return int64(d), true
	case "DOY":
		return int64(w.YearDay()), true
	case "DOW":
		return int64(w.Weekday()) + 1, true // Sunday = 1
	case "ISODOW":
		wd := int64(w.Weekday())
		if wd == 0 {
			wd = 7
		}
		return wd, true
	case "HOUR":
		return int64(w.Hour()), true
	case "MINUTE":
		return int64(w.Minute()), true
	case "SECOND":
		return int64(w.Second()), true
	case "MILLISECOND":
		return int64(w.Nanosecond() / 1e6), true
	case "MICROSECOND":
		return int64(w.Nanosecond() / 1e3), true
	case "NANOSECOND":
		return int64(w.Nanosecond()), true
	case "EPOCH":
		return w.Unix(), true
	}
	return 0, false
}

func resolveExtract(f *Func, args []Expr) ([]Expr, row.Type, error) {
	p := param{ok: func(t row.Type) bool { return isDatetime(t) || isInterval(t) }, def: tTs3}
	return fixed(ret(tBigInt), 2, pSym, p)(f, args)
}

func buildExtract(s *site) (Evaluator, error) {
	unit, t := s.symbol(0), s.argTypes[1]
	if isInterval(t) {
		return buildExtractInterval(s, unit, t)
	}
	if _, ok := extractField(time.Unix(0, 0), unit); !ok {
		return nil, s.errorf("unsupported time unit %s", unit)
	}
	if t.Root == row.TypeDate {
		switch unit {
		case "HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND", "NANOSECOND":
			return nil, s.errorf("cannot extract %s from a DATE", unit)
		}
	}
	a := s.args[1]
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		v, err := a(ctx, in)
		if err != nil || v.IsNull() {
			return row.Value{}, err
		}
		n, _ := extractField(wallTime(ctx, v, t), unit)
		return row.Int(n), nil
	}, nil
}

func buildExtractInterval(s *site, unit string, t row.Type) (Evaluator, error) {
	var f func(n int64) int64
	if t.Root == row.TypeIntervalYearMonth {
		switch unit {
		case "YEAR":
			f = func(n int64) int64 { return n / 12 }
		case "MONTH":
			f = func(n int64) int64 { return n % 12 }
		case "QUARTER": // as Flink's ExtractCallGen: ((n % 12) - 1) / 3 + 1
			f = func(n int64) int64 { return (n%12-1)/3 + 1 }
		case "CENTURY":
			f = func(n int64) int64 { return n / 1200 }
		case "MILLENNIUM":
			f = func(n int64) int64 { return n / 12000 }
		}
	} else {
		switch unit {
		case "DAY":
			f = func(n int64) int64 { return n / msPerDay }
		case "HOUR":
			f = func(n int64) int64 { return n % msPerDay / 3600000 }
		case "MINUTE":
			f = func(n int64) int64 { return n % 3600000 / 60000 }
		case "SECOND":
			f = func(n int64) int64 { return n % 60000 / 1000 }
		case "MILLISECOND": // of the second, as Flink's ExtractCallGen: n % 1000
			f = func(n int64) int64 { return n % 1000 }
		case "EPOCH":
			f = func(n int64) int64 { return n / 1000 }
		}
	}
	if f == nil {
		return nil, s.errorf("cannot extract %s from %s", unit, t)
	}
	a := s.args[1]
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		v, err := a(ctx, in)
		if err != nil || v.IsNull() {
			return row.Value{}, err
		}
		return row.Int(f(v.Int())), nil
	}, nil
}

// extractFunc is YEAR(x), MONTH(x), ...: EXTRACT of one unit.
func extractFunc(name, unit string) *Func {
	return &Func{Name: name, symbols: true, Doc: name + "(x): EXTRACT(" + unit + " FROM x) as BIGINT, x a datetime or an interval.",
		resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			if len(args) != 1 {
				return nil, row.Type{}, cannotApply(f, args)
			}
			// As EXTRACT, an interval is accepted too (Flink: HOUR(interval)).
			p := param{ok: func(t row.Type) bool { return isDatetime(t) || isInterval(t) }, def: tTs3}
			out, t, err := fixed(ret(tBigInt), 1, p)(f, args)
			if err != nil {
				return nil, row.Type{}, err
			}
			return append([]Expr{Sym(unit)}, out...), t, nil
		},
		build: buildExtract}
}

func monthsBetween(a, b time.Time) int64 {
	// Full months from a to b (b - a), as DateTimeUtils.subtractMonths.
	m := int64(b.Year()-a.Year())*12 + int64(b.Month()-a.Month())
	ra := time.Duration(a.Day())*24*time.Hour + a.Sub(a.Truncate(24*time.Hour))
	rb := time.Duration(b.Day())*24*time.Hour + b.Sub(b.Truncate(24*time.Hour))
	if m > 0 && rb < ra {
		m--
	} else if m < 0 && rb > ra {
		m++
	}
	return m
}

func unitNanos(unit string) int64 {
	switch unit {
	case "WEEK":
		return 7 * 86400e9
	case "DAY":
		return 86400e9
	case "HOUR":
		return 3600e9
	case "MINUTE":
		return 60e9
	case "SECOND":
		return 1e9
	case "MILLISECOND":
		return 1e6
	case "MICROSECOND":
		return 1e3
	case "NANOSECOND":
		return 1
	}
	return 0
}

func monthsOf(unit string) int64 {
	switch unit {
	case "MONTH":
		return 1
	case "QUARTER":
		return 3
	case "YEAR":
		return 12
	}
	return 0
}

var timeUnits = map[string]bool{"YEAR": true, "QUARTER": true, "MONTH": true, "WEEK": true, "DAY": true,
	"HOUR": true, "MINUTE": true, "SECOND": true, "MILLISECOND": true, "MICROSECOND": true, "NANOSECOND": true}

// parseOrNull parses a string with an optional pattern: TO_TIMESTAMP etc.
type tsParser struct {
	pat   *DateTimePattern
	fixed bool
	last  string
	err   error
}

func (p *tsParser) get(s *site, i int, fmtv row.Value) (*DateTimePattern, error) {
	if p.fixed {
		return p.pat, p.err
	}
	if p.pat != nil && fmtv.Str() == p.last {
		return p.pat, nil
	}
	pat, err := ParseDateTimePattern(fmtv.Str())
	if err != nil {
		return nil, err
	}
	p.pat, p.last = pat, fmtv.Str()
	return pat, nil
}

func newTsParser(s *site, i int) *tsParser {
	p := &tsParser{}
	if i < len(s.args) {
		if f, ok := s.constString(i); ok {
			p.fixed = true
			p.pat, p.err = ParseDateTimePattern(f)
		}
	}
	return p
}

// parseLocal parses s as a wall time with the optional pattern argument
// (default: Flink's timestamp text, yyyy-MM-dd[ HH:mm:ss[.fff]]).
func parseWall(s *site, p *tsParser, a []row.Value) (time.Time, bool) {
	if len(a) < 2 {
		ms, nano, ok := parseTimestampText(strings.TrimSpace(a[0].Str()))
		if !ok {
			return time.Time{}, false
		}
		return time.UnixMilli(ms).UTC().Add(time.Duration(nano)), true
	}
	pat, err := p.get(s, 1, a[1])
	if err != nil {
		return time.Time{}, false
	}
	t, err := pat.Parse(a[0].Str(), time.UTC)
	if err != nil {
		return time.Time{}, false
	}
	// An offset in the text converts to UTC wall time.
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC).Add(-zoneOffset(t)), true
}

func zoneOffset(t time.Time) time.Duration {
	if t.Location() == time.UTC {
		return 0
	}
	_, off := t.Zone()
	return time.Duration(off) * time.Second
}

func loadZone(name string) (*time.Location, error) {
	if l, err := time.LoadLocation(name); err == nil {
		return l, nil
	}
	// GMT+08:00, UTC-5, +08:00
	s := strings.TrimPrefix(strings.TrimPrefix(strings.ToUpper(name), "GMT"), "UTC")
	if len(s) > 1 && (s[0] == '+' || s[0] == '-') {
		hs, ms, _ := strings.Cut(s[1:], ":")
		h, ok1 := atoiN(hs, 2)
		m := 0
		ok2 := true
		if ms != "" {
			m, ok2 = atoiN(ms, 2)
		}
		if ok1 && ok2 && h <= 18 && m < 60 {
			off := h*3600 + m*60
			if s[0] == '-' {
				off = -off
			}
			return time.FixedZone(name, off), nil
		}
	}
	return nil, fmtErr("expr: unknown time zone %q", name)
}

func nowFunc(name, doc string, t row.Type, f func(ctx *EvalContext) row.Value) *Func {
	return &Func{Name: name, Doc: doc, Volatile: true, resolve: fixed(ret(t), 0),
		build: func(*site) (Evaluator, error) {
			return func(ctx *EvalContext, _ []row.Value) (row.Value, error) { return f(ctx), nil }, nil
		}}
}

func timeFuncs() []*Func {
	pFmt := pString
	return []*Func{
		{Name: "EXTRACT", symbols: true, Doc: "EXTRACT(unit FROM x), called as EXTRACT(Sym(unit), x): a field of a DATE, TIME, TIMESTAMP, TIMESTAMP_LTZ (in the session zone) or interval as BIGINT. Units: MILLENNIUM, CENTURY, DECADE, YEAR, ISOYEAR, QUARTER, MONTH, WEEK (ISO), DAY, DOY, DOW (Sunday=1), ISODOW (Monday=1), HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND, NANOSECOND (of the second), EPOCH.",
			resolve: resolveExtract, build: buildExtract},
		extractFunc("YEAR", "YEAR"), extractFunc("QUARTER", "QUARTER"), extractFunc("MONTH", "MONTH"),
		extractFunc("WEEK", "WEEK"), extractFunc("DAYOFYEAR", "DOY"), extractFunc("DAYOFMONTH", "DAY"),
		extractFunc("DAYOFWEEK", "DOW"), extractFunc("HOUR", "HOUR"), extractFunc("MINUTE", "MINUTE"),
		extractFunc("SECOND", "SECOND"),
		{Name: "TIMESTAMPADD", symbols: true, Doc: "TIMESTAMPADD(unit, n, t): t plus n units (YEAR, QUARTER, MONTH, WEEK, DAY, HOUR, MINUTE, SECOND, MILLISECOND...), same type as t (a DATE plus a unit below DAY becomes TIMESTAMP(6), as in Flink).",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(retArg0, 3, pSym, pBigInt, pTime)(f, args)
				if err != nil {
					return nil, row.Type{}, err
				}
				unit := out[0].(*Symbol).Name
				if !timeUnits[unit] {
					return nil, row.Type{}, cannotApply(f, args)
				}
				t = out[2].Type()
				if t.Root == row.TypeDate && unitNanos(unit) > 0 && unitNanos(unit) < 86400e9 {
					// Calcite's TIMESTAMPADD gives TIMESTAMP(3) for
					// MILLISECOND, else TIMESTAMP of the default precision,
					// 6 in Flink's type system.
					ts := row.TimestampType(6)
					if unit == "MILLISECOND" {
						ts = tTs3
					}
					out[2] = coerce(out[2], ts)
					t = ts
				}
				t.TimeAttr = row.NoTimeAttr
				return out, t.WithNullable(anyNullable(types(out)...)), nil
			},
			build: func(s *site) (Evaluator, error) {
				unit, t := s.symbol(0), s.argTypes[2]
				return strictN(s, func(ctx *EvalContext, a []row.Value) (row.Value, error) {
					if t.Root == row.TypeTimestampLTZ {
						// Flink adds to the instant (epoch
						// milliseconds; months read in UTC), not to
						// the session zone's wall clock.
						w, _ := addUnit(instantTime(a[2]), unit, a[1].Int())
						return row.Timestamp(w.UnixMilli(), int32(w.Nanosecond()%1e6)), nil
					}
					w, _ := addUnit(wallTime(ctx, a[2], t), unit, a[1].Int())
					return fromWall(ctx, w, t), nil
				}), nil
			}},
		{Name: "TIMESTAMPDIFF", symbols: true, Doc: "TIMESTAMPDIFF(unit, t1, t2): the number of whole units from t1 to t2 as INT (months, quarters and years count full calendar months).",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, err := checkArgs(f, args, 3, pSym, pTime, pTime)
				if err != nil {
					return nil, row.Type{}, err
				}
				if !timeUnits[out[0].(*Symbol).Name] {
					return nil, row.Type{}, cannotApply(f, args)
				}
				a, b := out[1].Type(), out[2].Type()
				switch {
				case a.Root == b.Root:
				case a.Root == row.TypeTimestampLTZ || b.Root == row.TypeTimestampLTZ:
					// Flink: TIMESTAMP_LTZ only supports diff between the same type.
					return nil, row.Type{}, cannotApply(f, args)
				case a.Root == row.TypeTime || b.Root == row.TypeTime:
					// A TIME against a DATE or TIMESTAMP is that time
					// of 1970-01-01, as in Flink (wallTime reads it so).
				default:
					ct, ok := LeastRestrictive(a, b)
					if !ok {
						return nil, row.Type{}, cannotApply(f, args)
					}
					out[1], out[2] = coerce(out[1], ct), coerce(out[2], ct)
				}
				return out, tInt.WithNullable(anyNullable(types(out)...)), nil
			},
			build: func(s *site) (Evaluator, error) {
				unit, ta, tb := s.symbol(0), s.argTypes[1], s.argTypes[2]
				return strictN(s, func(ctx *EvalContext, a []row.Value) (row.Value, error) {
					x, y := wallTime(ctx, a[1], ta), wallTime(ctx, a[2], tb)
					if ta.Root == row.TypeTimestampLTZ {
						// Flink subtracts the instants (epoch
						// milliseconds), not the session zone's wall
						// clocks (infer lets a TIMESTAMP_LTZ meet only another).
						x, y = instantTime(a[1]), instantTime(a[2])
					}
					if unitNanos(unit) >= 1e6 || monthsOf(unit) > 0 {
						x, y = floorMilli(x), floorMilli(y)
					}
					if m := monthsOf(unit); m > 0 {
						return row.Int(int64(int32(monthsBetween(x, y) / m))), nil
					}
					return row.Int(int64(int32(diffNanoUnits(x, y, unitNanos(unit))))), nil
				}), nil
			}},
		{Name: "DATE_FORMAT", Doc: "DATE_FORMAT(t, fmt): a TIMESTAMP (a DATE at its midnight, or a timestamp string) printed with a Java date-time pattern ('yyyy-MM-dd HH:mm:ss'); a TIMESTAMP_LTZ prints in the session zone. NULL if a string does not parse.",
			zone: true,
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(retStr, 2, pTsOrString, pFmt)(f, args)
				if err == nil && out[0].Type().IsString() {
					t.Nullable = true
				}
				return out, t, err
			},
			build: func(s *site) (Evaluator, error) {
				t := s.argTypes[0]
				p := newTsParser(s, 1)
				if p.err != nil {
					return nil, s.wrap(p.err)
				}
				if p.fixed && t.Root == row.TypeTimestamp {
					// A TIMESTAMP is its wall time: the text of its span
					// is reused (formatCache).
					c := formatCache{unit: p.pat.cacheUnit()}
					return strict2(s, func(_ *EvalContext, a, _ row.Value) (row.Value, error) {
						return row.Str(c.format(p.pat, a.Millis(), time.Duration(a.NanoOfMilli()))), nil
					}), nil
				}
				return strict2(s, func(ctx *EvalContext, a, f row.Value) (row.Value, error) {
					pat, err := p.get(s, 1, f)
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					var w time.Time
					if t.IsString() {
						ms, nano, ok := parseTimestampText(strings.TrimSpace(a.Str()))
						if !ok {
							return row.Value{}, nil
						}
						w = time.UnixMilli(ms).UTC().Add(time.Duration(nano))
					} else if t.Root == row.TypeTimestampLTZ {
						w = time.UnixMilli(a.Millis()).In(ctx.loc()).Add(time.Duration(a.NanoOfMilli()))
					} else {
						w = wallTime(ctx, a, t)
					}
					return row.Str(pat.Format(w)), nil
				}), nil
			}},
		{Name: "TO_TIMESTAMP", Doc: "TO_TIMESTAMP(s[, fmt]): a TIMESTAMP(3) parsed from s (default 'yyyy-MM-dd HH:mm:ss', fractions accepted); NULL if s does not parse.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(ret(tTs3), 1, pString, pFmt)(f, args)
				return out, t.WithNullable(true), err
			},
			build: func(s *site) (Evaluator, error) {
				p := newTsParser(s, 1)
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					w, ok := parseWall(s, p, a)
					if !ok {
						return row.Value{}, nil
					}
					return truncTimestamp(row.Timestamp(w.UnixMilli(), int32(w.Nanosecond()%1e6)), 3), nil
				}), nil
			}},
		{Name: "TO_DATE", Doc: "TO_DATE(s[, fmt]): a DATE parsed from s; NULL if s does not parse. Without fmt s is read as CAST(s AS DATE) reads it (text from the first space on is ignored).",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(ret(row.DateType()), 1, pString, pFmt)(f, args)
				return out, t.WithNullable(true), err
			},
			build: func(s *site) (Evaluator, error) {
				p := newTsParser(s, 1)
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					if len(a) == 1 {
						d, ok := parseDateLenient(strings.TrimSpace(a[0].Str()))
						if !ok {
							return row.Value{}, nil
						}
						return row.Int(d), nil
					}
					w, ok := parseWall(s, p, a)
					if !ok {
						return row.Value{}, nil
					}
					return row.Int(floorDiv(w.Unix(), 86400)), nil
				}), nil
			}},
		{Name: "TO_TIMESTAMP_LTZ", Doc: "TO_TIMESTAMP_LTZ(n[, precision]): the instant n units of 10^-precision seconds after the epoch (precision a literal 0 to 9, default 3: seconds for 0, milliseconds for 3, nanoseconds for 9), a TIMESTAMP_LTZ(3) for precision 0 to 3 and TIMESTAMP_LTZ(precision) above; NULL outside the years 0000 to 9999, as in Flink. TO_TIMESTAMP_LTZ(s[, fmt[, zone]]): the instant of the text s read with fmt (default: Flink's timestamp text yyyy-MM-dd[ HH:mm:ss[.fraction]], at precision 3) in zone (default 'UTC'), a TIMESTAMP_LTZ of the longest run of S in a literal fmt clamped to 3..9 (3 for a fmt that is not a literal); NULL if an argument is NULL or s does not parse.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) > 0 && args[0].Type().IsString() {
					return resolveToTimestampLTZString(f, args)
				}
				out, t, err := fixed(ret(row.TimestampLTZType(3)), 1, pNumber, pInt)(f, args)
				if err != nil {
					return nil, row.Type{}, err
				}
				if len(out) == 2 {
					l, ok := out[1].(*Literal)
					if !ok || l.Value.IsNull() || l.Value.Int() < 0 || l.Value.Int() > 9 {
						return nil, row.Type{}, fmtErr("expr: TO_TIMESTAMP_LTZ: precision must be a literal from 0 to 9")
					}
					if p := int(l.Value.Int()); p > 3 {
						t = row.TimestampLTZType(p).WithNullable(t.Nullable)
					}
				}
				return out, t, nil
			},
			build: func(s *site) (Evaluator, error) {
				if s.argTypes[0].IsString() {
					return buildToTimestampLTZString(s), nil
				}
				prec := int64(3)
				if len(s.args) == 2 {
					prec = s.argExprs[1].(*Literal).Value.Int()
				}
				// mul scales n to milliseconds (precision up to 3); div
				// splits it into milliseconds and a remainder of div
				// units (precision above 3).
				mul, div := int64(1), int64(1)
				for p := prec; p < 3; p++ {
					mul *= 10
				}
				for p := prec; p > 3; p-- {
					div *= 10
				}
				scale := float64(mul) / float64(div)
				num := toFloat(s.argTypes[0])
				isInt := s.argTypes[0].IsInteger()
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					if isInt {
						n := a[0].Int()
						if mul > 1 && (n < ltzMinMillis/mul-1 || n > ltzMaxMillis/mul+1) {
							return row.Value{}, nil
						}
						ms := floorDiv(n*mul, div)
						rem := n*mul - ms*div
						if ms < ltzMinMillis || ms > ltzMaxMillis {
							return row.Value{}, nil
						}
						return row.Timestamp(ms, int32(rem*(1000000/div))), nil
					}
					f := num(a[0]) * scale
					if math.IsNaN(f) || f < ltzMinMillis || f >= ltzMaxMillis+1 {
						return row.Value{}, nil
					}
					ms := math.Floor(f)
					return row.Timestamp(int64(ms), int32((f-ms)*1e6)), nil
				}), nil
			}},
		{Name: "UNIX_TIMESTAMP", zone: true, volatileNoArgs: true, Doc: "UNIX_TIMESTAMP(): the current epoch seconds (volatile, see EvalContext.Now). UNIX_TIMESTAMP(s[, fmt]): s (default format 'yyyy-MM-dd HH:mm:ss') read in the session zone, or in the offset the text carries (X, Z), as epoch seconds; text after the pattern is ignored (SimpleDateFormat); Long.MIN_VALUE (-9223372036854775808) if it does not parse, as Flink documents.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) == 0 {
					return args, tBigInt.NotNull(), nil
				}
				return fixed(ret(tBigInt), 1, pString, pFmt)(f, args)
			},
			build: func(s *site) (Evaluator, error) {
				if len(s.args) == 0 {
					return func(ctx *EvalContext, _ []row.Value) (row.Value, error) { return row.Int(ctx.now().Unix()), nil }, nil
				}
				p := newTsParser(s, 1)
				if len(s.args) == 1 {
					p.fixed, p.pat = true, nil
					p.pat, p.err = ParseDateTimePattern("yyyy-MM-dd HH:mm:ss")
				}
				return strictN(s, func(ctx *EvalContext, a []row.Value) (row.Value, error) {
					if len(a) == 1 {
						a = []row.Value{a[0], row.Str("yyyy-MM-dd HH:mm:ss")}
					}
					pat, err := p.get(s, 1, a[1])
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					t, err := pat.ParsePrefix(a[0].Str(), ctx.loc())
					if err != nil {
						return row.Int(math.MinInt64), nil
					}
					return row.Int(t.Unix()), nil
				}), nil
			}},
		{Name: "FROM_UNIXTIME", zone: true, Doc: "FROM_UNIXTIME(n[, fmt]): epoch seconds n printed in the session zone (default 'yyyy-MM-dd HH:mm:ss').",
			resolve: fixed(retStr, 1, pBigInt, pFmt),
			build: func(s *site) (Evaluator, error) {
				p := newTsParser(s, 1)
				if len(s.args) == 1 {
					p.fixed = true
					p.pat, p.err = ParseDateTimePattern("yyyy-MM-dd HH:mm:ss")
				}
				if p.err != nil {
					return nil, s.wrap(p.err)
				}
				return strictN(s, func(ctx *EvalContext, a []row.Value) (row.Value, error) {
					f := row.Str("")
					if len(a) == 2 {
						f = a[1]
					}
					pat, err := p.get(s, 1, f)
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					return row.Str(pat.Format(time.Unix(a[0].Int(), 0).In(ctx.loc()))), nil
				}), nil
			}},
		{Name: "CONVERT_TZ", Doc: "CONVERT_TZ(s, from, to): the timestamp text s ('yyyy-MM-dd HH:mm:ss') read in zone from and printed in zone to; zones by id ('Asia/Shanghai', 'UTC') or offset ('GMT+08:00').",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(retStr, 3, pString, pString, pString)(f, args)
				return out, t.WithNullable(true), err
			},
			build: func(s *site) (Evaluator, error) {
				pat, _ := ParseDateTimePattern("yyyy-MM-dd HH:mm:ss")
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					from, err := loadZone(a[1].Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					to, err := loadZone(a[2].Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					t, err := pat.Parse(a[0].Str(), from)
					if err != nil {
						return row.Value{}, nil
					}
					return row.Str(pat.Format(t.In(to))), nil
				}), nil
			}},
		nowFunc("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP and NOW(): the query's current instant as TIMESTAMP_LTZ(3) (EvalContext.Now).", row.TimestampLTZType(3),
			func(ctx *EvalContext) row.Value { return row.Timestamp(ctx.now().UnixMilli(), 0) }),
		nowFunc("LOCALTIMESTAMP", "LOCALTIMESTAMP: the current wall clock of the session zone as TIMESTAMP(3).", tTs3,
			func(ctx *EvalContext) row.Value {
				return row.Timestamp(instantToWall(ctx.now().UnixMilli(), ctx.loc()), 0)
			}),
		nowFunc("CURRENT_DATE", "CURRENT_DATE: today in the session zone.", row.DateType(),
			func(ctx *EvalContext) row.Value {
				return row.Int(floorDiv(instantToWall(ctx.now().UnixMilli(), ctx.loc()), msPerDay))
			}),
		nowFunc("CURRENT_TIME", "CURRENT_TIME (and LOCALTIME): the time of day in the session zone as TIME(0).", row.TimeType(0),
			func(ctx *EvalContext) row.Value {
				w := instantToWall(ctx.now().UnixMilli(), ctx.loc())
				return row.Int((w - floorDiv(w, msPerDay)*msPerDay) / 1000 * 1e9)
			}),
		nowFunc("LOCALTIME", "LOCALTIME: as CURRENT_TIME.", row.TimeType(0),
			func(ctx *EvalContext) row.Value {
				w := instantToWall(ctx.now().UnixMilli(), ctx.loc())
				return row.Int((w - floorDiv(w, msPerDay)*msPerDay) / 1000 * 1e9)
			}),
		nowFunc("PROCTIME", "PROCTIME(): the processing time (the wall clock) at each evaluation as TIMESTAMP_LTZ(3); the planner makes a select item or computed column of it a processing-time attribute.", row.TimestampLTZType(3),
			func(*EvalContext) row.Value { return row.Timestamp(time.Now().UnixMilli(), 0) }),
		nowFunc("CURRENT_ROW_TIMESTAMP", "CURRENT_ROW_TIMESTAMP(): the wall clock at each evaluation as TIMESTAMP_LTZ(3), in batch and streaming mode alike.", row.TimestampLTZType(3),
			func(*EvalContext) row.Value { return row.Timestamp(time.Now().UnixMilli(), 0) }),
	}
}
