package expr

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// javaFindReference is Java's Matcher.find loop spelled out: from the
// search position, the first start p (a rune boundary) where the pattern
// matches with the whole text around it, the preferred match there; after
// an empty match the search goes on one character later, after another
// at its end.
func javaFindReference(re *regexp.Regexp, s string) [][]int {
	at0 := wrapPattern(re, `\A`)
	at := anchoredAfterRune(re)
	matchAt := func(p int) []int {
		if p == 0 {
			return at0.FindStringSubmatchIndex(s)
		}
		_, w := utf8.DecodeLastRuneInString(s[:p])
		m := at.FindStringSubmatchIndex(s[p-w:])
		if m == nil {
			return nil
		}
		out := slices.Clone(m)
		out[0] = p
		for i := 1; i < len(out); i++ {
			if out[i] >= 0 {
				out[i] += p - w
			}
		}
		return out
	}
	var all [][]int
	for pos := 0; pos <= len(s); {
		var m []int
		for p := pos; p <= len(s); {
			if m = matchAt(p); m != nil {
				break
			}
			if p == len(s) {
				break
			}
			_, w := utf8.DecodeRuneInString(s[p:])
			p += w
		}
		if m == nil {
			break
		}
		all = append(all, m)
		if m[1] == m[0] {
			if m[1] == len(s) {
				break
			}
			_, w := utf8.DecodeRuneInString(s[m[1]:])
			pos = m[1] + w
		} else {
			pos = m[1]
		}
	}
	return all
}

func checkJavaMatches(t *testing.T, pattern, s string) {
	re, err := regexp.Compile(pattern)
	if err != nil || !utf8.ValidString(s) {
		return
	}
	var got [][]int
	javaMatches(re, anchoredAfterRune(re), s, func(m []int) bool {
		got = append(got, slices.Clone(m))
		return true
	})
	want := javaFindReference(re, s)
	if !slices.EqualFunc(got, want, slices.Equal[[]int]) {
		t.Fatalf("pattern %q on %q:\n got  %v\n want %v", pattern, s, got, want)
	}
	var bounds [][]int
	javaMatchesOf(re, anchoredAfterRune(re), s, false, func(m []int) bool {
		bounds = append(bounds, slices.Clone(m))
		return true
	})
	if !slices.EqualFunc(bounds, want, func(a, b []int) bool { return slices.Equal(a, b[:2]) }) {
		t.Fatalf("pattern %q on %q, bounds only:\n got  %v\n want %v", pattern, s, bounds, want)
	}
}

// TestJavaMatches checks javaMatches (Go's FindAll plus Java's empty
// matches after a match) against the reference loop on patterns with
// empty matches, anchors and word boundaries.
func TestJavaMatches(t *testing.T) {
	patterns := []string{`a*`, `\w*\b`, `^a*`, `\Aa`, `(?m)^a*$`, `b*|a`, `\B`, `x*`, `(a)|(b*)`, `$`, `a*?`, `(?:ab)*`, `\b`, `.*`, ``}
	texts := []string{"", "a", "baaa", "ab cd", "aab", "a\naa\n", "bab", "😀a😀", "abab", "  "}
	for _, p := range patterns {
		for _, s := range texts {
			checkJavaMatches(t, p, s)
		}
	}
}

// FuzzJavaMatches compares javaMatches with the reference loop on any
// pattern and valid UTF-8 text.
func FuzzJavaMatches(f *testing.F) {
	f.Add(`a*`, "baaa")
	f.Add(`\w*\b`, "ab cd")
	f.Add(`(?m)^a*`, "a\naa")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(s) > 64 || len(pattern) > 32 {
			return
		}
		checkJavaMatches(t, pattern, s)
	})
}

// FuzzPrintf feeds any format to javaFormat over a fixed mix of
// arguments: it must return an output or errFormat, never panic.
func FuzzPrintf(f *testing.F) {
	for _, s := range []string{"%s-%d", "%08.3f", "%,d", "%#010x", "%.3g", "%2$s %1$s", "%<s", "%", "%5%", "%-0d", "%.f"} {
		f.Add(s)
	}
	args := []jArg{jInt64(-42, 32), {kind: jFloat, f: 1.5}, {kind: jStr, s: "ab"}, {kind: jNull}, {kind: jBool, i: 1, hashK: true, hash: 1231}, jInt64(-1, 8)}
	f.Fuzz(func(t *testing.T, format string) {
		var b strings.Builder
		err := javaFormat(&b, format, args)
		if err != nil && err != errFormat && !strings.Contains(err.Error(), "would be longer") {
			t.Fatalf("%q: %v", format, err)
		}
	})
}
