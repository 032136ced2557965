package checkpoint

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/weirstream/weir/internal/runtime"
)

// BenchmarkWriteParts writes the parts of 4 subtasks (64 key groups of
// 64 KiB each, 4 MiB per part) into a local checkpoint directory: one
// after another on one goroutine, as the driver did before tasks wrote
// their own parts, and from one goroutine per task, as they do now.
func BenchmarkWriteParts(b *testing.B) {
	const tasks, groups, size = 4, 64, 64 << 10
	ids := make([]runtime.TaskID, tasks)
	ops := map[runtime.TaskID][]OperatorInfo{}
	snaps := make([]runtime.TaskSnapshot, tasks)
	for i := range ids {
		ids[i] = runtime.TaskID{Vertex: 1, Subtask: i}
		ops[ids[i]] = []OperatorInfo{{UID: "sums", Name: "sums", Parallelism: tasks}}
		var os runtime.OperatorSnapshot
		for kg := range groups {
			os.Keyed = append(os.Keyed, runtime.KeyGroupState{KeyGroup: i*groups + kg, Data: make([]byte, size)})
		}
		snaps[i] = runtime.TaskSnapshot{Ops: map[int]runtime.OperatorSnapshot{0: os}}
	}
	for _, mode := range []string{"serial", "concurrent"} {
		b.Run(mode, func(b *testing.B) {
			store := &Storage{Dir: b.TempDir()}
			p := NewParts(store, ops)
			ctx := context.Background()
			b.SetBytes(tasks * groups * size)
			b.ReportAllocs()
			for n := 0; n < b.N; n++ {
				id := int64(n + 1)
				p.begin(id, store.ChkDir(id), false)
				write := func(i int) {
					if _, err := p.WritePart(ctx, id, ids[i], snaps[i], false); err != nil {
						b.Error(err)
					}
				}
				if mode == "serial" {
					for i := range ids {
						write(i)
					}
				} else {
					var wg sync.WaitGroup
					for i := range ids {
						wg.Add(1)
						go func() {
							defer wg.Done()
							write(i)
						}()
					}
					wg.Wait()
				}
				p.end(id)
				if err := store.Discard(context.Background(), id); err != nil {
					b.Fatal(fmt.Errorf("discard: %w", err))
				}
			}
		})
	}
}
