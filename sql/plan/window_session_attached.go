package plan

import "github.com/weirstream/weir/row"

// sessionOnRowtime reports whether a SESSION window TVF assigns its
// sessions on a rowtime attribute: its rows then leave it when the
// watermark passes their session's end, before that watermark, so a
// window join, window Top-N or window deduplication over its output
// sees them with their window still open and fires and drops the
// window's state when that watermark arrives (sql/exec WindowJoin,
// WindowRank, WindowDeduplicate), as over the other window TVFs.
func sessionOnRowtime(n *WindowTVF) bool {
	return n.Window.Kind == Session && n.In.Columns()[n.Window.TimeCol].Type.TimeAttr == row.Rowtime
}
