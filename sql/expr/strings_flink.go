package expr

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/weirstream/weir/row"
)

// flinkStringFuncs holds string built-ins Flink documents that Weir had
// not implemented: JSON_QUOTE, JSON_UNQUOTE, BIN and PARSE_URL.
func flinkStringFuncs() []*Func {
	return []*Func{
		str1("JSON_QUOTE", "JSON_QUOTE(s): s as a JSON string literal: quoted, with \" \\ / and the control characters \\b \\f \\n \\r \\t escaped and every character above U+007F written as \\uXXXX (UTF-16 code units), as Flink.", jsonQuote),
		str1("JSON_UNQUOTE", "JSON_UNQUOTE(s): the value of s when s is a JSON string literal (its escapes decoded), otherwise s unchanged.", jsonUnquote),
		{Name: "BIN", Doc: "BIN(n): the binary digits of the integer n's 64-bit two's complement, without leading zeros (Java's Long.toBinaryString).",
			resolve: fixed(retStr, 1, pInt),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					return row.Str(strconv.FormatUint(uint64(a.Int()), 2)), nil
				}), nil
			}},
		{Name: "PARSE_URL", Doc: "PARSE_URL(url, part[, key]): a part of the URL as Java's java.net.URL reads it: HOST, PATH, QUERY, REF, PROTOCOL, AUTHORITY, FILE or USERINFO; with QUERY and a key, that query parameter's value. NULL when the part is absent, the URL is not valid or its protocol unknown (Java knows http, https, ftp, file, jar and mailto).",
			resolve: fixed(retStr, 2, pString, pString, pString),
			build: func(s *site) (Evaluator, error) {
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					u, ok := parseJavaURL(a[0].Str())
					if !ok {
						return row.Value{}, nil
					}
					part, found := u.part(a[1].Str())
					if !found {
						return row.Value{}, nil
					}
					if len(a) == 3 {
						if a[1].Str() != "QUERY" {
							return row.Value{}, nil
						}
						re, err := regexp.Compile("(&|^)" + regexp.QuoteMeta(a[2].Str()) + "=([^&]*)")
						if err != nil {
							return row.Value{}, nil
						}
						m := re.FindStringSubmatch(part)
						if m == nil {
							return row.Value{}, nil
						}
						return row.Str(m[2]), nil
					}
					return row.Str(part), nil
				}), nil
			}},
	}
}

func jsonQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '/':
			b.WriteString(`\/`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			switch {
			case r <= 127:
				b.WriteRune(r)
			case r > 0xFFFF:
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
			default:
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// jsonUnquote decodes s when it starts and ends with a double quote and
// begins with a valid JSON string token; otherwise, or when an escape
// inside is invalid, it returns s unchanged.
func jsonUnquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' || !leadingJSONString(s) {
		return s
	}
	out, ok := unescapeJSON(s[1 : len(s)-1])
	if !ok {
		return s
	}
	return out
}

// leadingJSONString reports whether s starts with a complete, valid JSON
// string token.
func leadingJSONString(s string) bool {
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if i+1 >= len(s) {
				return false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+5 >= len(s) {
					return false
				}
				if _, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err != nil {
					return false
				}
				i += 5
			default:
				return false
			}
		}
	}
	return false
}

func unescapeJSON(s string) (string, bool) {
	var units []uint16
	var b strings.Builder
	flush := func() {
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			flush()
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			flush()
			b.WriteByte(s[i])
		case 'b':
			flush()
			b.WriteByte('\b')
		case 'f':
			flush()
			b.WriteByte('\f')
		case 'n':
			flush()
			b.WriteByte('\n')
		case 'r':
			flush()
			b.WriteByte('\r')
		case 't':
			flush()
			b.WriteByte('\t')
		case 'u':
			if i+5 > len(s) {
				return "", false
			}
			v, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", false
			}
			units = append(units, uint16(v))
			i += 4
		default:
			return "", false
		}
	}
	flush()
	return b.String(), true
}

// javaURL is a URL split as java.net.URL splits it.
type javaURL struct {
	protocol, authority, userInfo, host, path string
	query, ref                                *string
	hasUserInfo                               bool
}

var javaURLProtocols = map[string]bool{"http": true, "https": true, "ftp": true, "file": true, "jar": true, "mailto": true}

func parseJavaURL(spec string) (*javaURL, bool) {
	spec = strings.TrimSpace(spec)
	colon := strings.IndexByte(spec, ':')
	if colon <= 0 {
		return nil, false
	}
	u := &javaURL{protocol: strings.ToLower(spec[:colon])}
	if !javaURLProtocols[u.protocol] {
		return nil, false
	}
	rest := spec[colon+1:]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		ref := rest[i+1:]
		u.ref, rest = &ref, rest[:i]
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		u.authority, rest = rest[:end], rest[end:]
		u.host = u.authority
		if at := strings.IndexByte(u.authority, '@'); at >= 0 {
			if at != strings.LastIndexByte(u.authority, '@') {
				u.host = ""
			} else {
				u.userInfo, u.hasUserInfo, u.host = u.authority[:at], true, u.authority[at+1:]
			}
		}
		if !strings.HasPrefix(u.host, "[") {
			if c := strings.LastIndexByte(u.host, ':'); c >= 0 {
				u.host = u.host[:c]
			}
		} else if c := strings.IndexByte(u.host, ']'); c >= 0 {
			u.host = u.host[:c+1]
		}
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		q := rest[i+1:]
		u.query, rest = &q, rest[:i]
	}
	u.path = rest
	return u, true
}

// part returns the named part and whether the URL has it (Java's getter
// returns non-null).
func (u *javaURL) part(name string) (string, bool) {
	switch name {
	case "HOST":
		return u.host, true
	case "PATH":
		return u.path, true
	case "QUERY":
		if u.query == nil {
			return "", false
		}
		return *u.query, true
	case "REF":
		if u.ref == nil {
			return "", false
		}
		return *u.ref, true
	case "PROTOCOL":
		return u.protocol, true
	case "FILE":
		if u.query != nil {
			return u.path + "?" + *u.query, true
		}
		return u.path, true
	case "AUTHORITY":
		return u.authority, true
	case "USERINFO":
		return u.userInfo, u.hasUserInfo
	}
	return "", false
}

// charsetFuncs are Flink's ENCODE(s, charset) and DECODE(b, charset) for
// the charsets Java guarantees: US-ASCII, ISO-8859-1, UTF-8, UTF-16BE,
// UTF-16LE and UTF-16 (big-endian with a byte-order mark on encode, as
// Java; decode honours a mark and defaults to big-endian). Unmappable
// characters become '?', malformed input U+FFFD, as Java's String does.
func charsetFuncs() []*Func {
	return []*Func{
		{Name: "ENCODE", Doc: "ENCODE(s, charset): s as BYTES in the charset ('US-ASCII', 'ISO-8859-1', 'UTF-8', 'UTF-16BE', 'UTF-16LE', 'UTF-16'; case-insensitive); an unknown charset is an error.",
			resolve: fixed(ret(row.BytesType()), 2, pString, pString),
			build: func(s *site) (Evaluator, error) {
				return strict2(s, func(_ *EvalContext, a, cs row.Value) (row.Value, error) {
					b, err := encodeCharset(a.Str(), cs.Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					return row.Bytes(b), nil
				}), nil
			}},
		{Name: "DECODE", Doc: "DECODE(b, charset): the string the bytes b hold in the charset (see ENCODE).",
			resolve: fixed(retStr, 2, param{ok: func(t row.Type) bool { return t.IsBinary() }, def: row.BytesType()}, pString),
			build: func(s *site) (Evaluator, error) {
				return strict2(s, func(_ *EvalContext, a, cs row.Value) (row.Value, error) {
					out, err := decodeCharset([]byte(a.Str()), cs.Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					return row.Str(out), nil
				}), nil
			}},
	}
}

func encodeCharset(s, cs string) ([]byte, error) {
	switch strings.ToUpper(cs) {
	case "UTF-8", "UTF8":
		return []byte(strings.ToValidUTF8(s, "\uFFFD")), nil
	case "US-ASCII", "ASCII", "ISO-8859-1", "LATIN1", "ISO8859_1":
		limit := rune(0x7F)
		if !strings.Contains(strings.ToUpper(cs), "ASCII") {
			limit = 0xFF
		}
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > limit {
				r = '?'
			}
			out = append(out, byte(r))
		}
		return out, nil
	case "UTF-16BE", "UTF-16LE", "UTF-16":
		units := utf16.Encode([]rune(s))
		var out []byte
		le := strings.ToUpper(cs) == "UTF-16LE"
		if strings.ToUpper(cs) == "UTF-16" {
			out = append(out, 0xFE, 0xFF)
		}
		for _, u := range units {
			if le {
				out = append(out, byte(u), byte(u>>8))
			} else {
				out = append(out, byte(u>>8), byte(u))
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported charset %q", cs)
}

func decodeCharset(b []byte, cs string) (string, error) {
	switch strings.ToUpper(cs) {
	case "UTF-8", "UTF8":
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	case "US-ASCII", "ASCII", "ISO-8859-1", "LATIN1", "ISO8859_1":
		ascii := strings.Contains(strings.ToUpper(cs), "ASCII")
		rs := make([]rune, len(b))
		for i, c := range b {
			rs[i] = rune(c)
			if ascii && c > 0x7F {
				rs[i] = '\uFFFD'
			}
		}
		return string(rs), nil
	case "UTF-16BE", "UTF-16LE", "UTF-16":
		le := strings.ToUpper(cs) == "UTF-16LE"
		if strings.ToUpper(cs) == "UTF-16" && len(b) >= 2 {
			switch {
			case b[0] == 0xFE && b[1] == 0xFF:
				b = b[2:]
			case b[0] == 0xFF && b[1] == 0xFE:
				b, le = b[2:], true
			}
		}
		units := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			if le {
				units = append(units, uint16(b[i])|uint16(b[i+1])<<8)
			} else {
				units = append(units, uint16(b[i])<<8|uint16(b[i+1]))
			}
		}
		out := string(utf16.Decode(units))
		if len(b)%2 == 1 {
			out += "\uFFFD"
		}
		return out, nil
	}
	return "", fmt.Errorf("unsupported charset %q", cs)
}
