package expr

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestLitRegexpSameMatches checks the literal search against regexp's own
// FindStringSubmatchIndex on random texts built from the patterns' pieces.
func TestLitRegexpSameMatches(t *testing.T) {
	patterns := []struct {
		p    string
		fast bool // whether the literal search applies
	}{
		{`(&|^)channel_id=([^&]*)`, true},
		{`(&|^)id=([^&]*)`, true},
		{`(^|;)k=([^;]*)`, true},
		{`(x|yy)?lit(.)`, true},
		{`[α-ω]{0,2}key=(.*)`, true},
		{`x{2,3}key`, true},
		{`key=(.*)$`, true},
		{`^key=(.)`, true},
		{`a.b=c(\d+)`, false}, // the literal "a" is one byte
		{`foo(.*?)(bar)`, true},
		{`\bkey=(\w+)`, false},  // a word boundary looks before the suffix
		{`(?i)key=(.)`, false},  // case-folded
		{`(?m)^key=(.)`, false}, // line start
		{`a*key=(.)`, false},    // unbounded before the literal
		{`(a|b)`, false},        // no literal
	}
	pieces := []string{"&", "^", "channel_id=", "id=", "a", "b", "=", ";", "k=", "key=", "lit", "x", "yy", "α", "\n", " ", "foo", "bar", "7", "KEY="}
	for _, pc := range patterns {
		re := regexp.MustCompile(pc.p)
		l := newLitRegexp(re)
		if (l.lit != "") != pc.fast {
			t.Fatalf("%s: literal search %q, want applied=%v", pc.p, l.lit, pc.fast)
		}
		rapid.Check(t, func(t *rapid.T) {
			n := rapid.IntRange(0, 12).Draw(t, "n")
			var b strings.Builder
			for range n {
				b.WriteString(rapid.SampledFrom(pieces).Draw(t, "piece"))
			}
			s := b.String()
			want := re.FindStringSubmatchIndex(s)
			if got := l.FindStringSubmatchIndex(s); !slices.Equal(got, want) {
				t.Fatalf("%s on %q: got %v, want %v", pc.p, s, got, want)
			}
		})
	}
}

// BenchmarkRegexpExtractURL compares q21's extraction with and without
// the literal search.
func BenchmarkRegexpExtractURL(b *testing.B) {
	re := regexp.MustCompile(`(&|^)channel_id=([^&]*)`)
	l := newLitRegexp(re)
	url := "https://www.nexmark.com/mjqk/tmo/sbt/item.htm?query=1&channel_id=1235412"
	b.Run("regexp", func(b *testing.B) {
		for b.Loop() {
			if re.FindStringSubmatchIndex(url) == nil {
				b.Fatal("no match")
			}
		}
	})
	b.Run("literal", func(b *testing.B) {
		for b.Loop() {
			if l.FindStringSubmatchIndex(url) == nil {
				b.Fatal("no match")
			}
		}
	})
}
