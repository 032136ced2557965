// Package cep detects patterns in keyed event streams: Flink CEP's pattern
// API and matching semantics for Weir.
//
// A pattern is a sequence of named steps, each with conditions on the
// events it accepts, a quantifier, and a contiguity to the step before:
//
//	// 3 failed payments within 10 minutes
//	failures := cep.Begin[Payment]("failed").
//		Where(func(p Payment) bool { return p.Status == "FAILED" }).
//		Times(3).
//		Within(10 * time.Minute).
//		Skip(cep.SkipPastLastEvent())
//
//	// 3 or more transfers to different accounts within 5 minutes, then a
//	// large transfer
//	mule := cep.Begin[Transfer]("spread").
//		Where(func(t Transfer) bool { return t.Amount < 10_000 }).
//		WhereCtx(func(t Transfer, ctx *cep.Context[Transfer]) bool {
//			fresh := true // a different target than every earlier transfer
//			ctx.Each("spread", func(prev Transfer) bool {
//				fresh = prev.To != t.To
//				return fresh
//			})
//			return fresh
//		}).
//		TimesOrMore(3).
//		FollowedBy("large").
//		Where(func(t Transfer) bool { return t.Amount >= 10_000 }).
//		Within(5 * time.Minute).
//		Skip(cep.SkipPastLastEvent())
//
//	byAccount := weir.KeyBy(payments, func(p Payment) string { return p.Account })
//	alerts := cep.Select(cep.Pattern(byAccount, failures),
//		func(account string, m map[string][]Payment) (Alert, error) {
//			return Alert{Account: account, Failed: m["failed"]}, nil
//		})
//
// # Pattern API
//
// Begin (or BeginGroup) starts a sequence; Next (strict contiguity: the very
// next event), FollowedBy (relaxed: the next matching event, skipping
// others) and FollowedByAny (non-deterministic relaxed: any later matching
// event, one branch each) append steps; NotNext and NotFollowedBy append
// negative steps that discard the partial match when they match. Where,
// WhereCtx and WhereCond add conditions (AND), Or/OrCtx/OrCond alternatives;
// iterative conditions see the events the partial match accepted so far
// (Context). Expr, WhereExpr and OrExpr compile a condition from an
// expr-lang string once.
// Quantifiers: Times, TimesRange, TimesOrMore, OneOrMore, Optional, with
// Greedy, Consecutive (strict between the repeated events; default relaxed),
// AllowCombinations (non-deterministic) and Until (stop condition of a
// loop). Groups (BeginGroup, NextGroup, FollowedByGroup, FollowedByAnyGroup)
// take a whole sequence as one step, so quantifiers repeat it. Within bounds
// the time from a match's first event to its last (exclusive, as Flink:
// last - first < Within). Skip sets the after-match skip strategy: NoSkip,
// SkipToNext, SkipPastLastEvent, SkipToFirst(step), SkipToLast(step).
//
// # Matching
//
// A pattern compiles to a non-deterministic automaton with take, ignore and
// proceed edges, the design of Flink's NFACompiler after Agrawal et al.,
// "Efficient Pattern Matching over Event Streams" (SIGMOD 2008). Each key
// keeps its partial matches in a shared buffer (accepted events stored
// once, match prefixes shared by reference-counted nodes) held in keyed
// state. Every event advances every partial match and starts a new one;
// matches are emitted when they reach the final state, partial matches
// are dropped (and optionally reported as timed out) once Within passes.
// With a skip strategy other than NoSkip, a completed match waits while a
// partial match that started before it is alive, as in Flink. When every
// condition of a pattern sees only the event (no iterative or expression
// conditions), an event that every state would merely ignore and that
// starts no match is dropped on arrival, before the key's state or timers
// are touched: it cannot change any partial match.
//
// # Time
//
// By default matching runs in event time: each record is buffered in the
// key's state and matched, in timestamp order (arrival order for equal
// timestamps), once the watermark passes it; event-time timers wake the key
// for its queued events and for its next timeout, so an idle key's state is
// released when its partial matches time out. Records at or behind the
// watermark are late: dropped (and counted in the operator's
// late_records_dropped_total metric, as Flink's numLateRecordsDropped), or
// sent to SideOutputLateData. A record
// without a timestamp fails the job, naming the operator, as windows and
// interval joins do (the source needs a timestamp assigner). With
// InProcessingTime records are matched on arrival and Within is measured
// on the processing-time clock.
//
// Pattern operators are named "CEP" unless named with Name; several in one
// job are numbered ("CEP", "CEP-2") in plans, errors and metrics.
//
// # Output
//
// Select and FlatSelect turn each match (the key, and each step's events in
// order) into records stamped with the time of the event that completed the
// match. SelectMatch does the same through a reused Match view instead of
// a new map per match (valid only during the call), which allocates
// nothing per match. SideOutputTimeouts sends partial matches dropped by Within, with
// their events, to a side output.
//
// # Differences from Flink
//
// NotFollowedBy cannot precede an optional step; Greedy is not supported on groups; Within
// is per sequence, not per step; the subtype() filter does not exist (use
// Where with a type switch; Flink's EventComparator for equal timestamps is
// PatternStream.WithComparator); SkipToFirst/SkipToLast naming a step a match lacks do not skip
// (Flink's default, without throwExceptionOnMiss).
//
// State: a key's buffer is one Go value in keyed state (state.Value); its
// persistent part is plain exported data that the default state codec
// (package codec) snapshots, provided the event type T is encodable by it
// too (plain data, or a type that encodes itself: codec.SelfEncoder). A key's state is cleared when it holds no partial match, no
// queued record and no pending timer (at the latest when its last timer
// fires).
//
// Concurrency: patterns are immutable once a job starts and may be shared
// by jobs; each subtask has its own matcher and state.
package cep
