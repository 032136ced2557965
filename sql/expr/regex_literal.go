package expr

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// litRegexp finds the first match of a pattern faster when every match
// must contain a literal that starts at most width bytes after the
// match's start, such as "channel_id=" in (&|^)channel_id=([^&]*): a
// match then starts at or after (first index of the literal) - width, so
// the search starts there instead of trying every position from the
// start of the text, and a text without the literal is rejected by one
// strings.Index. The match found is the one re itself finds (same
// leftmost start; the text after it is the same).
type litRegexp struct {
	re    *regexp.Regexp
	lit   string
	width int
	// tail is re with ^ (begin of text) made unmatchable, for searching
	// a suffix s[k:], k > 0, where ^ cannot match in s.
	tail *regexp.Regexp
}

// newLitRegexp returns re with the literal search where it applies (else
// lit is "" and FindStringSubmatchIndex is re's).
func newLitRegexp(re *regexp.Regexp) *litRegexp {
	l := &litRegexp{re: re}
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil || !suffixSafe(tree) {
		return l
	}
	lit, width, ok := requiredLiteral(tree)
	if !ok || len(lit) < 2 {
		return l
	}
	tail, err := regexp.Compile(withoutBeginText(tree).String())
	if err != nil || tail.NumSubexp() != re.NumSubexp() {
		return l
	}
	l.lit, l.width, l.tail = lit, width, tail
	return l
}

// FindStringSubmatchIndex is regexp's, for l's pattern.
func (l *litRegexp) FindStringSubmatchIndex(s string) []int {
	if l.lit == "" {
		return l.re.FindStringSubmatchIndex(s)
	}
	p := strings.Index(s, l.lit)
	if p < 0 {
		return nil
	}
	k := p - l.width
	if k <= 0 {
		return l.re.FindStringSubmatchIndex(s)
	}
	m := l.tail.FindStringSubmatchIndex(s[k:])
	for i, x := range m {
		if x >= 0 {
			m[i] = x + k
		}
	}
	return m
}

// suffixSafe reports whether searching a suffix of the text gives the
// same matches as the whole text, ^ aside: no assertion looks at the text
// before a position (word boundaries, line starts and ends).
func suffixSafe(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpBeginLine, syntax.OpEndLine:
		return false
	}
	for _, sub := range re.Sub {
		if !suffixSafe(sub) {
			return false
		}
	}
	return true
}

// requiredLiteral finds, among the top-level concatenation's parts, the
// first case-sensitive literal whose preceding parts match at most width
// bytes.
func requiredLiteral(re *syntax.Regexp) (lit string, width int, ok bool) {
	parts := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		parts = re.Sub
	}
	for _, p := range parts {
		if p.Op == syntax.OpLiteral && p.Flags&syntax.FoldCase == 0 {
			return string(p.Rune), width, true
		}
		w, bounded := maxWidth(p)
		if !bounded {
			return "", 0, false
		}
		width += w
	}
	return "", 0, false
}

// maxWidth is the most bytes re can match, if bounded.
func maxWidth(re *syntax.Regexp) (int, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpNoMatch:
		return 0, true
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				n += utf8.UTFMax
			} else {
				n += utf8.RuneLen(r)
			}
		}
		return n, true
	case syntax.OpCharClass:
		if len(re.Rune) > 0 && re.Rune[len(re.Rune)-1] < utf8.RuneSelf {
			return 1, true
		}
		return utf8.UTFMax, true
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax, true
	case syntax.OpCapture:
		return maxWidth(re.Sub[0])
	case syntax.OpConcat, syntax.OpAlternate:
		total := 0
		for _, sub := range re.Sub {
			w, ok := maxWidth(sub)
			if !ok {
				return 0, false
			}
			if re.Op == syntax.OpConcat {
				total += w
			} else {
				total = max(total, w)
			}
		}
		return total, true
	case syntax.OpQuest:
		return maxWidth(re.Sub[0])
	case syntax.OpRepeat:
		if re.Max < 0 {
			return 0, false
		}
		w, ok := maxWidth(re.Sub[0])
		return w * re.Max, ok
	}
	return 0, false // star, plus, and anything not listed
}

// withoutBeginText returns a copy of re in which ^ (begin of text)
// matches nothing.
func withoutBeginText(re *syntax.Regexp) *syntax.Regexp {
	c := *re
	if c.Op == syntax.OpBeginText {
		return &syntax.Regexp{Op: syntax.OpNoMatch, Flags: c.Flags}
	}
	if len(re.Sub) > 0 {
		c.Sub = make([]*syntax.Regexp, len(re.Sub))
		for i, sub := range re.Sub {
			c.Sub[i] = withoutBeginText(sub)
		}
		c.Sub0 = [1]*syntax.Regexp{}
	}
	return &c
}
