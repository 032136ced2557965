package parser

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/weirstream/weir/sql/ast"
)

// tokKind classifies a token.
type tokKind int

const (
	tEOF     tokKind = iota
	tIdent           // unquoted word: keyword or identifier
	tQIdent          // back-quoted identifier
	tInt             // 42
	tDecimal         // 1.5, .5, 1.
	tApprox          // 1e3, 1.5E-2
	tString          // 'abc', U&'\0041'
	tBinary          // X'0AFF'
	tOp              // operator or punctuation
)

var kindNames = [...]string{"end of input", "identifier", "identifier", "integer", "decimal",
	"number", "string", "binary string", "operator"}

// token is one lexical token.
type token struct {
	kind tokKind
	// text is the identifier name (unquoted), the decoded string, the upper-cased hex digits
	// of a binary string, the number or the operator.
	text string
	// upper is the upper-cased text of tIdent tokens.
	upper string
	pos   ast.Pos
	// end is the byte offset just past the token.
	end int
	// hints are the /*+ ... */ comments directly before the token.
	hints []hintComment
}

// hintComment is a /*+ ... */ comment; its body is lexed when the parser reads it.
type hintComment struct {
	// pos is the position of the body (just after "/*+"), end its end offset (before "*/").
	pos ast.Pos
	end int
}

type lexer struct {
	src   string
	off   int
	line  int
	col   int
	toks  []token
	hints []hintComment // hints seen since the last token
}

// operators, longest first within each leading character.
var operators = []string{"<>", "<=", ">=", "!=", "||", "=>", "(", ")", "[", "]", ",", ";", ".",
	"+", "-", "*", "/", "%", "=", "<", ">", "?", "{", "}", "|", "^", "$", ":"}

// lex splits src into tokens, ending with a tEOF token.
func lex(src string) ([]token, error) {
	return lexFrom(src, ast.Pos{Line: 1, Column: 1})
}

// lexFrom lexes src[start.Offset:], numbering positions from start.
func lexFrom(src string, start ast.Pos) ([]token, error) {
	l := &lexer{src: src, off: start.Offset, line: start.Line, col: start.Column}
	for {
		if err := l.skipSpace(); err != nil {
			return nil, err
		}
		if l.off >= len(src) {
			l.toks = append(l.toks, token{kind: tEOF, pos: l.pos(), end: l.off, hints: l.hints})
			return l.toks, nil
		}
		if err := l.token(); err != nil {
			return nil, err
		}
	}
}

func (l *lexer) pos() ast.Pos { return ast.Pos{Line: l.line, Column: l.col, Offset: l.off} }

func (l *lexer) errAt(p ast.Pos, msg string) error {
	return newError(l.src, p.Line, p.Column, p.Offset, msg)
}

// advance moves past n bytes, keeping line and column.
func (l *lexer) advance(n int) {
	for end := l.off + n; l.off < end; {
		r, size := utf8.DecodeRuneInString(l.src[l.off:])
		l.off += size
		if r == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
	}
}

func (l *lexer) peekByte(i int) byte {
	if l.off+i < len(l.src) {
		return l.src[l.off+i]
	}
	return 0
}

func (l *lexer) skipSpace() error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			l.advance(1)
		case c == '-' && l.peekByte(1) == '-':
			end := strings.IndexByte(l.src[l.off:], '\n')
			if end < 0 {
				end = len(l.src) - l.off
			}
			l.advance(end)
		case c == '/' && l.peekByte(1) == '*':
			start := l.pos()
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				return l.errAt(start, "unterminated comment")
			}
			if end > 0 && l.peekByte(2) == '+' {
				bodyEnd := l.off + 2 + end
				l.advance(3)
				l.hints = append(l.hints, hintComment{pos: l.pos(), end: bodyEnd})
				l.advance(bodyEnd + 2 - l.off)
				continue
			}
			l.advance(end + 4)
		default:
			return nil
		}
	}
	return nil
}

func (l *lexer) emit(kind tokKind, text string, start ast.Pos) {
	t := token{kind: kind, text: text, pos: start, end: l.off, hints: l.hints}
	l.hints = nil
	if kind == tIdent {
		t.upper = strings.ToUpper(text)
	}
	l.toks = append(l.toks, t)
}

func (l *lexer) token() error {
	start := l.pos()
	c := l.src[l.off]
	switch {
	case c == '\'':
		s, err := l.quoted('\'', start)
		if err != nil {
			return err
		}
		l.emit(tString, s, start)
		return nil
	case c == '`':
		s, err := l.quoted('`', start)
		if err != nil {
			return err
		}
		if s == "" {
			return l.errAt(start, "zero-length identifier")
		}
		l.emit(tQIdent, s, start)
		return nil
	case (c == 'x' || c == 'X') && l.peekByte(1) == '\'':
		l.advance(1)
		s, err := l.quoted('\'', start)
		if err != nil {
			return err
		}
		for i := 0; i < len(s); i++ {
			if !isHex(s[i]) {
				return l.errAt(start, "invalid binary string: "+strconv.Quote(s))
			}
		}
		if len(s)%2 != 0 {
			return l.errAt(start, "binary string must have an even number of hexadecimal digits")
		}
		l.emit(tBinary, strings.ToUpper(s), start)
		return nil
	case (c == 'u' || c == 'U') && l.peekByte(1) == '&' && l.peekByte(2) == '\'':
		l.advance(2)
		s, err := l.quoted('\'', start)
		if err != nil {
			return err
		}
		d, ok := unescapeUnicode(s)
		if !ok {
			return l.errAt(start, "invalid Unicode escape in "+strconv.Quote(s))
		}
		l.emit(tString, d, start)
		return nil
	case isDigit(c) || c == '.' && isDigit(l.peekByte(1)):
		return l.number(start)
	}
	r, size := utf8.DecodeRuneInString(l.src[l.off:])
	if ast.IsIdentStart(r) {
		end := l.off + size
		for end < len(l.src) {
			r, size := utf8.DecodeRuneInString(l.src[end:])
			if !ast.IsIdentPart(r) {
				break
			}
			end += size
		}
		text := l.src[l.off:end]
		l.advance(end - l.off)
		l.emit(tIdent, text, start)
		return nil
	}
	for _, op := range operators {
		if strings.HasPrefix(l.src[l.off:], op) {
			l.advance(len(op))
			l.emit(tOp, op, start)
			return nil
		}
	}
	if r == utf8.RuneError && size == 1 {
		return l.errAt(start, "invalid UTF-8 byte")
	}
	return l.errAt(start, "unexpected character "+strconv.QuoteRune(r))
}

// quoted reads a q-delimited literal starting at l.off, with doubled q as escape.
func (l *lexer) quoted(q byte, start ast.Pos) (string, error) {
	var b strings.Builder
	i := l.off + 1
	for {
		j := strings.IndexByte(l.src[i:], q)
		if j < 0 {
			what := "string"
			if q == '`' {
				what = "quoted identifier"
			}
			return "", l.errAt(start, "unterminated "+what)
		}
		b.WriteString(l.src[i : i+j])
		i += j + 1
		if i < len(l.src) && l.src[i] == q {
			b.WriteByte(q)
			i++
			continue
		}
		break
	}
	l.advance(i - l.off)
	s := b.String()
	if !utf8.ValidString(s) {
		return "", l.errAt(start, "invalid UTF-8 in literal")
	}
	return s, nil
}

func (l *lexer) number(start ast.Pos) error {
	i := l.off
	for i < len(l.src) && isDigit(l.src[i]) {
		i++
	}
	kind := tInt
	if i < len(l.src) && l.src[i] == '.' {
		kind = tDecimal
		i++
		for i < len(l.src) && isDigit(l.src[i]) {
			i++
		}
	}
	if i < len(l.src) && (l.src[i] == 'e' || l.src[i] == 'E') {
		j := i + 1
		if j < len(l.src) && (l.src[j] == '+' || l.src[j] == '-') {
			j++
		}
		if j < len(l.src) && isDigit(l.src[j]) {
			for j < len(l.src) && isDigit(l.src[j]) {
				j++
			}
			kind = tApprox
			i = j
		}
	}
	text := l.src[l.off:i]
	if kind == tApprox {
		text = strings.ToUpper(text)
	}
	l.advance(i - l.off)
	l.emit(kind, text, start)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// unescapeUnicode decodes the \XXXX, \+XXXXXX and \\ escapes of a U&'...' literal.
func unescapeUnicode(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			b.WriteByte('\\')
			i += 2
			continue
		case i+1 < len(s) && s[i+1] == '+':
			if i+8 > len(s) {
				return "", false
			}
			v, err := strconv.ParseUint(s[i+2:i+8], 16, 32)
			if err != nil || !utf8.ValidRune(rune(v)) {
				return "", false
			}
			b.WriteRune(rune(v))
			i += 8
		default:
			if i+5 > len(s) {
				return "", false
			}
			v, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil || !utf8.ValidRune(rune(v)) {
				return "", false
			}
			b.WriteRune(rune(v))
			i += 5
		}
	}
	return b.String(), true
}
