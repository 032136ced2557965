package expr

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

// Flink's newer string built-ins (1.20 to 2.2): BTRIM, STARTSWITH,
// ENDSWITH, ELT, REGEXP_COUNT, REGEXP_EXTRACT_ALL, REGEXP_INSTR,
// REGEXP_SUBSTR (PRINTF is in printf.go).

// javaMatches calls yield with each match of re in s (submatch indexes,
// -1 for a group that did not take part) in the order Java's
// Matcher.find loop finds them. Go's FindAll drops an empty match that
// starts where the previous match ended; Java keeps it ("baaa" with a*
// matches "", "aaa" and "" in Java, "" and "aaa" in Go). After each
// non-empty match ending at e, the pattern is tried at e once more,
// anchored behind the rune before e so that \b, ^ and \A see the real
// left context; an empty preferred match there is Java's extra match.
// Everything after it agrees again: both search on from e plus one
// character.
func javaMatches(re *regexp.Regexp, at *regexp.Regexp, s string, yield func(m []int) bool) {
	javaMatchesOf(re, at, s, true, yield)
}

// javaMatchesOf is javaMatches; with sub false the matches hold only the
// whole match's bounds (cheaper: no group positions are computed).
func javaMatchesOf(re *regexp.Regexp, at *regexp.Regexp, s string, sub bool, yield func(m []int) bool) {
	var ms [][]int
	if sub {
		ms = re.FindAllStringSubmatchIndex(s, -1)
	} else {
		ms = re.FindAllStringIndex(s, -1)
	}
	for _, m := range ms {
		if !yield(m) {
			return
		}
		if e := m[1]; e > m[0] && at != nil {
			_, w := utf8.DecodeLastRuneInString(s[:e])
			var a []int
			if sub {
				a = at.FindStringSubmatchIndex(s[e-w:])
			} else {
				a = at.FindStringIndex(s[e-w:])
			}
			if a == nil || a[1] != w {
				continue
			}
			em := make([]int, len(a))
			em[0], em[1] = e, e
			for i := 2; i < len(a); i++ {
				em[i] = a[i]
				if a[i] >= 0 {
					em[i] += e - w
				}
			}
			if !yield(em) {
				return
			}
		}
	}
}

// anchoredAfterRune compiles the pattern of re behind one rune, anchored
// at the start of the text (see javaMatches); nil if that fails.
func anchoredAfterRune(re *regexp.Regexp) *regexp.Regexp {
	return wrapPattern(re, `\A(?s:.)`)
}

// wrapPattern compiles prefix followed by re's pattern as one group. The
// pattern is printed back from its syntax tree, so that a \Q without \E
// or a trailing comment cannot swallow the closing parenthesis; its
// groups keep their numbers. Nil if that fails.
func wrapPattern(re *regexp.Regexp, prefix string) *regexp.Regexp {
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	at, err := regexp.Compile(prefix + `(?:` + tree.String() + `)`)
	if err != nil || at.NumSubexp() != re.NumSubexp() {
		return nil
	}
	return at
}

// javaRegex is a regexCache that also keeps the anchored form of the
// last pattern for javaMatches.
type javaRegex struct {
	c      *regexCache
	re, at *regexp.Regexp
}

func newJavaRegex(s *site, i int) *javaRegex { return &javaRegex{c: newRegexCache(s, i)} }

// get returns the pattern and its anchored form, nil for an invalid one.
func (j *javaRegex) get(p string) (*regexp.Regexp, *regexp.Regexp) {
	re := j.c.get(p)
	if re == nil {
		return nil, nil
	}
	if re != j.re {
		j.re, j.at = re, anchoredAfterRune(re)
	}
	return j.re, j.at
}

// utf16Len is the length of s in UTF-16 code units, Java's String.length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// pSameStrOrBin takes a character string or a binary string.
var pStrOrBin = param{ok: func(t row.Type) bool { return t.IsString() || t.IsBinary() }, def: tString}

func moreStringFuncs() []*Func {
	return []*Func{
		{Name: "UNHEX", Doc: "UNHEX(expr): the bytes the hex digits of expr spell, pairs taken from the end; an odd first digit is checked and dropped, its byte left zero (Flink's UnhexFunction); NULL if expr is NULL or holds a character that is not a hex digit.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, _, err := fixed(retStr, 1, pString)(f, args)
				return out, tBytes, err
			},
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					b, ok := unhex(a.Str())
					if !ok {
						return row.Value{}, nil
					}
					return row.Bytes(b), nil
				}), nil
			}},
		{Name: "BTRIM", Doc: "BTRIM(str[, trimStr]): removes the characters of trimStr (default ' ') from both ends of str; NULL if an argument is NULL.",
			resolve: fixed(retStr, 1, pString, pString),
			build: func(s *site) (Evaluator, error) {
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					chars := " "
					if len(a) == 2 {
						chars = a[1].Str()
					}
					return row.Str(trimMode("BOTH", a[0].Str(), chars)), nil
				}), nil
			}},
		startsEnds("STARTSWITH", strings.HasPrefix),
		startsEnds("ENDSWITH", strings.HasSuffix),
		{Name: "ELT", Doc: "ELT(index, expr[, exprs]*): the index-th expr (1-based), of the exprs' least common type (all character strings or all binary strings); NULL if index is NULL or out of range.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) < 2 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				it := args[0].Type()
				if !it.IsInteger() && !isNullT(it) {
					return nil, row.Type{}, cannotApply(f, args)
				}
				str, bin := true, true
				for _, a := range args[1:] {
					t := a.Type()
					str = str && (t.IsString() || isNullT(t))
					bin = bin && (t.IsBinary() || isNullT(t))
				}
				if !str && !bin {
					return nil, row.Type{}, cannotApply(f, args)
				}
				out, t, err := resolveCommonResult(f, args, 1)
				if err != nil {
					return nil, row.Type{}, err
				}
				if isNullT(it) {
					out[0] = coerce(out[0], tInt)
				}
				nullable := out[0].Type().Nullable
				for _, a := range out[1:] {
					nullable = nullable || a.Type().Nullable
				}
				// An index out of range is NULL: only a literal index
				// in range keeps NOT NULL.
				if l, ok := out[0].(*Literal); !ok || l.Value.IsNull() || l.Value.Int() < 1 || l.Value.Int() > int64(len(out)-1) {
					nullable = true
				}
				return out, t.WithNullable(nullable), nil
			},
			build: func(s *site) (Evaluator, error) {
				idx, exprs := s.args[0], s.args[1:]
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					i, err := idx(ctx, in)
					if err != nil || i.IsNull() {
						return row.Value{}, err
					}
					n := i.Int()
					if n < 1 || n > int64(len(exprs)) {
						return row.Value{}, nil
					}
					return exprs[n-1](ctx, in)
				}, nil
			}},
		{Name: "TRANSLATE", Doc: "TRANSLATE(expr, fromStr, toStr): expr with each character of fromStr replaced by the character at its position in toStr (the first position of a repeated character counts), removed where toStr is shorter; a NULL fromStr leaves expr as is, a NULL toStr removes every character of fromStr; NULL if expr is NULL.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, err := checkArgs(f, args, 3, pString, pString, pString)
				if err != nil {
					return nil, row.Type{}, err
				}
				return out, tString.WithNullable(out[0].Type().Nullable), nil
			},
			build: func(s *site) (Evaluator, error) {
				e, from, to := s.args[0], s.args[1], s.args[2]
				var lastFrom, lastTo string
				var dict map[rune]rune // -1: remove
				var b strings.Builder
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					v, err := e(ctx, in)
					if err != nil || v.IsNull() {
						return row.Value{}, err
					}
					fv, err := from(ctx, in)
					if err != nil || fv.IsNull() || fv.Str() == "" {
						return v, err
					}
					tv, err := to(ctx, in)
					if err != nil {
						return row.Value{}, err
					}
					if dict == nil || fv.Str() != lastFrom || tv.Str() != lastTo {
						lastFrom, lastTo = fv.Str(), tv.Str()
						dict = map[rune]rune{}
						tr := []rune(lastTo)
						i := 0
						for _, r := range lastFrom {
							if _, ok := dict[r]; !ok {
								if i < len(tr) {
									dict[r] = tr[i]
								} else {
									dict[r] = -1
								}
							}
							i++
						}
					}
					b.Reset()
					for _, r := range v.Str() {
						m, ok := dict[r]
						switch {
						case !ok:
							b.WriteRune(r)
						case m >= 0:
							b.WriteRune(m)
						}
					}
					return row.Str(b.String()), nil
				}, nil
			}},
		{Name: "REGEXP_COUNT", Doc: "REGEXP_COUNT(str, regex): the number of matches of regex in str, found as Java's Matcher.find does; NULL if an argument is NULL or regex is invalid.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(ret(tInt), 2, pString, pString)(f, args)
				return out, t.WithNullable(true), err
			},
			build: func(s *site) (Evaluator, error) {
				jr := newJavaRegex(s, 1)
				return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
					re, at := jr.get(b.Str())
					if re == nil {
						return row.Value{}, nil
					}
					n := 0
					javaMatchesOf(re, at, a.Str(), false, func([]int) bool { n++; return true })
					return row.Int(int64(n)), nil
				}), nil
			}},
		{Name: "REGEXP_EXTRACT_ALL", Doc: "REGEXP_EXTRACT_ALL(str, regex[, extractIndex]): the group extractIndex (default 1; 0 the whole match) of every match, in order, as ARRAY<STRING> (a group that did not take part is NULL); NULL if an argument is NULL, regex is invalid or the index is not a group of it.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, _, err := fixed(retStr, 2, pString, pString, pInt)(f, args)
				return out, row.ArrayType(tString), err
			},
			build: func(s *site) (Evaluator, error) {
				jr := newJavaRegex(s, 1)
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					re, at := jr.get(a[1].Str())
					if re == nil {
						return row.Value{}, nil
					}
					g := int64(1)
					if len(a) == 3 {
						g = a[2].Int()
					}
					if g < 0 || g > int64(re.NumSubexp()) {
						return row.Value{}, nil
					}
					str := a[0].Str()
					out := []row.Value{}
					javaMatches(re, at, str, func(m []int) bool {
						if m[2*g] < 0 {
							out = append(out, row.Value{})
						} else {
							out = append(out, row.Str(str[m[2*g]:m[2*g+1]]))
						}
						return true
					})
					return row.Array(out), nil
				}), nil
			}},
		{Name: "REGEXP_INSTR", Doc: "REGEXP_INSTR(str, regex): the 1-based position (in UTF-16 units, as Java's) of the first match of regex in str, 0 if none; NULL if an argument is NULL or regex is invalid.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(ret(tInt), 2, pString, pString)(f, args)
				return out, t.WithNullable(true), err
			},
			build: func(s *site) (Evaluator, error) {
				return firstMatch(s, func(str string, m []int) row.Value {
					if m == nil {
						return row.Int(0)
					}
					return row.Int(int64(utf16Len(str[:m[0]]) + 1))
				}), nil
			}},
		{Name: "REGEXP_SUBSTR", Doc: "REGEXP_SUBSTR(str, regex): the first substring of str that matches regex; NULL if an argument is NULL, regex is invalid or nothing matches.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, _, err := fixed(retStr, 2, pString, pString)(f, args)
				return out, tString, err
			},
			build: func(s *site) (Evaluator, error) {
				return firstMatch(s, func(str string, m []int) row.Value {
					if m == nil {
						return row.Value{}
					}
					return row.Str(str[m[0]:m[1]])
				}), nil
			}},
	}
}

// firstMatch evaluates f(str, bounds of the first match of the pattern in
// str, nil for none) for a call (str, regex); NULL for a NULL argument or
// an invalid pattern.
func firstMatch(s *site, f func(str string, m []int) row.Value) Evaluator {
	rc := newRegexCache(s, 1)
	return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
		re := rc.get(b.Str())
		if re == nil {
			return row.Value{}, nil
		}
		str := a.Str()
		return f(str, re.FindStringIndex(str)), nil
	})
}

// startsEnds is STARTSWITH or ENDSWITH: both arguments character strings
// or both binary strings; an empty second argument is TRUE.
func startsEnds(name string, test func(s, affix string) bool) *Func {
	return &Func{Name: name, Doc: name + "(expr, affix): whether expr " + strings.ToLower(strings.TrimSuffix(name, "WITH")) + "s with affix (both character strings or both binary strings); TRUE for an empty affix; NULL if an argument is NULL.",
		resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			out, t, err := fixed(ret(tBoolean), 2, pStrOrBin, pStrOrBin)(f, args)
			if err != nil {
				return nil, row.Type{}, err
			}
			a, b := out[0].Type(), out[1].Type()
			if (a.IsString() && b.IsBinary()) || (a.IsBinary() && b.IsString()) {
				return nil, row.Type{}, cannotApply(f, args)
			}
			return out, t, nil
		},
		build: func(s *site) (Evaluator, error) {
			return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
				return row.Bool(test(a.Str(), b.Str())), nil
			}), nil
		}}
}

// javaReplaceAll is Java's Matcher.replaceAll with a quoted replacement:
// every match javaMatches finds replaced by repl.
func javaReplaceAll(re, at *regexp.Regexp, s, repl string) string {
	var b strings.Builder
	last, any := 0, false
	javaMatchesOf(re, at, s, false, func(m []int) bool {
		any = true
		b.WriteString(s[last:m[0]])
		b.WriteString(repl)
		last = m[1]
		return true
	})
	if !any {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// unhex is Flink's UnhexFunction over the UTF-8 bytes of s.
func unhex(s string) ([]byte, bool) {
	out := make([]byte, (len(s)+1)>>1)
	i, j := len(s)-2, len(out)-1
	for ; i >= 0; i, j = i-2, j-1 {
		l, r := hexDigit(s[i]), hexDigit(s[i+1])
		if l < 0 || r < 0 {
			return nil, false
		}
		out[j] = byte(l<<4 | r)
	}
	if i == -1 && hexDigit(s[0]) < 0 {
		return nil, false
	}
	return out, true
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
