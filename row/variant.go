package row

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// VARIANT values (Flink's VariantType, FLIP-521) are held as a Str of
// their canonical binary encoding, which row codecs copy as bytes. The
// encoding is self-describing: a kind byte, then
//
//	VariantNull, VariantFalse, VariantTrue   nothing
//	VariantInt8/16/32/64   the integer, big-endian two's complement in
//	                       1, 2, 4 or 8 bytes; the smallest that holds it
//	VariantDouble          IEEE 754 bits, big-endian, 8 bytes; finite
//	VariantDecimal         scale (1 byte, 0..38), sign (1 byte, 0 or 1),
//	                       uvarint n, n bytes of the magnitude big-endian
//	                       without leading zeros (zero: sign 0, n 0);
//	                       at most 38 digits; with scale 0, not a
//	                       BIGINT (that is an integer kind)
//	VariantString          uvarint n, n bytes of UTF-8
//	VariantArray           uvarint count, then per element uvarint n and
//	                       the n bytes of its encoding
//	VariantObject          uvarint count, then per field uvarint n, the
//	                       key (n bytes of UTF-8), uvarint m and the m
//	                       bytes of the value's encoding; keys distinct and
//	                       in ascending byte order
//
// Nesting is at most MaxVariantDepth deep. One value has one encoding, so
// equal bytes are equal variants (GROUP BY, DISTINCT) and a field or
// element is a substring of its parent (no copy on access).
type VariantKind uint8

// The kinds of a variant value.
const (
	VariantNull VariantKind = iota
	VariantFalse
	VariantTrue
	VariantInt8
	VariantInt16
	VariantInt32
	VariantInt64
	VariantDouble
	VariantDecimal
	VariantString
	VariantArray
	VariantObject
)

// MaxVariantDepth is the deepest nesting of arrays and objects in a
// variant (Jackson's default maximum nesting depth).
const MaxVariantDepth = 1000

// VariantType is VARIANT.
func VariantType() Type { return Type{Root: TypeVariant, Nullable: true} }

// Variant makes a VARIANT value from its encoding (not checked; see
// ValidateVariant).
func Variant(enc string) Value { return Str(enc) }

// ErrVariantDuplicateKey is the error of PARSE_JSON for an object with a
// repeated key when duplicates are not allowed (Flink's
// VARIANT_DUPLICATE_KEY).
var ErrVariantDuplicateKey = errors.New("VARIANT_DUPLICATE_KEY")

// VariantKindOf returns the kind of an encoded variant.
func VariantKindOf(enc string) VariantKind {
	if enc == "" {
		return VariantNull
	}
	return VariantKind(enc[0])
}

// String names the kind as Flink's Variant.Type does.
func (k VariantKind) String() string {
	switch k {
	case VariantNull:
		return "NULL"
	case VariantFalse, VariantTrue:
		return "BOOLEAN"
	case VariantInt8:
		return "TINYINT"
	case VariantInt16:
		return "SMALLINT"
	case VariantInt32:
		return "INT"
	case VariantInt64:
		return "BIGINT"
	case VariantDouble:
		return "DOUBLE"
	case VariantDecimal:
		return "DECIMAL"
	case VariantString:
		return "STRING"
	case VariantArray:
		return "ARRAY"
	case VariantObject:
		return "OBJECT"
	}
	return fmt.Sprintf("VariantKind(%d)", uint8(k))
}

// ---- building ---------------------------------------------------------

func appendVariantInt(b []byte, x int64) []byte {
	switch {
	case x >= math.MinInt8 && x <= math.MaxInt8:
		return append(b, byte(VariantInt8), byte(x))
	case x >= math.MinInt16 && x <= math.MaxInt16:
		return binary.BigEndian.AppendUint16(append(b, byte(VariantInt16)), uint16(x))
	case x >= math.MinInt32 && x <= math.MaxInt32:
		return binary.BigEndian.AppendUint32(append(b, byte(VariantInt32)), uint32(x))
	}
	return binary.BigEndian.AppendUint64(append(b, byte(VariantInt64)), uint64(x))
}

func appendVariantDouble(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, byte(VariantDouble)), math.Float64bits(f))
}

func appendVariantDecimal(b []byte, unscaled *big.Int, scale int) []byte {
	sign := byte(0)
	if unscaled.Sign() < 0 {
		sign = 1
	}
	m := new(big.Int).Abs(unscaled).Bytes()
	b = append(b, byte(VariantDecimal), byte(scale), sign)
	b = binary.AppendUvarint(b, uint64(len(m)))
	return append(b, m...)
}

func appendVariantString(b []byte, s string) []byte {
	b = append(b, byte(VariantString))
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// ---- JSON parsing -----------------------------------------------------

// ParseJSONVariant parses JSON text into an encoded variant, as Flink's
// PARSE_JSON: strict JSON (RFC 8259) with one value and only whitespace
// around it; integers as the smallest of TINYINT..BIGINT, other numbers
// without an exponent as DECIMAL while they fit 38 digits and scale 38,
// the rest as DOUBLE (an error if out of its range); object keys sorted.
// A repeated key is ErrVariantDuplicateKey unless allowDuplicateKeys, when
// the last one wins.
func ParseJSONVariant(s string, allowDuplicateKeys bool) (string, error) {
	p := jsonParser{s: s, dup: allowDuplicateKeys}
	p.ws()
	b, err := p.value(nil, 0)
	if err != nil {
		return "", err
	}
	p.ws()
	if p.i < len(s) {
		return "", p.errorf("unexpected character %s after the value", p.char())
	}
	return string(b), nil
}

type jsonParser struct {
	s   string
	i   int
	dup bool
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("row: JSON at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsonParser) char() string {
	if p.i >= len(p.s) {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.i:])
	return strconv.QuoteRune(r)
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) lit(word string) bool {
	if strings.HasPrefix(p.s[p.i:], word) {
		p.i += len(word)
		return true
	}
	return false
}

func (p *jsonParser) value(b []byte, depth int) ([]byte, error) {
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(b, depth+1)
	case c == '[':
		return p.array(b, depth+1)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return appendVariantString(b, s), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(b)
	case p.lit("true"):
		return append(b, byte(VariantTrue)), nil
	case p.lit("false"):
		return append(b, byte(VariantFalse)), nil
	case p.lit("null"):
		return append(b, byte(VariantNull)), nil
	}
	return nil, p.errorf("unexpected character %s", p.char())
}

func (p *jsonParser) array(b []byte, depth int) ([]byte, error) {
	if depth > MaxVariantDepth {
		return nil, p.errorf("nesting deeper than %d", MaxVariantDepth)
	}
	p.i++ // [
	var elems [][]byte
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
	} else {
		for {
			p.ws()
			e, err := p.value(nil, depth)
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
			if done, err := p.endOrComma(']'); err != nil || done {
				if err != nil {
					return nil, err
				}
				break
			}
		}
	}
	b = append(b, byte(VariantArray))
	b = binary.AppendUvarint(b, uint64(len(elems)))
	for _, e := range elems {
		b = binary.AppendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	return b, nil
}

// endOrComma reads what follows an array element or an object field:
// a ',' (more follow) or close (done).
func (p *jsonParser) endOrComma(close byte) (done bool, err error) {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		return false, nil
	}
	if p.i < len(p.s) && p.s[p.i] == close {
		p.i++
		return true, nil
	}
	return false, p.errorf("expected ',' or '%c' but found %s", close, p.char())
}

type variantField struct {
	key string
	val []byte
}

func (p *jsonParser) object(b []byte, depth int) ([]byte, error) {
	if depth > MaxVariantDepth {
		return nil, p.errorf("nesting deeper than %d", MaxVariantDepth)
	}
	p.i++ // {
	var fields []variantField
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
	} else {
		for {
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, p.errorf("expected a field name but found %s", p.char())
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, p.errorf("expected ':' but found %s", p.char())
			}
			p.i++
			p.ws()
			v, err := p.value(nil, depth)
			if err != nil {
				return nil, err
			}
			fields = append(fields, variantField{k, v})
			if done, err := p.endOrComma('}'); err != nil || done {
				if err != nil {
					return nil, err
				}
				break
			}
		}
	}
	// Stable: of equal keys the last one written stays last.
	slices.SortStableFunc(fields, func(x, y variantField) int { return strings.Compare(x.key, y.key) })
	out := fields[:0]
	for i, f := range fields {
		if i+1 < len(fields) && fields[i+1].key == f.key {
			if !p.dup {
				return nil, ErrVariantDuplicateKey
			}
			continue
		}
		out = append(out, f)
	}
	b = append(b, byte(VariantObject))
	b = binary.AppendUvarint(b, uint64(len(out)))
	for _, f := range out {
		b = binary.AppendUvarint(b, uint64(len(f.key)))
		b = append(b, f.key...)
		b = binary.AppendUvarint(b, uint64(len(f.val)))
		b = append(b, f.val...)
	}
	return b, nil
}

func (p *jsonParser) str() (string, error) {
	p.i++ // "
	var sb []byte
	start := p.i
	for {
		if p.i >= len(p.s) {
			return "", p.errorf("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			sb = append(sb, p.s[start:p.i]...)
			p.i++
			if !utf8.Valid(sb) {
				return "", p.errorf("invalid UTF-8 in a string")
			}
			return string(sb), nil
		case c < 0x20:
			return "", p.errorf("unescaped control character %s in a string", p.char())
		case c == '\\':
			sb = append(sb, p.s[start:p.i]...)
			p.i++
			if p.i >= len(p.s) {
				return "", p.errorf("unterminated string")
			}
			e := p.s[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				sb = append(sb, e)
			case 'b':
				sb = append(sb, '\b')
			case 'f':
				sb = append(sb, '\f')
			case 'n':
				sb = append(sb, '\n')
			case 'r':
				sb = append(sb, '\r')
			case 't':
				sb = append(sb, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errorf("invalid \\u escape")
				}
				if utf16IsHigh(r) {
					// A surrogate pair; a lone surrogate is not UTF-8.
					if !strings.HasPrefix(p.s[p.i:], `\u`) {
						return "", p.errorf("unpaired surrogate in a \\u escape")
					}
					p.i += 2
					lo, ok := p.hex4()
					if !ok || lo < 0xDC00 || lo > 0xDFFF {
						return "", p.errorf("unpaired surrogate in a \\u escape")
					}
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				} else if r >= 0xDC00 && r <= 0xDFFF {
					return "", p.errorf("unpaired surrogate in a \\u escape")
				}
				sb = utf8.AppendRune(sb, r)
			default:
				p.i--
				return "", p.errorf("invalid escape \\%s", p.char())
			}
			start = p.i
		default:
			p.i++
		}
	}
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r <= 0xDBFF }

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	x, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil || strings.ContainsAny(p.s[p.i:p.i+4], "+-") {
		return 0, false
	}
	p.i += 4
	return rune(x), true
}

func (p *jsonParser) number(b []byte) ([]byte, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.s[p.i] == '-' {
		p.i++
	}
	intStart := p.i
	if n := digits(); n == 0 {
		return nil, p.errorf("expected a digit but found %s", p.char())
	} else if n > 1 && p.s[intStart] == '0' {
		p.i = intStart
		return nil, p.errorf("leading zero in a number")
	}
	frac, exp := false, false
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.errorf("expected a digit but found %s", p.char())
		}
		frac = true
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.errorf("expected a digit but found %s", p.char())
		}
		exp = true
	}
	text := p.s[start:p.i]
	if !frac && !exp {
		if x, err := strconv.ParseInt(text, 10, 64); err == nil {
			return appendVariantInt(b, x), nil
		}
	}
	if !exp {
		// A DECIMAL while precision and scale fit 38 (Java's BigDecimal
		// of the text: the scale is the number of fraction digits).
		mant, scale := text, 0
		if i := strings.IndexByte(text, '.'); i >= 0 {
			mant, scale = text[:i]+text[i+1:], len(text)-i-1
		}
		u, _ := new(big.Int).SetString(mant, 10)
		if scale <= MaxDecimalPrecision && decimalDigits(u) <= MaxDecimalPrecision {
			return appendVariantDecimal(b, u, scale), nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		p.i = start
		return nil, p.errorf("number %s out of the range of DOUBLE", text)
	}
	return appendVariantDouble(b, f), nil
}

// decimalDigits is Java's BigDecimal.precision of an unscaled value: its
// number of decimal digits, 1 for zero.
func decimalDigits(u *big.Int) int {
	if u.Sign() == 0 {
		return 1
	}
	return len(new(big.Int).Abs(u).String())
}

// ---- reading ----------------------------------------------------------

// ValidateVariant checks that enc is one well-formed canonical variant
// encoding (the package documentation of VariantKind).
func ValidateVariant(enc string) error {
	n, err := variantLen(enc, 0)
	if err != nil {
		return err
	}
	if n != len(enc) {
		return errVariant("trailing bytes")
	}
	return nil
}

func errVariant(what string) error { return corrupt("variant: " + what) }

func uvarint(s string) (uint64, int) {
	var x uint64
	var sh uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -1
			}
			if i > 0 && c == 0 {
				return 0, -1 // not minimal
			}
			return x | uint64(c)<<sh, i + 1
		}
		x |= uint64(c&0x7f) << sh
		sh += 7
	}
	return 0, -1
}

// lenPrefixed reads a uvarint length n and returns the n bytes after it
// and the total length read.
func lenPrefixed(s string) (string, int, error) {
	n, k := uvarint(s)
	if k <= 0 || n > uint64(len(s)-k) {
		return "", 0, errVariant("length")
	}
	return s[k : k+int(n)], k + int(n), nil
}

// variantLen validates the variant at the start of s and returns its
// length.
func variantLen(s string, depth int) (int, error) {
	if len(s) == 0 {
		return 0, errVariant("empty")
	}
	switch k := VariantKind(s[0]); k {
	case VariantNull, VariantFalse, VariantTrue:
		return 1, nil
	case VariantInt8, VariantInt16, VariantInt32, VariantInt64:
		w := 1 << (k - VariantInt8) // 1, 2, 4, 8 bytes
		if len(s) < 1+w {
			return 0, errVariant("integer")
		}
		x := variantIntAt(s[1:1+w], w)
		if enc := appendVariantInt(nil, x); string(enc) != s[:1+w] {
			return 0, errVariant("integer not in its smallest width")
		}
		return 1 + w, nil
	case VariantDouble:
		if len(s) < 9 {
			return 0, errVariant("double")
		}
		f := math.Float64frombits(binary.BigEndian.Uint64([]byte(s[1:9])))
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, errVariant("double not finite")
		}
		return 9, nil
	case VariantDecimal:
		if len(s) < 3 || s[1] > MaxDecimalPrecision || s[2] > 1 {
			return 0, errVariant("decimal scale or sign")
		}
		m, n, err := lenPrefixed(s[3:])
		if err != nil {
			return 0, err
		}
		if (len(m) > 0 && m[0] == 0) || (len(m) == 0 && s[2] == 1) {
			return 0, errVariant("decimal not canonical")
		}
		u := new(big.Int).SetBytes([]byte(m))
		if decimalDigits(u) > MaxDecimalPrecision {
			return 0, errVariant("decimal wider than 38 digits")
		}
		if s[2] == 1 {
			u.Neg(u)
		}
		if s[1] == 0 && u.IsInt64() {
			return 0, errVariant("decimal of scale 0 that is a BIGINT")
		}
		return 3 + n, nil
	case VariantString:
		str, n, err := lenPrefixed(s[1:])
		if err != nil {
			return 0, err
		}
		if !utf8.ValidString(str) {
			return 0, errVariant("string not UTF-8")
		}
		return 1 + n, nil
	case VariantArray, VariantObject:
		if depth >= MaxVariantDepth {
			return 0, errVariant("nested too deep")
		}
		cnt, off := uvarint(s[1:])
		if off <= 0 || cnt > uint64(len(s)) {
			return 0, errVariant("count")
		}
		off++
		prev := ""
		for i := uint64(0); i < cnt; i++ {
			if k == VariantObject {
				key, n, err := lenPrefixed(s[off:])
				if err != nil {
					return 0, err
				}
				if !utf8.ValidString(key) || (i > 0 && key <= prev) {
					return 0, errVariant("object keys not distinct, sorted UTF-8")
				}
				prev = key
				off += n
			}
			e, n, err := lenPrefixed(s[off:])
			if err != nil {
				return 0, err
			}
			m, err := variantLen(e, depth+1)
			if err != nil {
				return 0, err
			}
			if m != len(e) {
				return 0, errVariant("element length")
			}
			off += n
		}
		return off, nil
	}
	return 0, errVariant(fmt.Sprintf("kind %d", s[0]))
}

func variantIntAt(s string, w int) int64 {
	switch w {
	case 1:
		return int64(int8(s[0]))
	case 2:
		return int64(int16(binary.BigEndian.Uint16([]byte(s))))
	case 4:
		return int64(int32(binary.BigEndian.Uint32([]byte(s))))
	}
	return int64(binary.BigEndian.Uint64([]byte(s)))
}

// VariantInt returns the integer of an integer variant.
func VariantInt(enc string) (int64, bool) {
	switch VariantKindOf(enc) {
	case VariantInt8:
		return variantIntAt(enc[1:], 1), true
	case VariantInt16:
		return variantIntAt(enc[1:], 2), true
	case VariantInt32:
		return variantIntAt(enc[1:], 4), true
	case VariantInt64:
		return variantIntAt(enc[1:], 8), true
	}
	return 0, false
}

// VariantFloat returns the DOUBLE of a double variant.
func VariantFloat(enc string) (float64, bool) {
	if VariantKindOf(enc) != VariantDouble {
		return 0, false
	}
	return math.Float64frombits(binary.BigEndian.Uint64([]byte(enc[1:9]))), true
}

// VariantDecimalOf returns the unscaled value and scale of a DECIMAL
// variant.
func VariantDecimalOf(enc string) (*big.Int, int, bool) {
	if VariantKindOf(enc) != VariantDecimal {
		return nil, 0, false
	}
	m, _, _ := lenPrefixed(enc[3:])
	u := new(big.Int).SetBytes([]byte(m))
	if enc[2] == 1 {
		u.Neg(u)
	}
	return u, int(enc[1]), true
}

// VariantStr returns the string of a STRING variant.
func VariantStr(enc string) (string, bool) {
	if VariantKindOf(enc) != VariantString {
		return "", false
	}
	s, _, _ := lenPrefixed(enc[1:])
	return s, true
}

// VariantElem returns element i (0-based) of an array variant; ok is
// false when i is out of range.
func VariantElem(enc string, i int64) (elem string, ok bool) {
	if VariantKindOf(enc) != VariantArray || i < 0 {
		return "", false
	}
	cnt, off := uvarint(enc[1:])
	off++
	if uint64(i) >= cnt {
		return "", false
	}
	for j := int64(0); ; j++ {
		e, n, _ := lenPrefixed(enc[off:])
		if j == i {
			return e, true
		}
		off += n
	}
}

// VariantField returns the value of field key of an object variant; ok
// is false when it has no such field.
func VariantField(enc, key string) (val string, ok bool) {
	if VariantKindOf(enc) != VariantObject {
		return "", false
	}
	cnt, off := uvarint(enc[1:])
	off++
	for j := uint64(0); j < cnt; j++ {
		k, n, _ := lenPrefixed(enc[off:])
		off += n
		v, m, _ := lenPrefixed(enc[off:])
		off += m
		if c := strings.Compare(k, key); c == 0 {
			return v, true
		} else if c > 0 {
			break
		}
	}
	return "", false
}

// VariantElems returns the elements of an array variant in order; ok is
// false when enc is not an array.
func VariantElems(enc string) (elems []string, ok bool) {
	if VariantKindOf(enc) != VariantArray {
		return nil, false
	}
	cnt, off := uvarint(enc[1:])
	off++
	elems = make([]string, 0, cnt)
	for j := uint64(0); j < cnt; j++ {
		e, n, _ := lenPrefixed(enc[off:])
		elems = append(elems, e)
		off += n
	}
	return elems, true
}

// VariantFields returns the keys (ascending) and values of an object
// variant; ok is false when enc is not an object.
func VariantFields(enc string) (keys, vals []string, ok bool) {
	if VariantKindOf(enc) != VariantObject {
		return nil, nil, false
	}
	cnt, off := uvarint(enc[1:])
	off++
	keys, vals = make([]string, 0, cnt), make([]string, 0, cnt)
	for j := uint64(0); j < cnt; j++ {
		k, n, _ := lenPrefixed(enc[off:])
		off += n
		v, m, _ := lenPrefixed(enc[off:])
		off += m
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals, true
}

// ---- JSON output ------------------------------------------------------

// VariantJSON returns the JSON text of an encoded variant as Flink's
// Variant.toJson writes it: no whitespace, object keys in order, strings
// with Jackson's escapes, DECIMAL as Java's BigDecimal.toPlainString,
// DOUBLE as Java's Double.toString.
func VariantJSON(enc string) string { return string(AppendVariantJSON(nil, enc)) }

// AppendVariantJSON appends VariantJSON(enc).
func AppendVariantJSON(b []byte, enc string) []byte {
	switch k := VariantKindOf(enc); k {
	case VariantNull:
		return append(b, "null"...)
	case VariantFalse:
		return append(b, "false"...)
	case VariantTrue:
		return append(b, "true"...)
	case VariantInt8, VariantInt16, VariantInt32, VariantInt64:
		x, _ := VariantInt(enc)
		return strconv.AppendInt(b, x, 10)
	case VariantDouble:
		f, _ := VariantFloat(enc)
		return append(b, JavaFloatString(f, 64)...)
	case VariantDecimal:
		u, scale, _ := VariantDecimalOf(enc)
		return append(b, plainDecimal(u, scale)...)
	case VariantString:
		s, _ := VariantStr(enc)
		return AppendJSONString(b, s)
	case VariantArray:
		cnt, off := uvarint(enc[1:])
		off++
		b = append(b, '[')
		for j := uint64(0); j < cnt; j++ {
			e, n, _ := lenPrefixed(enc[off:])
			off += n
			if j > 0 {
				b = append(b, ',')
			}
			b = AppendVariantJSON(b, e)
		}
		return append(b, ']')
	case VariantObject:
		cnt, off := uvarint(enc[1:])
		off++
		b = append(b, '{')
		for j := uint64(0); j < cnt; j++ {
			key, n, _ := lenPrefixed(enc[off:])
			off += n
			v, m, _ := lenPrefixed(enc[off:])
			off += m
			if j > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, key)
			b = append(b, ':')
			b = AppendVariantJSON(b, v)
		}
		return append(b, '}')
	}
	return b
}

// plainDecimal is Java's BigDecimal.toPlainString of unscaled×10^-scale.
func plainDecimal(u *big.Int, scale int) string {
	digits := new(big.Int).Abs(u).String()
	neg := u.Sign() < 0
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// AppendJSONEscape appends the escape of c, a byte JSON strings escape
// ('"', '\' or a control character), as Jackson writes it: \b \t \n \f
// \r short, other control characters \u00XX.
func AppendJSONEscape(b []byte, c byte) []byte {
	switch c {
	case '"':
		b = append(b, '\\', '"')
	case '\\':
		b = append(b, '\\', '\\')
	case '\b':
		b = append(b, '\\', 'b')
	case '\t':
		b = append(b, '\\', 't')
	case '\n':
		b = append(b, '\\', 'n')
	case '\f':
		b = append(b, '\\', 'f')
	case '\r':
		b = append(b, '\\', 'r')
	default:
		const hex = "0123456789ABCDEF"
		b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
	}
	return b
}

// AppendJSONString appends s as a JSON string with Jackson's escapes: '"',
// '\' and the control characters (\b \t \n \f \r short, others \u00XX);
// '/' and non-ASCII as they are.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		start = i + 1
		b = AppendJSONEscape(b, c)
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
