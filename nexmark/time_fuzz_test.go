package nexmark

import (
	"strconv"
	"testing"
)

// FuzzTimeJSON checks Time's JSON parser and printer: parsing arbitrary
// text fails or gives a time that prints and parses back to itself; every
// time either prints as RFC 3339 that parses back to it, or fails to
// print (years outside 0 to 9999).
func FuzzTimeJSON(f *testing.F) {
	f.Add(`"2024-01-01T00:00:00.000Z"`, int64(1704067200000))
	f.Add(`"2024-01-01T00:00:00.123456789+02:00"`, int64(-1))
	f.Add(`"0000-01-01T00:00:00Z"`, int64(253402300800000)) // year 10000
	f.Add(`null`, int64(-62167219200001))                   // year -1
	f.Add(`"9999-12-31T23:59:59.999999999-23:59"`, int64(0))
	f.Fuzz(func(t *testing.T, s string, ms int64) {
		if b, err := Time(ms).MarshalJSON(); err == nil {
			var back Time
			if err := back.UnmarshalJSON(b); err != nil || back != Time(ms) {
				t.Fatalf("%d printed as %s parses as %d (%v)", ms, b, back, err)
			}
			if q := strconv.Quote(Time(ms).String()); q != string(b) {
				t.Fatalf("%d: String %s, JSON %s", ms, q, b)
			}
		}
		var v Time
		if err := v.UnmarshalJSON([]byte(s)); err != nil {
			return
		}
		b, err := v.MarshalJSON()
		if err != nil {
			return // a zone offset took it outside years 0 to 9999
		}
		var back Time
		if err := back.UnmarshalJSON(b); err != nil || back != v {
			t.Fatalf("%s parsed as %d, printed as %s, parses as %d (%v)", s, v, b, back, err)
		}
	})
}
