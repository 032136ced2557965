package parser

import (
	"fmt"
	"strings"
	"testing"
)

func TestLexer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // tokens as kind:text, space-separated; or "error: msg"
	}{
		{"SELECT a", "word:SELECT word:a"},
		{"select `My Col` `a``b`", "word:select qident:My Col qident:a`b"},
		{"naïve_1$x", "word:naïve_1$x"},
		{"_x", "word:_x"},
		{"42 1.5 .5 1. 1e3 2.5E-3 7e+2 1e", "int:42 dec:1.5 dec:.5 dec:1. approx:1E3 approx:2.5E-3 approx:7E+2 int:1 word:e"},
		{"'it''s' ''", "string:it's string:"},
		{"'multi\nline'", "string:multi\nline"},
		{"X'0aFF' x''", "binary:0AFF binary:"},
		{`U&'\0041\+01F600\\'`, "string:A😀\\"},
		{"u&'x'", "string:x"},
		{"<> <= >= != || => < > = ( ) [ ] , ; . + - * / % ? { } | ^ $ :",
			"op:<> op:<= op:>= op:!= op:|| op:=> op:< op:> op:= op:( op:) op:[ op:] op:, op:; op:. op:+ op:- op:* op:/ op:% op:? op:{ op:} op:| op:^ op:$ op::"},
		{"a--b\nc", "word:a word:c"},
		{"a/*x*/b /*+ OPTIONS('k'='v') */ c", "word:a word:b word:c"},
		{"a-b", "word:a op:- word:b"},
		{"a - -b", "word:a op:- op:- word:b"},
		{"1..2", "dec:1. dec:.2"},
		{"", ""},
		{"'abc", "error: unterminated string"},
		{"`abc", "error: unterminated quoted identifier"},
		{"``", "error: zero-length identifier"},
		{"/* x", "error: unterminated comment"},
		{"X'0G'", `error: invalid binary string: "0G"`},
		{"X'0'", "error: binary string must have an even number of hexadecimal digits"},
		{`U&'\12'`, `error: invalid Unicode escape in "\\12"`},
		{`U&'\D800'`, `error: invalid Unicode escape in "\\D800"`},
		{"#", "error: unexpected character '#'"},
		{"a \xff", "error: invalid UTF-8 byte"},
		{"'\xff'", "error: invalid UTF-8 in literal"},
	} {
		toks, err := lex(tc.in)
		var got string
		if err != nil {
			got = "error: " + err.(*Error).Msg
		} else {
			var parts []string
			for _, tk := range toks {
				if tk.kind == tEOF {
					continue
				}
				parts = append(parts, fmt.Sprintf("%s:%s", shortKind[tk.kind], tk.text))
			}
			got = strings.Join(parts, " ")
		}
		if got != tc.want {
			t.Errorf("lex(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

var shortKind = map[tokKind]string{tIdent: "word", tQIdent: "qident", tInt: "int",
	tDecimal: "dec", tApprox: "approx", tString: "string", tBinary: "binary", tOp: "op"}

func TestLexerPositions(t *testing.T) {
	toks, err := lex("a\n  'é' /* c\n */ b\r\n\tc")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1:1@0", "2:3@4", "3:5@18", "4:2@22", "4:3@23"}
	for i, tk := range toks {
		got := fmt.Sprintf("%d:%d@%d", tk.pos.Line, tk.pos.Column, tk.pos.Offset)
		if got != want[i] {
			t.Errorf("token %d (%q): got %s, want %s", i, tk.text, got, want[i])
		}
	}
}
