package codec_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/weirstream/weir/codec"
)

type inner struct {
	A []int
	B map[string]float64
}

type rec struct {
	Name   string
	N      int64
	U      uint16
	F      float64
	OK     bool
	Raw    []byte
	When   time.Time
	Arr    [3]int8
	In     inner
	Ptr    *inner
	hidden int    `weir:"-"`
	Skip   string `weir:"-"`
}

func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	c, err := codec.For[T]()
	if err != nil {
		t.Fatal(err)
	}
	b := c.Append([]byte("prefix"), v)
	got, n, err := c.Decode(b[len("prefix"):])
	if err != nil {
		t.Fatal(err)
	}
	if n != len(b)-len("prefix") {
		t.Fatalf("decoded %d of %d bytes", n, len(b)-len("prefix"))
	}
	return got
}

func TestRoundTrip(t *testing.T) {
	if got := roundTrip(t, "héllo"); got != "héllo" {
		t.Fatal(got)
	}
	if got := roundTrip(t, -42); got != -42 {
		t.Fatal(got)
	}
	type named string
	if got := roundTrip(t, named("x")); got != "x" {
		t.Fatal(got)
	}
	r := rec{Name: "a", N: -7, U: 9, F: 2.5, OK: true, Raw: []byte{1, 2}, When: time.Unix(5, 6).UTC(),
		Arr: [3]int8{1, -1, 3}, In: inner{A: []int{1, 2}, B: map[string]float64{"x": 1, "y": 2}},
		Ptr: &inner{A: []int{}}, hidden: 3, Skip: "s"}
	got := roundTrip(t, r)
	want := r
	want.hidden, want.Skip = 0, ""
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(rec{})); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestProperties(t *testing.T) {
	c := codec.Must[inner]()
	rapid.Check(t, func(t *rapid.T) {
		v := inner{
			A: rapid.SliceOf(rapid.Int()).Draw(t, "a"),
			B: rapid.MapOf(rapid.String(), rapid.Float64()).Draw(t, "b"),
		}
		b := c.Append(nil, v)
		got, n, err := c.Decode(b)
		if err != nil || n != len(b) {
			t.Fatalf("decode: %v n=%d len=%d", err, n, len(b))
		}
		if diff := cmp.Diff(v, got, cmp.Comparer(func(x, y float64) bool { return x == y || (x != x && y != y) })); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		// Equal maps encode to equal bytes, whatever the iteration order.
		if string(c.Append(nil, got)) != string(b) {
			t.Fatalf("encoding not deterministic")
		}
	})
}

func TestUnsupported(t *testing.T) {
	type bad struct{ C chan int }
	if _, err := codec.For[bad](); err == nil {
		t.Fatal("channel field accepted")
	}
	type private struct {
		Public int
		secret int
	}
	if _, err := codec.For[private](); err == nil {
		t.Fatal("unexported field accepted: its value would be lost")
	}
	if err := codec.CheckType[func()](); err == nil {
		t.Fatal("func accepted")
	}
}

func TestSchemaNamesFields(t *testing.T) {
	if got, want := codec.Schema[inner](), "struct{A []int;B map[string]float;}"; got != want {
		t.Fatalf("Schema = %q, want %q", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	c := codec.Must[rec]()
	f.Add(c.Append(nil, rec{Name: "x", Raw: []byte("y"), In: inner{A: []int{1}}}))
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := c.Decode(b)
		if err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if n > len(b) {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		// Whatever decodes must re-encode and decode to the same value.
		again, _, err := c.Decode(c.Append(nil, v))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, again, cmp.AllowUnexported(rec{}), cmp.Comparer(func(x, y float64) bool { return x == y || (x != x && y != y) })); diff != "" {
			t.Fatalf("(-first +second):\n%s", diff)
		}
	})
}
