package connector

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/weirstream/weir"
)

// TestJDBCPartitionFingerprintCorruptLength: a version 2 item whose
// fingerprint's column-name length is near 2^64 (n+24 wraps around to
// what is left of the item) is refused as corrupt, not a panic.
func TestJDBCPartitionFingerprintCorruptLength(t *testing.T) {
	ps := jdbcFPScan(t, "jdbc:postgresql://127.0.0.1:5432/test", "t", "id", []int{0}, 1, "5", false)
	b := []byte{0, jdbcPartItemVersion}
	b = binary.AppendUvarint(b, 4)  // splits
	b = binary.AppendVarint(b, 1)   // lower bound
	b = binary.AppendVarint(b, 100) // upper bound
	b = binary.AppendUvarint(b, 0)  // split
	b = binary.AppendUvarint(b, 7)  // emitted
	b = append(b, 0)                // not done
	b = binary.AppendUvarint(b, math.MaxUint64-23)
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("restoring a corrupt item panicked: %v", p)
			}
		}()
		_, err = ps.CreateReader(weir.SourceContext{Parallelism: 1, Restored: [][]byte{b}})
	}()
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("a corrupt item: %v", err)
	}
}
