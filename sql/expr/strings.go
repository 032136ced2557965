package expr

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

// String functions. Lengths and positions count characters (code points),
// positions are 1-based, as Flink's StringData.

// maxResultChars bounds the strings REPEAT, LPAD and RPAD build, so that
// a bad argument fails the record instead of exhausting memory.
const maxResultChars = 1 << 28

func str1(name, doc string, f func(s string) string) *Func {
	return &Func{Name: name, Doc: doc, resolve: fixed(retStr, 1, pString),
		build: func(s *site) (Evaluator, error) {
			return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) { return row.Str(f(a.Str())), nil }), nil
		}}
}

func retStr([]row.Type) row.Type { return tString.NotNull() }

func retBytes([]row.Type) row.Type { return tBytes.NotNull() }

// runeSlice returns s[start:end] in characters, clamped.
func runeSlice(s string, start, end int) string {
	if start < 0 {
		start = 0
	}
	i, bs, be := 0, len(s), len(s)
	for pos := range s {
		if i == start {
			bs = pos
		}
		if i == end {
			be = pos
			break
		}
		i++
	}
	if start >= i && bs == len(s) {
		return ""
	}
	if end <= start {
		return ""
	}
	return s[bs:be]
}

func charLen(s string) int { return utf8.RuneCountInString(s) }

// indexRunes returns the 1-based character position of sub in s at or
// after character from (1-based), or 0.
// instrNth is Flink's INSTR(s, sub, start, nth): the 1-based position of
// the nth occurrence of sub at or after position start; a negative start
// searches the reversed strings from -start and maps the position back.
func instrNth(s, sub string, start, nth int) int {
	switch {
	case start == 0:
		return 0
	case start < 0:
		pos := instrNth(reverseRunes(s), reverseRunes(sub), -start, nth)
		if pos == 0 {
			return 0
		}
		return charLen(s) + 2 - pos - charLen(sub)
	}
	idx := 0
	for i := 0; i < nth; i++ {
		if idx = indexRunes(s, sub, start); idx == 0 {
			return 0
		}
		start = idx + 1
	}
	return idx
}

func reverseRunes(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

func indexRunes(s, sub string, from int) int {
	if from < 1 {
		return 0
	}
	off := 0
	k := 1
	for pos := range s {
		if k == from {
			off = pos
			break
		}
		k++
	}
	if k < from {
		if sub == "" && k == from {
			return from
		}
		return 0
	}
	i := strings.Index(s[off:], sub)
	if i < 0 {
		return 0
	}
	return from + utf8.RuneCountInString(s[off:off+i])
}

func hashFunc(name string, h func() hash.Hash) *Func {
	return &Func{Name: name, Doc: name + "(string): the " + name + " digest of the string's UTF-8 bytes as 32..128 lower-case hex digits; NULL for NULL.",
		resolve: fixed(retStr, 1, pBinStr),
		build: func(s *site) (Evaluator, error) {
			return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
				d := h()
				d.Write([]byte(a.Str()))
				return row.Str(hex.EncodeToString(d.Sum(nil))), nil
			}), nil
		}}
}

// regexCache compiles a pattern once when it is a literal, else caches the
// last pattern seen (an Evaluator runs on one goroutine).
type regexCache struct {
	fixed   *regexp.Regexp
	isFixed bool
	last    string
	re      *regexp.Regexp
	ok      bool
	// lit is the literal search of the pattern returned last (getLit).
	lit *litRegexp
}

// getLit is get with the literal search of newLitRegexp.
func (c *regexCache) getLit(p string) *litRegexp {
	re := c.get(p)
	if re == nil {
		return nil
	}
	if c.lit == nil || c.lit.re != re {
		c.lit = newLitRegexp(re)
	}
	return c.lit
}

func newRegexCache(s *site, i int) *regexCache {
	c := &regexCache{}
	if p, ok := s.constString(i); ok {
		c.isFixed = true
		c.fixed, _ = regexp.Compile(p)
	}
	return c
}

// get returns the compiled pattern, or nil if it is invalid (Flink yields
// NULL for an invalid pattern). Patterns use Go's RE2 syntax, which lacks
// Java's backreferences and lookaround.
func (c *regexCache) get(p string) *regexp.Regexp {
	if c.isFixed {
		return c.fixed
	}
	if c.ok && p == c.last {
		return c.re
	}
	c.re, _ = regexp.Compile(p)
	c.last, c.ok = p, true
	return c.re
}

func stringFuncs() []*Func {
	return []*Func{
		{Name: "||", infix: true, Doc: "s1 || s2: concatenation; NULL if either is NULL.",
			resolve: fixed(retStr, 2, pString, pString), build: buildConcat},
		{Name: "CONCAT", Doc: "CONCAT(s1, s2, ...): concatenation; NULL if any argument is NULL.",
			resolve: variadic(retStr, 1, pString), build: buildConcat},
		{Name: "CONCAT_WS", Doc: "CONCAT_WS(sep, s1, s2, ...): joins the non-NULL strings with sep; NULL only if sep is NULL.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) < 1 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				out, t, err := variadic(retStr, 1, pString)(f, args)
				if err == nil {
					t.Nullable = out[0].Type().Nullable
				}
				return out, t, err
			},
			build: func(s *site) (Evaluator, error) {
				args := s.args
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					sep, err := args[0](ctx, in)
					if err != nil || sep.IsNull() {
						return row.Value{}, err
					}
					var b strings.Builder
					first := true
					for _, ev := range args[1:] {
						v, err := ev(ctx, in)
						if err != nil {
							return row.Value{}, err
						}
						if v.IsNull() {
							continue
						}
						if !first {
							b.WriteString(sep.Str())
						}
						first = false
						b.WriteString(v.Str())
					}
					return row.Str(b.String()), nil
				}, nil
			}},
		{Name: "CHAR_LENGTH", Doc: "CHAR_LENGTH(s) (CHARACTER_LENGTH): number of characters; INT.",
			resolve: fixed(ret(tInt), 1, pString),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) { return row.Int(int64(charLen(a.Str()))), nil }), nil
			}},
		str1("UPPER", "UPPER(s): upper case.", strings.ToUpper),
		str1("LOWER", "LOWER(s): lower case.", strings.ToLower),
		str1("REVERSE", "REVERSE(s): the characters in reverse order.", func(s string) string {
			r := []rune(s)
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
			return string(r)
		}),
		str1("INITCAP", "INITCAP(s): the first character of each word upper case, the rest lower case; words are runs of letters and digits.", func(s string) string {
			var b strings.Builder
			inWord := false
			for _, r := range s {
				w := unicode.IsLetter(r) || unicode.IsDigit(r)
				if w && !inWord {
					b.WriteRune(unicode.ToUpper(r))
				} else {
					b.WriteRune(unicode.ToLower(r))
				}
				inWord = w
			}
			return b.String()
		}),
		{Name: "TRIM", symbols: true, Doc: "TRIM([BOTH|LEADING|TRAILING] [chars] FROM s): called as TRIM(symbol, chars, s); chars defaults to ' ' — each character of chars is removed from the chosen end(s).",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				switch len(args) {
				case 1:
					args = []Expr{Sym("BOTH"), StringLiteral(" "), args[0]}
				case 2:
					args = []Expr{args[0], StringLiteral(" "), args[1]}
				}
				if sy, ok := args[0].(*Symbol); !ok || (sy.Name != "BOTH" && sy.Name != "LEADING" && sy.Name != "TRAILING") {
					return nil, row.Type{}, cannotApply(f, args)
				}
				return fixed(retStr, 3, pSym, pString, pString)(f, args)
			},
			build: func(s *site) (Evaluator, error) {
				mode := s.symbol(0)
				chars, s2 := s.args[1], s.args[2]
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					c, err := chars(ctx, in)
					if err != nil || c.IsNull() {
						return row.Value{}, err
					}
					v, err := s2(ctx, in)
					if err != nil || v.IsNull() {
						return row.Value{}, err
					}
					return row.Str(trimMode(mode, v.Str(), c.Str())), nil
				}, nil
			}},
		trimFunc("LTRIM", "LEADING"),
		trimFunc("RTRIM", "TRAILING"),
		{Name: "POSITION", Doc: "POSITION(sub IN s), called as POSITION(sub, s): 1-based character position of the first sub in s, 0 if absent.",
			resolve: fixed(ret(tInt), 2, pString, pString),
			build: func(s *site) (Evaluator, error) {
				return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
					return row.Int(int64(indexRunes(b.Str(), a.Str(), 1))), nil
				}), nil
			}},
		{Name: "LOCATE", Doc: "LOCATE(sub, s[, pos]): position of sub in s at or after character pos (default 1); 0 if absent.",
			resolve: fixed(ret(tInt), 2, pString, pString, pInt),
			build: func(s *site) (Evaluator, error) {
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					from := 1
					if len(a) == 3 {
						from = int(a[2].Int())
					}
					return row.Int(int64(indexRunes(a[1].Str(), a[0].Str(), from))), nil
				}), nil
			}},
		{Name: "INSTR", Doc: "INSTR(s, sub[, start, nth]): position of the first (nth) sub in s searching from the 1-based start (a negative start searches backwards from that position counted from the end), 0 if absent or start is 0; an nth below 1 is an error.",
			resolve: fixed(ret(tInt), 2, pString, pString, pInt, pInt),
			build: func(s *site) (Evaluator, error) {
				if len(s.args) == 2 {
					return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
						return row.Int(int64(indexRunes(a.Str(), b.Str(), 1))), nil
					}), nil
				}
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					start, nth := 1, 1
					if len(a) > 2 {
						start = int(a[2].Int())
					}
					if len(a) > 3 {
						nth = int(a[3].Int())
					}
					if nth < 1 {
						return row.Value{}, fmt.Errorf("expr: INSTR: the occurrence must be positive, not %d", nth)
					}
					return row.Int(int64(instrNth(a[0].Str(), a[1].Str(), start, nth))), nil
				}), nil
			}},
		{Name: "SUBSTRING", Doc: "SUBSTRING(s FROM start [FOR len]) and SUBSTR: characters from 1-based start (a negative start counts from the end, '' when before the start; 0 acts as 1); NULL for a negative len.",
			resolve: fixed(retStr, 2, pString, pInt, pInt),
			build: func(s *site) (Evaluator, error) {
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					str := a[0].Str()
					n := charLen(str)
					length := n + 1
					if len(a) == 3 {
						length = int(a[2].Int())
						if length < 0 {
							return row.Value{}, nil
						}
					}
					pos := int(a[1].Int())
					start := 0
					switch {
					case pos > 0:
						start = pos - 1
						if start >= n {
							return row.Str(""), nil
						}
					case pos < 0:
						start = n + pos
						if start < 0 {
							return row.Str(""), nil
						}
					}
					end := n
					if n-start >= length {
						end = start + length
					}
					return row.Str(runeSlice(str, start, end)), nil
				}), nil
			}},
		{Name: "REPLACE", Doc: "REPLACE(s, from, to): every occurrence of from replaced by to.",
			resolve: fixed(retStr, 3, pString, pString, pString),
			build: func(s *site) (Evaluator, error) {
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					if a[1].Str() == "" {
						return a[0], nil
					}
					return row.Str(strings.ReplaceAll(a[0].Str(), a[1].Str(), a[2].Str())), nil
				}), nil
			}},
		{Name: "REGEXP", Doc: "REGEXP(s, regex): TRUE if some substring of s matches regex; FALSE for an empty or invalid regex; NULL if an argument is NULL.",
			resolve: fixed(ret(tBoolean), 2, pString, pString),
			build: func(s *site) (Evaluator, error) {
				rc := newRegexCache(s, 1)
				return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
					re := rc.get(b.Str())
					if re == nil || b.Str() == "" {
						return row.Bool(false), nil
					}
					return row.Bool(re.MatchString(a.Str())), nil
				}), nil
			}},
		{Name: "REGEXP_EXTRACT", Doc: "REGEXP_EXTRACT(s, regex[, group]): group (default 0, the whole match, as Flink's two-argument form) of the first match; NULL if no match, the group is out of range or the regex is invalid.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(retStr, 2, pString, pString, pInt)(f, args)
				return out, t.WithNullable(true), err
			},
			build: func(s *site) (Evaluator, error) {
				rc := newRegexCache(s, 1)
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					re := rc.getLit(a[1].Str())
					g := 0
					if len(a) == 3 {
						g = int(a[2].Int())
					}
					if re == nil || g < 0 || g > re.re.NumSubexp() {
						return row.Value{}, nil
					}
					m := re.FindStringSubmatchIndex(a[0].Str())
					if m == nil || m[2*g] < 0 {
						return row.Value{}, nil
					}
					return row.Str(a[0].Str()[m[2*g]:m[2*g+1]]), nil
				}), nil
			}},
		{Name: "REGEXP_REPLACE", Doc: "REGEXP_REPLACE(s, regex, replacement): every match replaced by the literal replacement (Flink quotes it: $1 is not a group reference); NULL for an invalid regex.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(retStr, 3, pString, pString, pString)(f, args)
				return out, t.WithNullable(true), err
			},
			build: func(s *site) (Evaluator, error) {
				jr := newJavaRegex(s, 1)
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					re, at := jr.get(a[1].Str())
					if re == nil {
						return row.Value{}, nil
					}
					return row.Str(javaReplaceAll(re, at, a[0].Str(), a[2].Str())), nil
				}), nil
			}},
		{Name: "SPLIT_INDEX", Doc: "SPLIT_INDEX(s, sep, i): the i-th (0-based) piece of s split at every occurrence of the separator string (empty pieces kept; an empty separator splits at each whitespace character), or, for an integer sep (1..255), at that character; NULL if s is empty, i is negative or past the last piece, as Flink.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				sep := pString
				if len(args) == 3 && args[1].Type().IsInteger() {
					sep = pInt
				}
				out, t, err := fixed(retStr, 3, pString, sep, pInt)(f, args)
				return out, t.WithNullable(true), err
			},
			build: func(s *site) (Evaluator, error) {
				byCode := s.argTypes[1].IsInteger()
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					i := a[2].Int()
					var sep string
					if byCode {
						c := a[1].Int()
						if c < 1 || c > 255 {
							return row.Value{}, nil
						}
						sep = string(rune(c))
					} else {
						sep = a[1].Str()
					}
					piece, ok := splitIndex(a[0].Str(), sep, i)
					if !ok {
						return row.Value{}, nil
					}
					return row.Str(piece), nil
				}), nil
			}},
		padFunc("LPAD", true),
		padFunc("RPAD", false),
		{Name: "REPEAT", Doc: "REPEAT(s, n): s repeated n times; '' for n <= 0.",
			resolve: fixed(retStr, 2, pString, pInt),
			build: func(s *site) (Evaluator, error) {
				return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
					n := b.Int()
					if n <= 0 {
						return row.Str(""), nil
					}
					if int64(len(a.Str()))*n > maxResultChars {
						return row.Value{}, s.errorf("result longer than %d bytes", maxResultChars)
					}
					return row.Str(strings.Repeat(a.Str(), int(n))), nil
				}), nil
			}},
		leftRight("LEFT", true),
		leftRight("RIGHT", false),
		{Name: "ASCII", Doc: "ASCII(s): the numeric value of the first character (its code point); 0 for ''.",
			resolve: fixed(ret(tInt), 1, pString),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					r, _ := utf8.DecodeRuneInString(a.Str())
					if a.Str() == "" {
						r = 0
					}
					return row.Int(int64(r)), nil
				}), nil
			}},
		{Name: "CHR", Doc: "CHR(n): the character of code n modulo 256 (n & 0xFF); '' for a negative n.",
			resolve: fixed(retStr, 1, pBigInt),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					n := a.Int()
					if n < 0 {
						return row.Str(""), nil
					}
					return row.Str(string(rune(n & 0xFF))), nil
				}), nil
			}},
		hashFunc("MD5", md5.New),
		hashFunc("SHA1", sha1.New),
		hashFunc("SHA224", sha256.New224),
		hashFunc("SHA256", sha256.New),
		hashFunc("SHA384", sha512.New384),
		hashFunc("SHA512", sha512.New),
		{Name: "SHA2", Doc: "SHA2(s, bits): the SHA-2 digest (bits 224, 256, 384 or 512) as hex; NULL for other bit lengths.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(retStr, 2, pBinStr, pInt)(f, args)
				return out, t.WithNullable(true), err
			},
			build: func(s *site) (Evaluator, error) {
				return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
					var d hash.Hash
					switch b.Int() {
					case 224:
						d = sha256.New224()
					case 256:
						d = sha256.New()
					case 384:
						d = sha512.New384()
					case 512:
						d = sha512.New()
					default:
						return row.Value{}, nil
					}
					d.Write([]byte(a.Str()))
					return row.Str(hex.EncodeToString(d.Sum(nil))), nil
				}), nil
			}},
		{Name: "OVERLAY", Doc: "OVERLAY(s PLACING r FROM start [FOR len]), called as OVERLAY(s, r, start[, len]): s with len characters (default the length of r) from 1-based start replaced by r; s unchanged when start is out of range.",
			resolve: fixed(retStr, 3, pString, pString, pInt, pInt),
			build: func(s *site) (Evaluator, error) {
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					str, r := []rune(a[0].Str()), a[1].Str()
					start := int(a[2].Int())
					n := charLen(r)
					if len(a) == 4 {
						n = int(a[3].Int())
					}
					if start <= 0 || start > len(str) {
						return a[0], nil
					}
					out := string(str[:start-1]) + r
					if start+n <= len(str) && n > 0 {
						out += string(str[start-1+n:])
					}
					return row.Str(out), nil
				}), nil
			}},
		{Name: "TO_BASE64", Doc: "TO_BASE64(s): base64 of the UTF-8 bytes (or of BYTES).",
			resolve: fixed(retStr, 1, pBinStr),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					return row.Str(base64.StdEncoding.EncodeToString([]byte(a.Str()))), nil
				}), nil
			}},
		{Name: "FROM_BASE64", Doc: "FROM_BASE64(s): the decoded string; an invalid input is an error. s may be a string or, as in Flink, BINARY/BYTES holding the base64 text.",
			resolve: fixed(retStr, 1, param{ok: func(t row.Type) bool { return t.IsString() || t.IsBinary() }, def: tString}),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					b, err := base64.StdEncoding.DecodeString(a.Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					return row.Str(string(b)), nil
				}), nil
			}},
		{Name: "HEX", Doc: "HEX(n or s): an integer as upper-case hex of its 64-bit two's complement; a string as the hex of its UTF-8 bytes.",
			resolve: fixed(retStr, 1, param{ok: func(t row.Type) bool { return t.IsInteger() || t.IsString() || t.IsBinary() }, def: tBigInt}),
			build: func(s *site) (Evaluator, error) {
				num := s.argTypes[0].IsInteger()
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					if num {
						return row.Str(strings.ToUpper(strconv.FormatUint(uint64(a.Int()), 16))), nil
					}
					return row.Str(strings.ToUpper(hex.EncodeToString([]byte(a.Str())))), nil
				}), nil
			}},
		{Name: "URL_ENCODE", Doc: "URL_ENCODE(s): application/x-www-form-urlencoded encoding (space as +).",
			resolve: fixed(retStr, 1, pString),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) { return row.Str(url.QueryEscape(a.Str())), nil }), nil
			}},
		{Name: "URL_DECODE", Doc: "URL_DECODE(s): decodes x-www-form-urlencoded text; NULL if malformed.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(retStr, 1, pString)(f, args)
				return out, t.WithNullable(true), err
			},
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					r, err := url.QueryUnescape(a.Str())
					if err != nil {
						return row.Value{}, nil
					}
					return row.Str(r), nil
				}), nil
			}},
		{Name: "STR_TO_MAP", Doc: "STR_TO_MAP(s[, pairDelim[, kvDelim]]): splits s into pairs at pairDelim (default ',') and each pair at kvDelim (default '='); delimiters are regular expressions; a pair without kvDelim maps to NULL; as Flink (Java's String.split) an empty s is an empty map and trailing empty pairs are dropped.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, err := checkArgs(f, args, 1, pString, pString, pString)
				if err != nil {
					return nil, row.Type{}, err
				}
				return out, row.MapType(tString, tString).WithNullable(anyNullable(types(out)...)), nil
			},
			build: func(s *site) (Evaluator, error) {
				pc, kc := &regexCache{}, &regexCache{}
				if len(s.args) > 1 {
					pc = newRegexCache(s, 1)
				}
				if len(s.args) > 2 {
					kc = newRegexCache(s, 2)
				}
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					pd, kd := ",", "="
					if len(a) > 1 {
						pd = a[1].Str()
					}
					if len(a) > 2 {
						kd = a[2].Str()
					}
					pre, kre := pc.get(pd), kc.get(kd)
					if pre == nil || kre == nil {
						return row.Value{}, s.errorf("invalid delimiter")
					}
					var ks, vs []row.Value
					if a[0].Str() == "" { // Flink: an empty text is an empty map
						return row.Map(ks, vs), nil
					}
					pairs := pre.Split(a[0].Str(), -1)
					// Java's String.split drops trailing empty strings.
					for len(pairs) > 0 && pairs[len(pairs)-1] == "" {
						pairs = pairs[:len(pairs)-1]
					}
					for _, pair := range pairs {
						kv := kre.Split(pair, 2)
						k := row.Str(kv[0])
						var v row.Value
						if len(kv) == 2 {
							v = row.Str(kv[1])
						}
						replaced := false
						for i := range ks {
							if ks[i].Str() == kv[0] {
								vs[i], replaced = v, true
							}
						}
						if !replaced {
							ks, vs = append(ks, k), append(vs, v)
						}
					}
					return row.Map(ks, vs), nil
				}), nil
			}},
	}
}

func buildConcat(s *site) (Evaluator, error) {
	return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
		if len(a) == 2 {
			return row.Str(a[0].Str() + a[1].Str()), nil
		}
		var b strings.Builder
		for _, v := range a {
			b.WriteString(v.Str())
		}
		return row.Str(b.String()), nil
	}), nil
}

func trimMode(mode, s, chars string) string {
	switch mode {
	case "LEADING":
		return strings.TrimLeft(s, chars)
	case "TRAILING":
		return strings.TrimRight(s, chars)
	}
	return strings.Trim(s, chars)
}

func trimFunc(name, mode string) *Func {
	return &Func{Name: name, Doc: name + "(s[, chars]): removes the characters of chars (default ' ') from the " + strings.ToLower(mode) + " end.",
		resolve: fixed(retStr, 1, pString, pString),
		build: func(s *site) (Evaluator, error) {
			return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
				chars := " "
				if len(a) == 2 {
					chars = a[1].Str()
				}
				return row.Str(trimMode(mode, a[0].Str(), chars)), nil
			}), nil
		}}
}

func padFunc(name string, left bool) *Func {
	return &Func{Name: name, Doc: name + "(s, len, pad): s padded on the " + map[bool]string{true: "left", false: "right"}[left] + " with pad to len characters, or truncated to len; NULL if len is negative or pad is empty.",
		resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			out, t, err := fixed(retStr, 3, pString, pInt, pString)(f, args)
			return out, t.WithNullable(true), err
		},
		build: func(s *site) (Evaluator, error) {
			return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
				str, n, pad := []rune(a[0].Str()), int(a[1].Int()), []rune(a[2].Str())
				if n < 0 || len(pad) == 0 {
					return row.Value{}, nil
				}
				if n <= len(str) {
					return row.Str(string(str[:n])), nil
				}
				if n > maxResultChars {
					return row.Value{}, s.errorf("result longer than %d characters", maxResultChars)
				}
				fill := make([]rune, 0, n-len(str))
				for len(fill) < n-len(str) {
					fill = append(fill, pad[len(fill)%len(pad)])
				}
				if left {
					return row.Str(string(fill) + string(str)), nil
				}
				return row.Str(string(str) + string(fill)), nil
			}), nil
		}}
}

func leftRight(name string, left bool) *Func {
	return &Func{Name: name, Doc: name + "(s, n): the " + strings.ToLower(name) + "most n characters; '' for n < 0.",
		resolve: fixed(retStr, 2, pString, pInt),
		build: func(s *site) (Evaluator, error) {
			return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
				n, str := int(b.Int()), a.Str()
				c := charLen(str)
				switch {
				case n <= 0:
					return row.Str(""), nil
				case n >= c:
					return a, nil
				case left:
					return row.Str(runeSlice(str, 0, n)), nil
				}
				return row.Str(runeSlice(str, c-n, c)), nil
			}), nil
		}}
}

// ---- LIKE / SIMILAR TO -----------------------------------------------------

// likeToRegexp translates a LIKE pattern (_ one character, % any run,
// escape character esc) or a SIMILAR TO pattern into an anchored regexp.
func likeToRegexp(p string, esc rune, similar bool) (string, bool) {
	var b strings.Builder
	b.WriteString("(?s)^")
	if similar {
		b.WriteString("(?:")
	}
	escaped := false
	for _, r := range p {
		switch {
		case escaped:
			b.WriteString(regexp.QuoteMeta(string(r)))
			escaped = false
		case esc != 0 && r == esc:
			escaped = true
		case r == '_':
			b.WriteString(".")
		case r == '%':
			b.WriteString(".*")
		case similar && r != '\\' && r != '$':
			// As Calcite's Like.sqlToRegexSimilar: other characters pass
			// to the regular expression as they are ('.' matches any
			// character, | * + ? {m,n} () [] keep their meaning); only \
			// and $ are literal.
			b.WriteRune(r)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if escaped {
		return "", false // pattern ends with the escape character
	}
	if similar {
		b.WriteString(")")
	}
	b.WriteString("$")
	return b.String(), true
}

func likeFunc(name string, negate, similar bool) *Func {
	return &Func{Name: name, infix: true, Doc: "s " + name + " pattern [ESCAPE c], called as " + name + "(s, pattern[, escape]): case-sensitive match of the whole string; _ matches one character, % any run (SIMILAR TO passes every other character but \\ and $ to the regular expression as Calcite does: . | * + ? {m,n} () [] keep their regex meaning). An invalid pattern is an error.",
		resolve: fixed(ret(tBoolean), 2, pString, pString, pString),
		build: func(s *site) (Evaluator, error) {
			type cached struct {
				p, e string
				re   *regexp.Regexp
			}
			var c *cached
			return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
				e := ""
				if len(a) == 3 {
					e = a[2].Str()
				}
				if c == nil || c.p != a[1].Str() || c.e != e {
					var esc rune
					if e != "" {
						if utf8.RuneCountInString(e) != 1 {
							return row.Value{}, s.errorf("invalid escape character '%s'", e)
						}
						esc, _ = utf8.DecodeRuneInString(e)
					}
					src, ok := likeToRegexp(a[1].Str(), esc, similar)
					if !ok {
						return row.Value{}, s.errorf("invalid pattern '%s'", a[1].Str())
					}
					re, err := regexp.Compile(src)
					if err != nil {
						return row.Value{}, s.errorf("invalid pattern '%s'", a[1].Str())
					}
					c = &cached{p: a[1].Str(), e: e, re: re}
				}
				return row.Bool(c.re.MatchString(a[0].Str()) != negate), nil
			}), nil
		}}
}

// splitIndex returns the i-th piece of s split as Flink's SPLIT_INDEX does
// (Apache Commons' splitByWholeSeparatorPreserveAllTokens): at every
// occurrence of sep, empty pieces kept; at every whitespace character
// (Java's Character.isWhitespace) when sep is empty; an empty s has no
// pieces. It allocates nothing.
func splitIndex(s, sep string, i int64) (string, bool) {
	if i < 0 || s == "" {
		return "", false
	}
	if sep == "" {
		start := 0
		for k, r := range s {
			if !javaIsWhitespace(r) {
				continue
			}
			if i == 0 {
				return s[start:k], true
			}
			i--
			start = k + utf8.RuneLen(r)
		}
		if i == 0 {
			return s[start:], true
		}
		return "", false
	}
	for ; i > 0; i-- {
		k := strings.Index(s, sep)
		if k < 0 {
			return "", false
		}
		s = s[k+len(sep):]
	}
	if k := strings.Index(s, sep); k >= 0 {
		return s[:k], true
	}
	return s, true
}

// javaIsWhitespace is Java's Character.isWhitespace: Unicode space
// separators other than the no-break ones, and the ASCII controls \t \n
// \v \f \r and \x1c-\x1f.
func javaIsWhitespace(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || (r >= 0x1c && r <= 0x1f):
		return true
	case r == 0xa0 || r == 0x2007 || r == 0x202f:
		return false
	}
	return unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp)
}
