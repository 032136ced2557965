package expr

import "testing"

// TestTimestampDiffMillisecondOperands: Flink's TIMESTAMPDIFF in day-time
// units subtracts the operands' epoch milliseconds
// (TimestampData.getMillisecond, ScalarOperatorGens
// generateTemporalPlusMinus), so digits below the millisecond do not
// count: from .0005 to 1.0001 is one second (1000 ms - 0 ms), and before
// 1970 the millisecond is the one below (floor).
func TestTimestampDiffMillisecondOperands(t *testing.T) {
	runEvalTests(t, []evalTest{
		{"TIMESTAMPDIFF(SECOND, TIMESTAMP '2000-01-01 00:00:00.0005', TIMESTAMP '2000-01-01 00:00:01.0001')", "1", ""},
		{"TIMESTAMPDIFF(SECOND, TIMESTAMP '2000-01-01 00:00:01.0001', TIMESTAMP '2000-01-01 00:00:00.0005')", "-1", ""},
		{"TIMESTAMPDIFF(MINUTE, TIMESTAMP '2000-01-01 00:00:00.000999999', TIMESTAMP '2000-01-01 00:01:00.000000001')", "1", ""},
		{"TIMESTAMPDIFF(SECOND, TIMESTAMP '1969-12-31 23:59:59.0005', TIMESTAMP '1970-01-01 00:00:00.0001')", "1", ""},
		{"TIMESTAMPDIFF(DAY, TIMESTAMP '0999-12-31 00:00:00.0009', TIMESTAMP '1000-01-01 00:00:00.0001')", "1", ""},
		{"TIMESTAMPDIFF(MONTH, TIMESTAMP '2000-01-01 00:00:00.0005', TIMESTAMP '2000-02-01 00:00:00.0001')", "1", ""},
		// Unchanged: whole milliseconds.
		{"TIMESTAMPDIFF(SECOND, TIMESTAMP '2000-01-01 00:00:00.001', TIMESTAMP '2000-01-01 00:00:01.000')", "0", ""},
	}, nil)
}
