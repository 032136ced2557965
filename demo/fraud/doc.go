// Package fraud is Weir's no-setup fraud detection demo: a deterministic
// generator of card payments and a keyed pipeline that raises alerts.
//
// The generator (Generator, a weir.Source) derives payment i from the seed
// and i alone, so every run with the same seed produces the same payments,
// whatever the source's parallelism: subtask s of p emits payments s, s+p,
// s+2p, ... A small fraction of accounts is fraudulent: their payments fail
// often and sometimes jump far above their usual amount. Event timestamps
// advance at a fixed event-time rate with bounded jitter (out-of-order
// records), so a bounded-out-of-orderness watermark never makes a record
// late.
//
// Some payments are transfers to another account (To): honest accounts
// rarely make them, always to a few regular payees; fraudulent accounts
// often, to any account.
//
// The pipeline keys payments by account and runs a Detector, a keyed
// process function that buffers each account's payments until the watermark
// passes them (event-time timers), then evaluates them in event-time order:
//
//   - AmountSpike: a payment more than 10 times the account's running
//     average amount (once the account has a short history);
//
// two CEP patterns (package cep, see Patterns), matched per account in
// event time, their timed-out partial matches counted in a side output:
//
//   - FailedBurst: 3 failed payments within 10 minutes of event time;
//   - MuleTransfers: 3 or more transfers, each to a different account,
//     within 5 minutes, then a large transfer (an iterative condition
//     compares each transfer with those already matched);
//
// and, beside the detector, tumbling one-minute event-time windows sum each
// account's successful payments (an incremental aggregate):
//
//   - MinuteSpend: more than 5,000.00 spent by one account in a minute.
//
// Evaluating in event-time order makes the alerts independent of the order
// in which parallel source subtasks deliver records, which is what lets the
// test compare them with a plain Go computation. The running average lives
// in value state with a time to live, so accounts idle for long are
// forgotten.
//
// Run wires the pipeline to an alert writer and a once-a-second status line;
// cmd/weir's demo command calls it.
package fraud
