package exec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// attachedWindowAgg builds the attached-window-agg command's operator
// (script_test.go): window: $start $end; two-phase: true runs it as
// AttachedLocalWindowAggregate -> AttachedGlobalWindowAggregate.
func (s *script) attachedWindowAgg(keys []int, aggs []AggCall) (weir.Stream[row.Row], error) {
	f := strings.Fields(s.one("window"))
	if len(f) != 2 {
		return weir.Stream[row.Row]{}, fmt.Errorf("window: want $start $end, got %q", s.one("window"))
	}
	var cols [2]int
	for i, c := range f {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "$"))
		if err != nil {
			return weir.Stream[row.Row]{}, err
		}
		cols[i] = n
	}
	s.timeCol = cols[1]
	spec := AttachedWindowAggSpec{InputTypes: s.inTypes, WindowStart: cols[0], WindowEnd: cols[1],
		GroupKeys: keys, Aggs: aggs, UID: "awagg", Counters: s.counters}
	var err error
	if s.outTypes, err = spec.OutputTypes(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	if s.one("two-phase") == "true" {
		local, err := AttachedLocalWindowAggregate(s.in.Stream(), spec)
		if err != nil {
			return weir.Stream[row.Row]{}, err
		}
		return AttachedGlobalWindowAggregate(local, spec)
	}
	return AttachedWindowAggregate(s.in.Stream(), spec)
}
