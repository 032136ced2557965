package parser

import (
	"fmt"
	"strings"
)

// Error is a syntax error.
type Error struct {
	// Line and Column are the 1-based position of the offending token (Column in code
	// points); Offset is its byte offset.
	Line, Column, Offset int
	// Msg says what was found and what was expected, e.g. "expected FROM, found 'FORM'".
	Msg string
	// SourceLine is the text of the offending line, without its line break.
	SourceLine string
}

// Error returns "sql: syntax error at line L, column C: msg".
func (e *Error) Error() string {
	return fmt.Sprintf("sql: syntax error at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Detail returns Error followed by the offending source line and a caret under the column.
// Tabs before the column are repeated in the caret line so that the caret lines up.
func (e *Error) Detail() string {
	var b strings.Builder
	b.WriteString(e.Error())
	b.WriteString("\n")
	b.WriteString(e.SourceLine)
	b.WriteString("\n")
	col := 1
	for _, r := range e.SourceLine {
		if col >= e.Column {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		col++
	}
	for ; col < e.Column; col++ {
		b.WriteByte(' ')
	}
	b.WriteString("^")
	return b.String()
}

// newError builds an Error at the given position of src.
func newError(src string, line, col, off int, msg string) *Error {
	start := strings.LastIndexByte(src[:min(off, len(src))], '\n') + 1
	end := strings.IndexByte(src[start:], '\n')
	if end < 0 {
		end = len(src)
	} else {
		end += start
	}
	return &Error{Line: line, Column: col, Offset: off, Msg: msg,
		SourceLine: strings.TrimSuffix(src[start:end], "\r")}
}
