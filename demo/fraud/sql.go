package fraud

import (
	"fmt"
	"time"
)

// PaymentsTableSQL declares payments as a Flink SQL table read from a CSV
// file at path (id, account, amount, failed, ts, transfer, to_account), its
// watermark bounded by maxDelay as the generator's out-of-orderness.
func PaymentsTableSQL(path string, maxDelay time.Duration) string {
	return fmt.Sprintf(`CREATE TABLE payments (
  id BIGINT,
  account BIGINT,
  amount BIGINT,
  failed BOOLEAN,
  ts TIMESTAMP(3),
  transfer BOOLEAN,
  to_account BIGINT,
  WATERMARK FOR ts AS ts - INTERVAL '%g' SECOND
) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv')`, maxDelay.Seconds(), path)
}

// FailedBurstSQL is the FailedBurst rule (FailedBurstPattern) in
// MATCH_RECOGNIZE over the payments table: FailCount failed payments of an
// account within FailWindow. The CEP pattern reads the failed payments only
// and takes them with relaxed contiguity; over that stream strict
// contiguity (MATCH_RECOGNIZE's) is the same. F{n}? is reluctant because a
// greedy quantifier may not end a pattern (as in Flink); a fixed count has
// nothing to be greedy about.
func FailedBurstSQL(r Rules) string {
	r.fill()
	return fmt.Sprintf(`SELECT account, payment_id, ts, failures
FROM (SELECT * FROM payments WHERE failed)
MATCH_RECOGNIZE (
  PARTITION BY account
  ORDER BY ts
  MEASURES LAST(F.id) AS payment_id, LAST(F.ts) AS ts, COUNT(*) AS failures
  ONE ROW PER MATCH
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (F{%d}?) WITHIN INTERVAL '%d' SECOND
  DEFINE F AS F.failed
)`, r.FailCount, int64(r.FailWindow/time.Second))
}

// MuleSQL is the MuleTransfers rule (MulePattern) in MATCH_RECOGNIZE over
// the payments table: SpreadCount or more successful transfers below
// LargeTransfer to different accounts, then a successful transfer of at
// least LargeTransfer, all within SpreadWindow.
//
// The CEP pattern skips (relaxed contiguity) the transfers that do not
// extend the spread: a repeat payee, or a large transfer before the spread
// is complete. MATCH_RECOGNIZE has strict contiguity only, so the SQL
// takes every row between the first small transfer S and the large one L
// into T (reluctant, so L is the first large transfer that qualifies) and
// counts the different payees of the small transfers with a DISTINCT
// aggregate over all rows so far: the CEP pattern's spread accepts exactly
// the first transfer to each payee. COUNT(DISTINCT ...) in DEFINE is a Weir
// extension: Flink refuses DISTINCT aggregates in MATCH_RECOGNIZE, and
// without it "to different accounts" cannot be written.
func MuleSQL(r Rules) string {
	r.fill()
	return fmt.Sprintf(`SELECT account, payment_id, ts, amount
FROM (SELECT * FROM payments WHERE transfer AND NOT failed)
MATCH_RECOGNIZE (
  PARTITION BY account
  ORDER BY ts
  MEASURES L.id AS payment_id, L.ts AS ts, L.amount AS amount
  ONE ROW PER MATCH
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (S T*? L) WITHIN INTERVAL '%d' SECOND
  DEFINE
    S AS S.amount < %[2]d,
    L AS L.amount >= %[2]d
      AND COUNT(DISTINCT CASE WHEN amount < %[2]d THEN to_account END) >= %[3]d
)`, int64(r.SpreadWindow/time.Second), r.LargeTransfer, r.SpreadCount)
}
