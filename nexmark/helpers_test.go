package nexmark

import (
	"bytes"
	"encoding/json"
	"slices"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func fmtAny(v any) string { b, _ := json.Marshal(v); return string(b) }

func sortBytes(b [][]byte) { slices.SortFunc(b, bytes.Compare) }
