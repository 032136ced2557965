package connector

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
	"github.com/weirstream/weir/row"
)

// Datagen is Flink's 'datagen' connector: an insert-only source of random
// or sequential rows, built on connector/datagen. Options: rows-per-second
// (default 10000), number-of-rows (bounded), scan.parallelism, and per
// column fields.<name>.kind (random | sequence), .min, .max, .max-past,
// .length, .var-len, .start, .end, .null-rate.
//
// A table with a sequence column is bounded: it ends once the shortest
// sequence is exhausted (or after number-of-rows). Sequence values are
// spread over the subtasks so that each is produced exactly once. Random
// values are derived from the row's sequence number and the column (not
// from per-subtask generators), so a table produces the same rows whatever
// the parallelism and after a restore; Flink's datagen has no seed and
// differs there. Random temporal values lie in [now - max-past, now],
// "now" being the time the source is created (Datagen.Now, for tests).
type Datagen struct {
	// Now returns the current time (nil: time.Now).
	Now func() time.Time
}

// Identifier is "datagen".
func (Datagen) Identifier() string { return "datagen" }

// RequiredOptions is empty.
func (Datagen) RequiredOptions() []string { return nil }

// OptionalOptions lists datagen's options as patterns (for
// documentation: CreateSource checks the concrete keys the columns
// read, as Flink does).
func (Datagen) OptionalOptions() []string {
	return []string{"rows-per-second", "number-of-rows", "scan.parallelism",
		"fields.#.kind", "fields.#.min", "fields.#.max", "fields.#.max-past", "fields.#.length",
		"fields.#.var-len", "fields.#.start", "fields.#.end", "fields.#.null-rate"}
}

// genField is how one column is generated.
type genField struct {
	t          row.Type
	sequence   bool
	start, end int64
	minI, maxI int64
	minF, maxF float64
	maxPast    time.Duration
	length     int
	varLen     bool
	nullRate   float64
	// kids generate the element of an ARRAY or MULTISET, the key and
	// value of a MAP, the fields of a ROW, from the nested options
	// ('fields.#.element.*', 'fields.#.key.*', 'fields.#.value.*',
	// 'fields.#.<field>.*'), as Flink's RandomGeneratorVisitor reads them
	// (datagen_nested.go).
	kids []genField
}

type datagenSource struct {
	table   string
	fields  []genField
	cols    []int // projection: indexes of fields produced
	rate    float64
	count   int64 // number of rows when bounded
	par     int
	now     time.Time
	bounded bool
}

// CreateSource validates the options.
func (f Datagen) CreateSource(ctx Context) (Source, error) {
	// Options are checked as Flink's DataGenTableSourceFactory does: the
	// supported keys are computed from the columns (those each column's
	// type and kind read, nested parts included), and any other key is
	// refused at the end (checkConsumed), so that 'fields.a.element.min'
	// on an INT column or 'fields.r.nosuch.min' is an error, not ignored.
	o := newOptions(ctx)
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	s := &datagenSource{table: ctx.Table, now: now(),
		rate:  float64(o.int64("rows-per-second", 10000, 1)),
		count: o.int64("number-of-rows", 0, 0),
		par:   int(o.int64("scan.parallelism", 0, 1)),
	}
	s.bounded = o.has("number-of-rows")
	for i, c := range ctx.Schema.Columns {
		p := "fields." + c.Name + "."
		g := genField{t: c.Type, length: -1}
		kind := o.enum(p+"kind", "random", "random", "sequence")
		g.sequence = kind == "sequence"
		g.nullRate = o.float(p+"null-rate", 0, 0, 1)
		if g.sequence {
			if !(c.Type.IsInteger() || c.Type.IsString() || c.Type.Root == row.TypeDecimal ||
				c.Type.Root == row.TypeFloat || c.Type.Root == row.TypeDouble) {
				return nil, fmt.Errorf("connector: table %s: Unsupported type %s for sequence generator of column '%s' (numbers and strings only)", ctx.Table, c.Type, c.Name)
			}
			for _, k := range []string{"start", "end"} {
				if !o.has(p + k) {
					return nil, fmt.Errorf("connector: table %s: Could not find required property '%s%s' for sequence generator.", ctx.Table, p, k)
				}
			}
			g.start = o.int64(p+"start", 0, math.MinInt64)
			g.end = o.int64(p+"end", 0, math.MinInt64)
			if o.err == nil && g.end < g.start {
				return nil, fmt.Errorf("connector: table %s: option '%send' (%d) must not be below '%sstart' (%d)", ctx.Table, p, g.end, p, g.start)
			}
			n := g.end - g.start + 1
			if n <= 0 { // overflow: the whole int64 range
				n = math.MaxInt64
			}
			if !s.bounded || n < s.count {
				s.count = n
			}
			s.bounded = true
			for _, k := range []string{"min", "max", "max-past", "length", "var-len"} {
				if o.has(p + k) {
					return nil, fmt.Errorf("connector: table %s: option '%s%s' is for random columns; column '%s' is a sequence", ctx.Table, p, k, c.Name)
				}
			}
		} else {
			for _, k := range []string{"start", "end"} {
				if o.has(p + k) {
					return nil, fmt.Errorf("connector: table %s: option '%s%s' is for sequence columns; column '%s' is random", ctx.Table, p, k, c.Name)
				}
			}
			if err := g.random(o, p, c.Type); err != nil {
				return nil, err
			}
		}
		if o.err != nil {
			return nil, o.err
		}
		s.cols = append(s.cols, i)
		s.fields = append(s.fields, g)
	}
	if o.err != nil {
		return nil, o.err
	}
	if err := o.checkConsumed(f.Identifier(), "rows-per-second", "number-of-rows", "scan.parallelism"); err != nil {
		return nil, err
	}
	return s, nil
}

// random reads the options of a random column.
func (g *genField) random(o *options, p string, t row.Type) error {
	switch {
	case t.IsInteger():
		lo, hi := intRange(t)
		g.minI = o.int64(p+"min", lo, lo)
		g.maxI = o.int64(p+"max", hi, lo)
		if g.maxI > hi {
			o.fail(p+"max", o.m[p+"max"], fmt.Sprintf("expected at most %d for %s", hi, t))
		}
		if o.err == nil && g.maxI < g.minI {
			o.fail(p+"max", o.m[p+"max"], "expected a value >= the min")
		}
	case t.Root == row.TypeFloat || t.Root == row.TypeDouble || t.Root == row.TypeDecimal:
		hi := math.MaxFloat64
		if t.Root == row.TypeFloat {
			hi = math.MaxFloat32
		}
		if t.Root == row.TypeDecimal {
			hi = math.Pow10(t.Precision-t.Scale) - math.Pow10(-t.Scale)
		}
		g.minF = o.float(p+"min", 0, -hi, hi)
		g.maxF = o.float(p+"max", hi, -hi, hi)
		if o.err == nil && g.maxF < g.minF {
			o.fail(p+"max", o.m[p+"max"], "expected a value >= the min")
		}
	case t.IsString() || t.IsBinary():
		def := int64(100) // STRING and BYTES (Flink: MAX_LENGTH gives 100)
		if t.Precision != row.MaxLength {
			def = int64(t.Precision) // Flink: getLengthOption(varCharType::getLength)
		}
		g.length = int(o.int64(p+"length", def, 0))
		if o.err == nil && int64(g.length) > int64(t.Precision) {
			o.fail(p+"length", o.m[p+"length"], fmt.Sprintf("expected at most %d for %s", t.Precision, t))
		}
		g.varLen = o.bool(p+"var-len", false)
	case t.Root == row.TypeArray || t.Root == row.TypeMap || t.Root == row.TypeMultiset:
		g.length = int(o.int64(p+"length", 3, 0))
		if err := g.nested(o, p, t); err != nil {
			return err
		}
	case t.Root == row.TypeRow:
		if err := g.nested(o, p, t); err != nil {
			return err
		}
	case t.Root == row.TypeDate || t.Root == row.TypeTime || t.IsTimestamp():
		g.maxPast = o.duration(p+"max-past", 0)
	}
	for _, k := range []string{"min", "max"} {
		if o.has(p+k) && !(t.IsNumeric()) {
			return fmt.Errorf("connector: table %s: option '%s%s' is for numeric columns, not %s", o.table, p, k, t)
		}
	}
	if o.has(p+"max-past") && !(t.Root == row.TypeDate || t.Root == row.TypeTime || t.IsTimestamp()) {
		return fmt.Errorf("connector: table %s: option '%smax-past' is for temporal columns, not %s", o.table, p, t)
	}
	if o.has(p+"length") && g.length < 0 {
		return fmt.Errorf("connector: table %s: option '%slength' is for string, binary and collection columns, not %s", o.table, p, t)
	}
	return o.err
}

func intRange(t row.Type) (int64, int64) {
	switch t.Root {
	case row.TypeTinyInt:
		return math.MinInt8, math.MaxInt8
	case row.TypeSmallInt:
		return math.MinInt16, math.MaxInt16
	case row.TypeInt:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func (s *datagenSource) ChangelogMode() ChangelogMode { return InsertOnly }
func (s *datagenSource) Bounded() bool                { return s.bounded }

// ApplyProjection keeps the given columns; values do not change.
func (s *datagenSource) ApplyProjection(fields []int) error {
	cols := make([]int, len(fields))
	for i, f := range fields {
		if f < 0 || f >= len(s.fields) {
			return fmt.Errorf("connector: table %s: projected column %d out of range", s.table, f)
		}
		cols[i] = f
	}
	s.cols = cols
	return nil
}

// Produce adds the generator.
func (s *datagenSource) Produce(b BuildContext) (weir.Stream[row.Row], error) {
	fields, cols, now := s.fields, s.cols, s.now
	seed := uint64(0)
	gen := func(seq int64) row.Row {
		out := make([]row.Value, len(cols))
		for i, c := range cols {
			r := rng{state: datagen.Mix(seed+uint64(c)*0x632be59bd9b4e019, seq)}
			out[i] = fields[c].value(&r, seq, now)
		}
		return row.Row{Fields: out}
	}
	src := datagen.New(gen, datagen.Options{Count: s.count, Bounded: s.bounded, RecordsPerSecond: s.rate})
	st := weir.FromSource(b.Env, src, b.Watermarks, s.table).UID(b.uid("source"))
	if s.par > 0 {
		st = st.SetParallelism(s.par)
	}
	return st, nil
}

// rng is SplitMix64 over a seed drawn from the row and column.
type rng struct{ state uint64 }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// between returns a uniform integer in [lo, hi].
func (r *rng) between(lo, hi int64) int64 {
	span := uint64(hi - lo)
	if span == math.MaxUint64 {
		return int64(r.next())
	}
	return lo + int64(r.next()%(span+1))
}

func (g *genField) value(r *rng, seq int64, now time.Time) row.Value {
	if g.nullRate > 0 && r.float() < g.nullRate {
		return row.Null()
	}
	t := g.t
	if g.sequence {
		n := g.start + seq
		switch {
		case t.IsInteger():
			return row.Int(n)
		case t.Root == row.TypeFloat || t.Root == row.TypeDouble:
			return row.Float(float64(n))
		case t.Root == row.TypeDecimal:
			v, ok := row.DecimalFromUnscaled(row.Rescale(big.NewInt(n), 0, t.Scale), t)
			if !ok {
				return row.Null()
			}
			return v
		default:
			return row.Str(strconv.FormatInt(n, 10))
		}
	}
	switch t.Root {
	case row.TypeBoolean:
		return row.Bool(r.next()&1 == 1)
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		return row.Int(r.between(g.minI, g.maxI))
	case row.TypeFloat, row.TypeDouble:
		f := g.minF + r.float()*(g.maxF-g.minF)
		if t.Root == row.TypeFloat {
			f = float64(float32(f))
		}
		return row.Float(f)
	case row.TypeDecimal:
		f := g.minF + r.float()*(g.maxF-g.minF)
		v, ok := row.DecimalFromRat(new(big.Rat).SetFloat64(f), t)
		if !ok {
			return row.Null()
		}
		return v
	case row.TypeChar, row.TypeVarChar, row.TypeBinary, row.TypeVarBinary:
		n := g.length
		if g.varLen && n > 0 {
			n = int(r.between(1, int64(n)))
		}
		const hex = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			if t.IsBinary() {
				b[i] = byte(r.next())
			} else {
				b[i] = hex[r.next()&15] // Flink: random hex strings
			}
		}
		return row.BytesString(string(b))
	case row.TypeDate:
		past := r.between(0, int64(g.maxPast/time.Millisecond))
		ms := now.UnixMilli() - past
		return row.Int(floorDiv(ms, 86400000))
	case row.TypeTime:
		past := r.between(0, int64(g.maxPast/time.Millisecond))
		ms := now.UnixMilli() - past
		return row.Int(((ms%86400000 + 86400000) % 86400000) * 1e6)
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		past := r.between(0, int64(g.maxPast/time.Millisecond))
		ms := now.UnixMilli() - past
		if t.Precision < 3 {
			unit := int64(math.Pow10(3 - t.Precision))
			ms -= ((ms % unit) + unit) % unit
		}
		return row.Timestamp(ms, 0)
	case row.TypeArray:
		elem := &g.kids[0]
		out := make([]row.Value, g.length)
		for i := range out {
			out[i] = elem.value(r, seq, now)
		}
		return row.Array(out)
	case row.TypeMap:
		k, v := &g.kids[0], &g.kids[1]
		var keys, vals []row.Value
		for i := 0; i < g.length; i++ {
			kv := k.value(r, seq, now)
			if kv.IsNull() || containsValue(keys, kv, k.t) {
				continue
			}
			keys = append(keys, kv)
			vals = append(vals, v.value(r, seq, now))
		}
		return row.Map(keys, vals)
	case row.TypeMultiset:
		return g.multiset(r, seq, now)
	case row.TypeRow:
		out := make([]row.Value, len(t.Fields))
		for i := range t.Fields {
			out[i] = g.kids[i].value(r, seq, now)
		}
		return row.Nested(out)
	}
	return row.Null()
}

func containsValue(vs []row.Value, v row.Value, t row.Type) bool {
	for _, x := range vs {
		if row.Equal(x, v, t) {
			return true
		}
	}
	return false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
