package connector

// SpareFields is implemented by sources whose rows, once a nested
// projection is pushed down (NestedProjectionPushDown), can carry spare
// fields: the planner asks for them when the Calc right above the scan
// computes more columns than the scan has, so that the Calc writes its
// output over the row instead of taking a new one.
type SpareFields interface {
	// ReserveFields asks that every row's Fields have a capacity of at
	// least n: the fields past the row's length NULL and the row's own
	// (no other row shares them). It reports whether the source will;
	// a source that cannot (no projection pushed down, say) returns
	// false and produces rows as before.
	ReserveFields(n int) bool
}
