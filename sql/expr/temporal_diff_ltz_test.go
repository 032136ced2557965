package expr

import (
	"testing"
	"time"
)

// TestTimestampDiffLTZInstants: Flink's TIMESTAMPDIFF of two
// TIMESTAMP_LTZ values subtracts their epoch milliseconds
// (generateTimestampLtzMinus), whatever the session time zone: across
// Europe/Berlin's spring-forward night (2026-03-29 01:00 UTC) one hour of
// instants is one HOUR, not the two of the wall clocks.
func TestTimestampDiffLTZInstants(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	runEvalTests(t, []evalTest{
		{"TIMESTAMPDIFF(HOUR, TO_TIMESTAMP_LTZ(1774744200000, 3), TO_TIMESTAMP_LTZ(1774747800000, 3))", "1", ""},
		{"TIMESTAMPDIFF(MINUTE, TO_TIMESTAMP_LTZ(1774747800000, 3), TO_TIMESTAMP_LTZ(1774744200000, 3))", "-60", ""},
		{"TIMESTAMPDIFF(DAY, TO_TIMESTAMP_LTZ(1774699200000, 3), TO_TIMESTAMP_LTZ(1774783800000, 3))", "0", ""},
	}, berlin)
}
