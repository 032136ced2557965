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
		t.Fatal(err) // sql/expr embeds the zone database (time/tzdata)
	}
	runEvalTests(t, []evalTest{
		{"TIMESTAMPDIFF(HOUR, TO_TIMESTAMP_LTZ(1774744200000, 3), TO_TIMESTAMP_LTZ(1774747800000, 3))", "1", ""},
		{"TIMESTAMPDIFF(MINUTE, TO_TIMESTAMP_LTZ(1774747800000, 3), TO_TIMESTAMP_LTZ(1774744200000, 3))", "-60", ""},
		{"TIMESTAMPDIFF(DAY, TO_TIMESTAMP_LTZ(1774699200000, 3), TO_TIMESTAMP_LTZ(1774783800000, 3))", "0", ""},
	}, berlin)
}

// TestTimestampAddLTZInstants: Flink adds a day-time interval to a
// TIMESTAMP_LTZ's epoch milliseconds, and months to the epoch
// milliseconds read in UTC (generateTemporalPlusMinus: fromEpochMillis(
// getMillisecond() + r), ADD_MONTHS(getMillisecond(), r)), whatever the
// session time zone: a DAY after 2026-03-28 13:00 CET is 24 hours later,
// 14:00 CEST.
func TestTimestampAddLTZInstants(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err) // sql/expr embeds the zone database (time/tzdata)
	}
	runEvalTests(t, []evalTest{
		{"TIMESTAMPADD(DAY, 1, TO_TIMESTAMP_LTZ(1774699200000, 3))", "2026-03-29 14:00:00.000", ""},
		{"TIMESTAMPADD(HOUR, 24, TO_TIMESTAMP_LTZ(1774699200000, 3))", "2026-03-29 14:00:00.000", ""},
		{"TIMESTAMPADD(DAY, -1, TIMESTAMPADD(DAY, 1, TO_TIMESTAMP_LTZ(1774699200000, 3)))", "2026-03-28 13:00:00.000", ""},
		// 2026-02-28 23:30 UTC is 2026-03-01 00:30 in Berlin: a month
		// later in UTC is 2026-03-28 23:30 UTC, 2026-03-29 00:30 CET.
		{"TIMESTAMPADD(MONTH, 1, TO_TIMESTAMP_LTZ(1772321400000, 3))", "2026-03-29 00:30:00.000", ""},
	}, berlin)
}
