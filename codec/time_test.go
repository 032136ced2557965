package codec_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/weirstream/weir/codec"
)

// oldTimeBytes are time.Time values as the codec wrote them before the
// exact encoding (varint(UnixNano), computed with that code), with what
// what they decode to now (what the old code decoded them to, except the
// zero time's bytes, now the zero time). Values outside 1677..2262 were
// written wrapped; their bytes still decode to the wrapped instant.
var oldTimeBytes = []struct {
	in      time.Time
	hex     string
	decoded string // RFC 3339, UTC
	inRange bool
}{
	{time.Unix(0, 0), "00", "1970-01-01T00:00:00Z", true},
	{time.Unix(5, 6), "8cc8afa025", "1970-01-01T00:00:05.000000006Z", true},
	{time.Date(2026, 12, 6, 7, 0, 0, 123456789, time.UTC), "aab4f9dfb6fecbee31", "2026-12-06T07:00:00.123456789Z", true},
	{time.Date(1900, 1, 1, 0, 0, 0, 1, time.FixedZone("x", 3600)), "fdffcc98cab8f5a73d", "1899-12-31T23:00:00.000000001Z", true},
	{time.Date(1677, 9, 21, 0, 12, 43, 145224192, time.UTC), "ffffffffffffffffff01", "1677-09-21T00:12:43.145224192Z", true},
	{time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC), "feffffffffffffffff01", "2262-04-11T23:47:16.854775807Z", true},
	// The zero time keeps its old bytes, which now decode to it.
	{time.Time{}, "ffffafae9885fecdbc01", "0001-01-01T00:00:00Z", true},
	{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), "818088d5ab8097d68601", "1816-03-30T05:56:08.066277375Z", false},
}

// TestTimeOldEncoding decodes bytes the old code wrote (a snapshot taken
// before the exact encoding) and checks that values it covered encode to
// the same bytes now, so state keys holding them still match.
func TestTimeOldEncoding(t *testing.T) {
	c := codec.Must[time.Time]()
	for _, x := range oldTimeBytes {
		b, err := hex.DecodeString(x.hex)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := c.Decode(b)
		if err != nil || n != len(b) {
			t.Fatalf("%s: decoded %d of %d bytes: %v", x.hex, n, len(b), err)
		}
		if s := got.Format(time.RFC3339Nano); s != x.decoded || got.Location() != time.UTC {
			t.Errorf("%s decodes to %s (%v), the old code gave %s", x.hex, s, got.Location(), x.decoded)
		}
		now := c.Append(nil, x.in)
		if x.inRange != bytes.Equal(now, b) {
			t.Errorf("%v: encodes to %x, the old code wrote %s (in range: %v)", x.in, now, x.hex, x.inRange)
		}
		if back, _, err := c.Decode(now); err != nil || !back.Equal(x.in) {
			t.Errorf("%v: round trip gives %v, %v", x.in, back, err)
		}
	}
	// A struct holding one, as a snapshot entry.
	type entry struct {
		A time.Time
		B int
	}
	b, _ := hex.DecodeString("aab4f9dfb6fecbee3105")
	e, n, err := codec.Must[entry]().Decode(b)
	if err != nil || n != len(b) || !e.A.Equal(time.Date(2026, 12, 6, 7, 0, 0, 123456789, time.UTC)) || e.B != -3 {
		t.Fatalf("old entry decodes to %+v (%d bytes, %v)", e, n, err)
	}
	if codec.Schema[entry]() != "struct{A time;B int;}" {
		t.Fatalf("schema changed: %s (old snapshots would be refused)", codec.Schema[entry]())
	}
}

// TestTimeRoundTrip: every instant from year 0000 to 9999 (and far
// beyond), in any location, decodes to the same instant in UTC; equal
// instants have equal bytes; a value followed by another decodes alone.
func TestTimeRoundTrip(t *testing.T) {
	c := codec.Must[time.Time]()
	year0 := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	year9999 := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	edgeLo := time.Unix(0, math.MinInt64).Unix()
	edgeHi := time.Unix(0, math.MaxInt64).Unix()
	rapid.Check(t, func(t *rapid.T) {
		sec := rapid.OneOf(
			rapid.Int64Range(year0, year9999),
			rapid.Int64Range(edgeLo-2, edgeLo+2),
			rapid.Int64Range(edgeHi-2, edgeHi+2),
			rapid.Int64Range(-1<<50, 1<<50),
		).Draw(t, "sec")
		ns := rapid.OneOf(rapid.Int64Range(0, 1e9-1), rapid.SampledFrom([]int64{0, 145224191, 145224192, 854775807, 854775808, 1e9 - 1})).Draw(t, "ns")
		zone := rapid.SampledFrom([]*time.Location{time.UTC, time.FixedZone("e", 5*3600+1800), time.FixedZone("w", -11*3600)}).Draw(t, "zone")
		in := time.Unix(sec, ns).In(zone)
		b := c.Append([]byte{7}, in)[1:]
		got, n, err := c.Decode(append(b, 0xff))
		if err != nil || n != len(b) {
			t.Fatalf("%v: decoded %d of %d bytes: %v", in, n, len(b), err)
		}
		if !got.Equal(in) || got.Location() != time.UTC {
			t.Fatalf("%v (%x) decodes to %v", in, b, got)
		}
		if u := c.Append(nil, in.UTC()); !bytes.Equal(u, b) {
			t.Fatalf("%v encodes to %x, in UTC to %x", in, b, u)
		}
		// In the UnixNano range the encoding is the old one.
		if fits := in.Unix() > edgeLo+1 && in.Unix() < edgeHi-1; fits && !in.Equal(zeroAlias) {
			var old []byte
			old = appendVarint(old, in.UnixNano())
			if !bytes.Equal(old, b) {
				t.Fatalf("%v: %x, the old encoding is %x", in, b, old)
			}
		}
		for cut := 0; cut < len(b); cut++ {
			if _, _, err := c.Decode(b[:cut]); !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("%x cut at %d: %v", b, cut, err)
			}
		}
	})
}

func appendVarint(dst []byte, x int64) []byte {
	u := uint64(x) << 1
	if x < 0 {
		u = ^u
	}
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

// TestTimeEdges: the last instants of the UnixNano range keep the old
// form, the next ones take the long form; malformed long forms are
// refused.
func TestTimeEdges(t *testing.T) {
	c := codec.Must[time.Time]()
	lo, hi := time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)
	for _, x := range []struct {
		t    time.Time
		long bool
	}{{lo, false}, {hi, false}, {lo.Add(-1), true}, {hi.Add(1), true}, {time.Time{}, false}, {zeroAlias, true}, {zeroAlias.Add(1), false}} {
		b := c.Append(nil, x.t)
		if long := len(b) >= 2 && b[0] == 0x80 && b[1] == 0x00; long != x.long {
			t.Errorf("%v: %x, long form %v, want %v", x.t, b, long, x.long)
		}
		if got, _, err := c.Decode(b); err != nil || !got.Equal(x.t) {
			t.Errorf("%v: decodes to %v, %v", x.t, got, err)
		}
	}
	for _, h := range []string{
		"8000",                       // no seconds
		"800000",                     // no nanoseconds
		"80000080a8d6b907",           // 1e9 nanoseconds
		"80000a00",                   // 5 s: in the UnixNano range, so not canonical
		"8000feffffffffffffffff0100", // seconds where time.Unix wraps
	} {
		b, _ := hex.DecodeString(h)
		if _, _, err := c.Decode(b); !errors.Is(err, codec.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", h, err)
		}
	}
}

// zeroAlias is the instant the old code's bytes of time.Time{} decoded to.
var zeroAlias = time.Date(1754, 8, 30, 22, 43, 41, 128654848, time.UTC)

// TestTimeZero: the zero time keeps the bytes older versions wrote (so a
// map-state key or a value holding it in an old snapshot still matches and
// an older binary reads it), in any location and with a monotonic reading;
// those bytes decode to the zero time; the instant they used to decode to
// takes the long form and round-trips; the long form of the zero time
// (written between the exact encoding and this change) decodes to it.
func TestTimeZero(t *testing.T) {
	c := codec.Must[time.Time]()
	old, _ := hex.DecodeString("ffffafae9885fecdbc01")
	for _, z := range []time.Time{{}, time.Time{}.In(time.FixedZone("x", -7200)), time.Time{}.Local()} {
		if b := c.Append(nil, z); !bytes.Equal(b, old) {
			t.Errorf("%v encodes to %x, the old bytes are %x", z, b, old)
		}
	}
	got, n, err := c.Decode(old)
	if err != nil || n != len(old) || !got.IsZero() || got != (time.Time{}) {
		t.Fatalf("old zero bytes decode to %v (%d bytes, %v)", got, n, err)
	}
	now := time.Now() // with a monotonic reading
	if b, back := c.Append(nil, now), now.Round(0); !bytes.Equal(b, c.Append(nil, back)) {
		t.Errorf("a monotonic reading changes the bytes")
	}
	b := c.Append(nil, zeroAlias)
	if len(b) < 2 || b[0] != 0x80 || b[1] != 0x00 {
		t.Fatalf("%v encodes to %x, want the long form", zeroAlias, b)
	}
	if got, _, err := c.Decode(b); err != nil || !got.Equal(zeroAlias) {
		t.Fatalf("%x decodes to %v, %v", b, got, err)
	}
	long := append([]byte{0x80, 0x00}, appendVarint(nil, time.Time{}.Unix())...)
	long = append(long, 0)
	if got, n, err := c.Decode(long); err != nil || n != len(long) || got != (time.Time{}) {
		t.Fatalf("long-form zero %x decodes to %v (%d, %v)", long, got, n, err)
	}
	// In a struct, as a value-state entry: zero and set times.
	type entry struct {
		A, B time.Time
		N    int
	}
	ec := codec.Must[entry]()
	in := entry{B: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), N: 7}
	eb := ec.Append(nil, in)
	if !bytes.HasPrefix(eb, old) {
		t.Errorf("entry %x does not start with the old zero bytes", eb)
	}
	if back, _, err := ec.Decode(eb); err != nil || back != in {
		t.Errorf("entry decodes to %+v, %v", back, err)
	}
}
