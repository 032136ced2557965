package exec

import (
	"fmt"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/weirtest"
)

// BenchmarkRankCountUpdates: a Top-10 by a growing count per category (10
// categories of 100 shops, 20,000 updates: ORDER BY COUNT(*) DESC over a
// GROUP BY), as the retractable Top-N gets it (-U/+U pairs) and as the
// updatable one does (+U only). One iteration runs the whole log.
func BenchmarkRankCountUpdates(b *testing.B) {
	types := []row.Type{row.String(), row.BigInt(), row.BigInt()}
	var upsert, retract []row.Row
	counts := map[int64]int64{}
	for i := range 20000 {
		shop := int64(i * 7919 % 1000)
		cat := fmt.Sprintf("c%d", shop%10)
		r := row.Of(row.Str(cat), row.Int(shop), row.Int(counts[shop]+1))
		if n, ok := counts[shop]; ok {
			upsert = append(upsert, r.WithKind(row.UpdateAfter))
			retract = append(retract, row.Of(row.Str(cat), row.Int(shop), row.Int(n)).WithKind(row.UpdateBefore), r.WithKind(row.UpdateAfter))
		} else {
			upsert = append(upsert, r)
			retract = append(retract, r)
		}
		counts[shop]++
	}
	spec := RankSpec{Types: types, PartitionKeys: []int{0}, OrderBy: []OrderKey{{Col: 2, Desc: true, NullsLast: true}},
		RankStart: 1, RankEnd: 10, OutputRankNumber: true, Updating: true, GenerateUpdateBefore: true}
	for _, c := range []struct {
		name string
		key  []int
		log  []row.Row
	}{{"retract", nil, retract}, {"update", []int{0, 1}, upsert}} {
		b.Run(c.name, func(b *testing.B) {
			s := spec
			s.UpdateKey = c.key
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				h := weirtest.New(weir.Options{Parallelism: 1})
				in := weirtest.NewInput[row.Row](h)
				out, err := Rank(in.Stream(), s)
				if err != nil {
					b.Fatal(err)
				}
				o := weirtest.Capture(h, out)
				h.Start(b)
				b.StartTimer()
				for i, r := range c.log {
					if err := in.Push(r, weir.NoTimestamp); err != nil {
						b.Fatal(err)
					}
					if i%1024 == 0 {
						o.Take()
					}
				}
			}
		})
	}
}
