package main

import "testing"

// TestHistoryEntryComments checks history entries of statements with
// block comments (a hint among them) and doubled quotes: a "--" or a
// quote inside a block comment is part of the comment, as the client's
// statementComplete and the SQL lexer read it, so the entry stays a whole
// statement that runs again.
func TestHistoryEntryComments(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT /* a -- b */ 1;\n", "SELECT /* a -- b */ 1;"},
		{"SELECT /* it's */ 1;\n", "SELECT /* it's */ 1;"},
		{"SELECT /*+ OPTIONS('k' = 'v') */\n  *\nFROM t;\n", "SELECT /*+ OPTIONS('k' = 'v') */ * FROM t;"},
		{"SELECT 1 /* two\n  lines -- here */ ;\n", "SELECT 1 /* two lines -- here */ ;"},
		{"SELECT 'it''s -- x',\n `a``--b` FROM t; -- c\n", "SELECT 'it''s -- x', `a``--b` FROM t;"},
		{"SELECT 1 -- a /* not a block\n;\n", "SELECT 1 ;"},
		{"SELECT 2/*x*/-1;\n", "SELECT 2/*x*/-1;"},
	} {
		got := historyEntry(c.in)
		if got != c.want {
			t.Errorf("historyEntry(%q) = %q, want %q", c.in, got, c.want)
		}
		if !statementComplete(got + "\n") {
			t.Errorf("history entry %q of %q is not a complete statement", got, c.in)
		}
	}
}
