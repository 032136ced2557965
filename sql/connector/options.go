package connector

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// matchKey reports whether option key k matches the declared key pattern
// p: equal, a '#' segment of p matching any one segment of k, or p ending
// in ".*" matching any suffix.
func matchKey(p, k string) bool {
	if p == k {
		return true
	}
	if strings.HasSuffix(p, ".*") {
		return strings.HasPrefix(k, p[:len(p)-1]) && len(k) > len(p)-1
	}
	if !strings.Contains(p, "#") {
		return false
	}
	ps, ks := strings.Split(p, "."), strings.Split(k, ".")
	// A '#' segment matches one or more segments of k (column names may
	// hold dots), so compare the fixed ends.
	if len(ps) > len(ks) {
		return false
	}
	for i, s := range ps {
		if s == "#" {
			tail := ps[i+1:]
			ktail := ks[len(ks)-len(tail):]
			if len(ks)-len(tail) <= i {
				return false
			}
			for j := range tail {
				if tail[j] != ktail[j] {
					return false
				}
			}
			return true
		}
		if s != ks[i] {
			return false
		}
	}
	return len(ps) == len(ks)
}

// validate checks table options as Flink's FactoryUtil does: required
// keys first, then keys nobody takes. supported lists the optional keys
// (patterns allowed), including those of formats.
func validate(ctx Context, id string, required, optional []string) error {
	var missing []string
	for _, k := range required {
		if _, ok := ctx.Options[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("connector: table %s: One or more required options are missing.\n\nMissing required options are:\n\n%s", ctx.Table, strings.Join(missing, "\n"))
	}
	all := append(append([]string{"connector"}, required...), optional...)
	var unknown []string
	for k := range ctx.Options {
		ok := false
		for _, p := range all {
			if matchKey(p, k) {
				ok = true
				break
			}
		}
		if !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		sort.Strings(all)
		all = dedup(all)
		return fmt.Errorf("connector: table %s: Unsupported options found for '%s'.\n\nUnsupported options:\n\n%s\n\nSupported options:\n\n%s",
			ctx.Table, id, strings.Join(unknown, "\n"), strings.Join(all, "\n"))
	}
	return nil
}

func dedup(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// options reads typed option values, keeping the first error.
type options struct {
	table string
	m     map[string]string
	err   error
	// read records every key a typed accessor was asked for (present or
	// not): the keys the connector consumes, for checkConsumed.
	read map[string]struct{}
}

func (o *options) mark(key string) {
	if o.read == nil {
		o.read = map[string]struct{}{}
	}
	o.read[key] = struct{}{}
}

// checkConsumed refuses the option keys no accessor read (and that are
// not in also), as Flink's FactoryUtil.validateUnconsumedKeys does for a
// factory that computes its options from the schema (datagen): the
// supported list is the concrete keys read, not patterns.
func (o *options) checkConsumed(id string, also ...string) error {
	supported := map[string]struct{}{"connector": {}}
	for _, k := range also {
		supported[k] = struct{}{}
	}
	for k := range o.read {
		supported[k] = struct{}{}
	}
	var unknown []string
	for k := range o.m {
		if _, ok := supported[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	all := make([]string, 0, len(supported))
	for k := range supported {
		all = append(all, k)
	}
	sort.Strings(unknown)
	sort.Strings(all)
	return fmt.Errorf("connector: table %s: Unsupported options found for '%s'.\n\nUnsupported options:\n\n%s\n\nSupported options:\n\n%s",
		o.table, id, strings.Join(unknown, "\n"), strings.Join(all, "\n"))
}

func newOptions(ctx Context) *options { return &options{table: ctx.Table, m: ctx.Options} }

func (o *options) fail(key, val, allowed string) {
	if o.err == nil {
		o.err = fmt.Errorf("connector: table %s: Invalid value for option '%s': %q; %s", o.table, key, val, allowed)
	}
}

func (o *options) has(key string) bool { _, ok := o.m[key]; return ok }

func (o *options) str(key, def string) string {
	o.mark(key)
	if v, ok := o.m[key]; ok {
		return v
	}
	return def
}

func (o *options) int64(key string, def, min int64) int64 {
	o.mark(key)
	v, ok := o.m[key]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < min {
		o.fail(key, v, fmt.Sprintf("expected an integer >= %d", min))
		return def
	}
	return n
}

func (o *options) float(key string, def, min, max float64) float64 {
	o.mark(key)
	v, ok := o.m[key]
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < min || f > max || f != f {
		o.fail(key, v, fmt.Sprintf("expected a number between %v and %v", min, max))
		return def
	}
	return f
}

func (o *options) bool(key string, def bool) bool {
	o.mark(key)
	v, ok := o.m[key]
	if !ok {
		return def
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true
	case "false":
		return false
	}
	o.fail(key, v, "expected true or false")
	return def
}

func (o *options) enum(key, def string, allowed ...string) string {
	o.mark(key)
	v, ok := o.m[key]
	if !ok {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	o.fail(key, v, "expected one of: "+strings.Join(allowed, ", "))
	return def
}

// char reads a single character option (Flink: a one-character string;
// "\t" written as a tab or as the two characters backslash t).
func (o *options) char(key string, def rune) rune {
	o.mark(key)
	v, ok := o.m[key]
	if !ok {
		return def
	}
	if v == `\t` {
		return '\t'
	}
	if utf8.RuneCountInString(v) != 1 {
		o.fail(key, v, "expected a single character")
		return def
	}
	r, _ := utf8.DecodeRuneInString(v)
	return r
}

// duration reads a Flink duration: a number with an optional unit (ms,
// s, min, h, d; none means milliseconds), as "10 s" or "500ms".
func (o *options) duration(key string, def time.Duration) time.Duration {
	o.mark(key)
	v, ok := o.m[key]
	if !ok {
		return def
	}
	d, err := parseFlinkDuration(v)
	if err != nil {
		o.fail(key, v, "expected a duration such as 10 s, 500 ms, 1 min")
		return def
	}
	return d
}

func parseFlinkDuration(v string) (time.Duration, error) {
	s := strings.TrimSpace(v)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("no number")
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, err
	}
	unit := strings.ToLower(strings.TrimSpace(s[i:]))
	var u time.Duration
	switch unit {
	case "", "ms", "milli", "millis", "millisecond", "milliseconds":
		u = time.Millisecond
	case "s", "sec", "secs", "second", "seconds":
		u = time.Second
	case "min", "m", "minute", "minutes":
		u = time.Minute
	case "h", "hour", "hours":
		u = time.Hour
	case "d", "day", "days":
		u = 24 * time.Hour
	default:
		return 0, fmt.Errorf("unknown unit %q", unit)
	}
	if n > int64(1<<62)/int64(u) {
		return 0, fmt.Errorf("too large")
	}
	return time.Duration(n) * u, nil
}

// memorySize reads a Flink memory size: a number with an optional unit
// (b, kb, mb, gb; none means bytes).
func (o *options) memorySize(key string, def int64) int64 {
	o.mark(key)
	v, ok := o.m[key]
	if !ok {
		return def
	}
	s := strings.ToLower(strings.TrimSpace(v))
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	mult := map[string]int64{"": 1, "b": 1, "bytes": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30}
	m, okUnit := mult[strings.TrimSpace(s[i:])]
	if i == 0 || err != nil || !okUnit || n <= 0 || n > (1<<62)/m {
		o.fail(key, v, "expected a memory size such as 128 mb")
		return def
	}
	return n * m
}

func durationOf(n int64) time.Duration { return time.Duration(n) }
