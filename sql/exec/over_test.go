package exec

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// over builds the OverAggregate of an "over" script (see TestScripts).
func (s *script) over(aggs []AggCall, keys []int) (weir.Stream[row.Row], error) {
	spec := OverAggSpec{InputTypes: s.inTypes, PartitionKeys: keys, Aggs: aggs, UID: "over", Counters: s.counters, TimeCol: ProcTime}
	if tc := s.one("time"); tc != "proctime" {
		c, err := strconv.Atoi(strings.TrimPrefix(tc, "$"))
		if err != nil {
			return weir.Stream[row.Row]{}, err
		}
		spec.TimeCol, s.timeCol = c, c
	}
	f := strings.Fields(s.one("frame"))
	if len(f) != 2 {
		return weir.Stream[row.Row]{}, fmt.Errorf("frame: want ROWS|RANGE n|duration|UNBOUNDED, got %q", s.one("frame"))
	}
	spec.Rows = f[0] == "ROWS"
	switch {
	case f[1] == "UNBOUNDED":
		spec.Unbounded = true
	case spec.Rows:
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return weir.Stream[row.Row]{}, err
		}
		spec.Preceding = n
	default:
		d, err := time.ParseDuration(f[1])
		if err != nil {
			return weir.Stream[row.Row]{}, err
		}
		spec.Preceding = d.Milliseconds()
	}
	if ttl := s.one("ttl"); ttl != "" {
		d, err := time.ParseDuration(ttl)
		if err != nil {
			return weir.Stream[row.Row]{}, err
		}
		spec.StateTTL = d
	}
	var err error
	if s.outTypes, err = spec.OutputTypes(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	return OverAggregate(s.in.Stream(), spec)
}

// sort builds the TemporalSort of a "sort" script: time: $n | proctime,
// then: $col [DESC] lines for the secondary keys.
func (s *script) sort() (weir.Stream[row.Row], error) {
	spec := TemporalSortSpec{Types: s.inTypes, TimeCol: ProcTime, UID: "sort", Counters: s.counters}
	if tc := s.one("time"); tc != "proctime" {
		c, err := strconv.Atoi(strings.TrimPrefix(tc, "$"))
		if err != nil {
			return weir.Stream[row.Row]{}, err
		}
		spec.TimeCol, s.timeCol = c, c
	}
	for _, l := range s.lines["then"] {
		f := strings.Fields(l)
		c, err := strconv.Atoi(strings.TrimPrefix(f[0], "$"))
		if err != nil {
			return weir.Stream[row.Row]{}, err
		}
		k := OrderKey{Col: c}
		if len(f) > 1 && f[1] == "DESC" {
			k.Desc, k.NullsLast = true, true
		}
		spec.Then = append(spec.Then, k)
	}
	s.outTypes = s.inTypes
	return TemporalSort(s.in.Stream(), spec)
}
