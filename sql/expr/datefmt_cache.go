package expr

import "time"

// formatCache remembers the last text a fixed date-time pattern printed and
// the span of wall time that prints the same: a pattern whose finest field
// is the day (yyyy-MM-dd) prints one text for the whole day, one with
// minutes (HH:mm) one per minute. Rows of a stream carry nearby times, so
// most of them hit the span and reuse the text: no formatting, no new
// string. Like the rest of an Evaluator's state, it belongs to one
// goroutine.
type formatCache struct {
	unit   int64 // span length in ms; 0: the pattern is not cached
	lo, hi int64 // [lo, hi): the wall-time span of text
	text   string
	valid  bool
}

// cacheUnit returns the length (ms) of the wall-time spans over which p
// prints one text, or 0 where that is not worth it or not true (fractions
// of seconds; zone offsets, which depend on more than the wall time).
func (p *DateTimePattern) cacheUnit() int64 {
	unit := int64(86_400_000)
	for _, tk := range p.toks {
		switch tk.letter {
		case 0, 'G', 'y', 'M', 'd', 'D', 'E', 'u':
		case 'a', 'H', 'k', 'K', 'h':
			unit = min(unit, 3_600_000)
		case 'm':
			unit = min(unit, 60_000)
		case 's':
			unit = min(unit, 1_000)
		default: // S, Z, X
			return 0
		}
	}
	return unit
}

// format prints the wall time wallMs (+nano, ms since the epoch in UTC
// wall-clock terms) with p, from the cache when wallMs is in its span.
func (c *formatCache) format(p *DateTimePattern, wallMs int64, nano time.Duration) string {
	if c.unit == 0 {
		return p.Format(time.UnixMilli(wallMs).UTC().Add(nano))
	}
	if c.valid && wallMs >= c.lo && wallMs < c.hi {
		return c.text
	}
	// nano is below a millisecond: it cannot cross the span.
	c.lo = floorDiv(wallMs, c.unit) * c.unit
	c.hi = c.lo + c.unit
	c.text = p.Format(time.UnixMilli(wallMs).UTC().Add(nano))
	c.valid = true
	return c.text
}
