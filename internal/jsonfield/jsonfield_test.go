package jsonfield

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type inner struct {
	A int `json:"a"`
}

type Self struct {
	*Self
	X int
}

type rec struct {
	inner
	*Self
	Name    string  `json:"name"`
	Opt     int     `json:"opt,omitempty"`
	Zero    int     `json:",omitzero"`
	Skip    int     `json:"-"`
	Ptr     *int    `json:"ptr"`
	List    []int   `json:"list"`
	hidden  int     //nolint:unused // unexported: not decoded
	Renamed float64 `json:"r,string"`
}

func TestOf(t *testing.T) {
	var got []string
	for _, f := range Of(reflect.TypeFor[rec]()) {
		s := f.Name
		if f.Optional {
			s += "?"
		}
		if f.Nullable() {
			s += "~"
		}
		got = append(got, s)
	}
	// Self embeds itself: walked to a bound, never forever, and its X
	// counted once.
	want := []string{"a", "X", "name", "opt?", "Zero?", "ptr~", "list~", "r"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("fields (-want +got):\n%s", diff)
	}
}
