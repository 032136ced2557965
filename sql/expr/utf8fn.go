package expr

import (
	"strings"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

// utf8Funcs are Flink 2.4's functions over the UTF-8 validity of bytes
// (FLIP-568), the companions of the strict CAST(bytes AS STRING).
func utf8Funcs() []*Func {
	pBin := param{ok: func(t row.Type) bool { return t.IsBinary() }, def: tBytes}
	return []*Func{
		{Name: "IS_VALID_UTF8", Doc: "IS_VALID_UTF8(bytes): TRUE if the bytes are well-formed UTF-8 (no truncated or overlong sequences, surrogates or code points above U+10FFFF), else FALSE.",
			resolve: fixed(ret(tBoolean), 1, pBin),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					return row.Bool(utf8.ValidString(a.Str())), nil
				}), nil
			}},
		{Name: "MAKE_VALID_UTF8", Doc: "MAKE_VALID_UTF8(bytes): the bytes decoded as UTF-8 with each invalid sequence (its maximal subpart, as Java's decoder) replaced by U+FFFD.",
			resolve: fixed(retStr, 1, pBin),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					return row.Str(makeValidUTF8(a.Str())), nil
				}), nil
			}},
	}
}

// makeValidUTF8 decodes b as UTF-8 the way Java's decoder substitutes
// (new String(bytes, UTF_8)): each maximal subpart of an ill-formed
// sequence, the longest prefix of a well-formed sequence, or else one
// byte, becomes one U+FFFD (Unicode's recommended practice; Go's
// strings.ToValidUTF8 would merge adjacent ones instead).
func makeValidUTF8(b string) string {
	if utf8.ValidString(b) {
		return b
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRuneInString(b[i:])
		if r != utf8.RuneError || n > 1 {
			sb.WriteString(b[i : i+n])
			i += n
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += maximalSubpart(b[i:])
	}
	return sb.String()
}

// maximalSubpart returns the length of the ill-formed prefix of b to
// replace by one U+FFFD: the lead byte and the continuation bytes that
// still fit a well-formed sequence (at least 1).
func maximalSubpart(b string) int {
	lo, hi, need := byte(0x80), byte(0xBF), 0
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		lo, need = 0xA0, 2
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		hi, need = 0x9F, 2
	case c == 0xF0:
		lo, need = 0x90, 3
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		hi, need = 0x8F, 3
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		c := b[n]
		if c < lo || c > hi {
			break
		}
		n++
		lo, hi = 0x80, 0xBF
	}
	return n
}
