package codec

import (
	"encoding/binary"
	"math"
	"time"
)

// A time.Time is encoded in one of two forms, the decoder telling them
// apart by the first two bytes:
//
//   - an instant whose UnixNano fits an int64 (1677-09-21T00:12:43.145224192Z
//     to 2262-04-11T23:47:16.854775807Z) as varint(UnixNano), the only form
//     before this change, so such values keep the bytes they had (state
//     keys, map-state user keys and namespaces holding them still match
//     what older snapshots stored);
//   - any other instant as the marker 0x80 0x00, varint(Unix seconds),
//     uvarint(nanoseconds, < 1e9). 0x80 0x00 is a non-minimal varint of
//     0, which binary.AppendVarint never writes, so no old encoding starts
//     with it.
//
// Both are exact to the nanosecond. Each instant has exactly one
// encoding (the decoder refuses the marker form of an instant the first
// form covers), so equal instants have equal bytes; the location and the
// monotonic reading are not kept: values decode in UTC, as before.
//
// The old code wrote varint(UnixNano) for every instant, so a value
// outside 1677..2262 was stored wrapped, as the in-range instant of the
// same int64; such bytes in an old snapshot still decode to that wrapped
// instant (what they meant to the old code), and are not found by a
// lookup of the original value, which now encodes exactly. A binary older
// than this change misreads the marker form.
//
// The zero time.Time, by far the most common of those values (an unset
// field), keeps its old bytes, varint of its wrapped UnixNano: old
// snapshots' keys holding it still match, an older binary reads it, and
// those bytes decode to time.Time{} (the old code gave 1754-08-30). The
// instant they wrapped to, zeroAlias, takes the long form instead.
const timeMarker0, timeMarker1 = 0x80, 0x00

// zeroNano is time.Time{}.UnixNano() (wrapped) and zeroAlias the in-range
// instant of that UnixNano, 1754-08-30T22:43:41.128654848Z.
var (
	zeroNano  = time.Time{}.UnixNano()
	zeroAlias = time.Unix(0, zeroNano).UTC()
)

// unixToInternal is time's offset of the Unix epoch from year 1, in
// seconds: time.Unix(sec, ...) wraps for sec above MaxInt64 minus it.
const unixToInternal = (1969*365 + 1969/4 - 1969/100 + 1969/400) * 86400

// nanoFits reports whether t's instant is t.UnixNano() exactly.
func nanoFits(t time.Time) bool {
	const lo, hi = math.MinInt64 / 1000000000, math.MaxInt64 / 1000000000 // ±9223372036
	sec := t.Unix()
	if sec >= lo && sec < hi {
		return true
	}
	if sec < lo-1 || sec > hi {
		return false
	}
	return time.Unix(0, t.UnixNano()).Equal(t) // the edge seconds
}

func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(dst, zeroNano)
	}
	if nanoFits(t) && !t.Equal(zeroAlias) {
		return binary.AppendVarint(dst, t.UnixNano())
	}
	dst = append(dst, timeMarker0, timeMarker1)
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

func decodeTime(src []byte) (time.Time, int, error) {
	if len(src) >= 2 && src[0] == timeMarker0 && src[1] == timeMarker1 {
		sec, k := binary.Varint(src[2:])
		if k <= 0 {
			return time.Time{}, 0, corrupt("time seconds")
		}
		ns, m := binary.Uvarint(src[2+k:])
		if m <= 0 || ns >= 1e9 {
			return time.Time{}, 0, corrupt("time nanoseconds")
		}
		if sec > math.MaxInt64-unixToInternal {
			return time.Time{}, 0, corrupt("time out of range")
		}
		t := time.Unix(sec, int64(ns)).UTC()
		if nanoFits(t) && !t.Equal(zeroAlias) {
			return time.Time{}, 0, corrupt("time in the long form")
		}
		return t, 2 + k + m, nil
	}
	x, k := binary.Varint(src)
	if k <= 0 {
		return time.Time{}, 0, corrupt("time")
	}
	if x == zeroNano {
		return time.Time{}, k, nil
	}
	return time.Unix(0, x).UTC(), k, nil
}
