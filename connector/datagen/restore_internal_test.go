package datagen

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

func seqItem(id, step, next uint64) []byte {
	b := []byte{seqVersion}
	b = binary.AppendUvarint(b, id)
	b = binary.AppendUvarint(b, step)
	return binary.AppendUvarint(b, next)
}

func TestRestoreSequences(t *testing.T) {
	three := [][]byte{seqItem(0, 3, 9), seqItem(1, 3, 4), seqItem(2, 3, 2)}
	for _, tc := range []struct {
		name       string
		items      [][]byte
		subtask, p int
		want       []int // ids
		wantErr    string
	}{
		{"same parallelism", three, 1, 3, []int{1}, ""},
		{"fewer subtasks", three, 0, 2, []int{0, 2}, ""},
		{"more subtasks", three, 3, 4, nil, ""},
		{"missing sequence", three[:2], 0, 2, nil, "2 of the 3 sequences"},
		{"twice", append(three, seqItem(1, 3, 7)), 0, 1, nil, "stored twice"},
		{"strides", [][]byte{seqItem(0, 2, 0), seqItem(1, 3, 1)}, 0, 1, nil, "strides"},
		{"corrupt", [][]byte{{seqVersion, 0x80}}, 0, 1, nil, "corrupt"},
		{"id above stride", [][]byte{seqItem(3, 3, 0)}, 0, 1, nil, "corrupt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seqs, _, err := restoreSequences(tc.items, tc.subtask, tc.p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []int
			for _, s := range seqs {
				ids = append(ids, s.id)
			}
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("sequences %v, want %v", ids, tc.want)
			}
		})
	}
}
