// Package exec holds the runtime operators that Weir's SQL planner
// compiles aggregations to, built on the public DataStream API
// (weir.Stream[row.Row], KeyBy, keyed state and timers), with the
// semantics of Flink SQL's streaming runtime (flink-table-runtime).
//
// # Operators
//
// GroupAggregate is GROUP BY over a changelog (Flink's GroupAggFunction).
// WindowAggregate is the aggregation over a window table function, GROUP
// BY window_start, window_end, keys (Flink's window aggregate).
// WindowAssign is a window table function without aggregation.
// Deduplicate is ROW_NUMBER() OVER (PARTITION BY ... ORDER BY time) with
// rn = 1 (keep first or last row, on processing or event time); TopN the
// append-only Top-N (rn <= N, with or without the row number).
// OverAggregate is agg(...) OVER (PARTITION BY .. ORDER BY time ROWS|RANGE
// .. PRECEDING AND CURRENT ROW), Flink's over-aggregate functions (see its
// documentation for when rows go out, lateness and cleanup). Each takes
// a spec of column indexes into the input row and returns an error, never
// panics, when the spec does not fit the input types. Spec.OutputTypes
// gives the planner the output schema. MatchRecognize is MATCH_RECOGNIZE
// ... ONE ROW PER MATCH on the CEP engine (package cep): a Map step
// wraps each row in an event that encodes itself when state is
// snapshotted (codec.SelfEncoder), then a CEP pattern per partition key
// whose conditions and select function evaluate DEFINE and MEASURES over
// navigation slots (match.go).
//
// # Output columns
//
//	GroupAggregate   group keys (in GroupKeys order), aggregate results (in Aggs order)
//	WindowAggregate  group keys, aggregate results, window_start, window_end, window_time
//	WindowAssign     the input columns, window_start, window_end, window_time
//	Deduplicate      the input columns
//	TopN             the input columns [, the row number BIGINT NOT NULL if OutputRank]
//	OverAggregate    the input columns, aggregate results (in Aggs order)
//	MatchRecognize   the partition columns, then the measures
//
// window_start and window_end are TIMESTAMP(3) NOT NULL; over a
// TIMESTAMP_LTZ(3) or processing-time attribute they are the wall clock
// of the session time zone (Window.Zone), in which the windows are then
// aligned, as Flink's (window_zone.go). window_time is the instant of
// window_end - 1 ms, typed as the time attribute (TIMESTAMP(3) or
// TIMESTAMP_LTZ(3); a proctime attribute for processing-time windows).
// Output rows of WindowAggregate carry window_time as their event
// timestamp, so a following window or interval join can use it.
// Timestamps are epoch milliseconds.
//
// # Aggregate functions
//
// COUNT(*), COUNT(x, ...), SUM, $SUM0, AVG, MIN, MAX, FIRST_VALUE,
// LAST_VALUE, LISTAGG(x [, sep]) and ARRAY_AGG(x), each with DISTINCT and FILTER (a
// BOOLEAN input column computed upstream: only rows where it is TRUE take
// part). ResultType gives the result type as Flink infers it. NULL
// arguments are skipped (COUNT(x, y) skips a row when any argument is
// NULL). Notable behaviours, all Flink's:
//
//   - SUM of TINYINT, SMALLINT, INT or BIGINT keeps the argument type and
//     wraps around on overflow (Java arithmetic), SUM of FLOAT/DOUBLE keeps
//     it too; SUM(DECIMAL(p, s)) is DECIMAL(38, s) and NULL when the sum
//     needs more than 38 digits. SUM is NULL when no non-NULL input is
//     left: the count of non-NULL inputs is kept, so retracting every one
//     makes it NULL again ($SUM0 is 0 instead).
//   - AVG of integers divides as integers (truncating) and keeps the
//     argument type; of FLOAT/DOUBLE it is FLOAT/DOUBLE; of DECIMAL(p, s)
//     it is DECIMAL(38, max(s, 6)), rounded half up.
//   - MIN and MAX over an update stream keep a multiset of values with
//     counts (Flink's Max/MinWithRetractAggFunction): retracting the
//     current extreme falls back to the next one; a retraction before its
//     accumulation leaves a negative count, as in Flink. Over an
//     insert-only stream (GroupAggSpec.InsertOnly, and windows) they keep
//     one value.
//   - FIRST_VALUE / LAST_VALUE ignore NULLs. With retraction (Flink's
//     First/LastValueWithRetractAggFunction) they keep every value in
//     arrival order; a retraction removes the earliest occurrence of its
//     value. They cannot merge, so SESSION windows reject them, as Flink
//     does.
//   - LISTAGG joins the non-NULL values in arrival order with the last
//     separator seen (default ","); a retraction removes the first
//     occurrence of its value. NULL when empty.
//   - ARRAY_AGG keeps NULL values unless AggCall.IgnoreNulls (IGNORE
//     NULLS); the values in arrival order, NULL (not an empty array) when
//     none. A retraction removes the first equal value, or is kept
//     pending until a merge finds it (Flink's ArrayAggFunction
//     retractList). Never two-phase (TwoPhaseSupported).
//   - A user-defined aggregate (UserDefined, AggCall.UDF; see package
//     sql/udf) sees every row, NULL arguments included; its accumulator is
//     encoded into the group's state with the built-ins' accumulators. Its
//     errors and panics fail the row (aggSet.failed) with a *udf.Error; it
//     needs Retract for updating input and bounded OVER frames, and Merge
//     for SESSION windows.
//   - DISTINCT keeps per call a multiset of argument tuples with counts
//     (Flink's distinct MapView): the function sees a value when its
//     count goes from 0 to 1 and its retraction when it returns to 0.
//
// # Changelog behaviour
//
// GroupAggregate consumes +I and +U rows as accumulations and -U and -D
// as retractions, and per group key keeps the accumulators and a row
// count. The first result of a key is +I; a changed result is -U(old)
// +U(new), or only +U when GenerateUpdateBefore is false (upsert output);
// an unchanged result emits nothing unless a state TTL is set (then -U/+U
// are emitted, so downstream state is refreshed as well). When the row
// count drops to 0 the key's last result is deleted (-D) and its state
// cleared. A retraction of a key with no state (never seen, or expired) is
// ignored and counted in Counters.IgnoredRetractions. A global aggregate
// (no keys) runs as one key, so on one subtask.
//
// With GroupAggSpec.MiniBatch (Flink's MiniBatchGroupAggFunction) the
// rows of a batch are held per key and applied together: the same rules
// hold per batch instead of per row (one net change per key and batch;
// retractions that come first for a key without state are ignored), so
// only the updates inside a batch disappear from the changelog. Batches
// end by size, at multiples of the interval in processing time, before
// checkpoint barriers, on the final watermark and at the end of input;
// the state is the same as without mini-batch.
//
// WindowAggregate emits one +I row per key and window once the watermark
// reaches window_end - 1 (or, on processing time, the clock does); there
// are no early or late firings. Its input is append-only, or, with
// UpdatingInput, a changelog whose -U and -D rows retract from the windows
// of their time (a window whose rows were all retracted emits nothing). An
// event-time row goes to those of its windows that have not fired yet
// (window_end - 1 > the current watermark); when all have fired (for HOP
// and CUMULATE: the last window containing it, as Flink's slicing window
// processor decides) it is late: dropped and counted (the operator's
// late_records_dropped_total metric and Counters.LateRecordsDropped). A
// SESSION row is late when its session, after merging, has ended by the
// watermark.
// Sessions that overlap or touch merge. HOP needs a size that is a multiple
// of the slide, CUMULATE a max size that is a multiple of the step.
// Watermarks are not checkpointed (in Flink neither): after a restore,
// rows before the first watermark are not recognised as late.
//
// Deduplicate and TopN take append-only input. Keep-first on processing
// time emits +I once per key; keep-last (and keep-first on event time when
// an earlier row arrives) emits +I, then -U(old)/+U(new). TopN emits +I for
// a row entering the top N and -D for the row it pushes out, or, with the
// row number, -U/+U for every rank whose row changed and +I for a rank
// filled for the first time. Rows tying on the sort keys rank in arrival
// order; a row tying with the N-th does not enter.
//
// # State
//
// All state is keyed state from package state, so it works on the heap and
// the Pebble backend and survives checkpoints, savepoints and rescaling;
// the operators' timers are engine timers and are checkpointed too. The
// key of every operator is the group key encoded as by row.AppendKey.
//
//	GroupAggregate   value state "group-aggs": the row count and every accumulator, encoded;
//	                 map state "group-distinct-shared": DISTINCT tuple -> one count per call
//	                 over those columns (key: index of the column list + tuple; counts stop
//	                 at 1 on an insert-only input), on Pebble or with a state TTL; on the
//	                 heap backend without TTL the same entries are value state
//	                 "group-distinct-sets" instead, one per group, kept in place
//	                 (distinct_inplace.go); a group's entries restored in the other
//	                 layout move on its first row. Where the DISTINCT entries are kept in
//	                 place and the aggregate is one-phase, without mini-batch and without
//	                 user-defined calls, both are instead value state "group-value", one per
//	                 group, kept in place: the accumulators' encoding (as "group-aggs",
//	                 length-prefixed) then 0, or 1 and the DISTINCT entries (as
//	                 "group-distinct-sets"); held decoded (group_value.go). A group restored
//	                 in "group-value" moves to the other states on its first row where
//	                 those are used (Pebble, TTL, mini-batch), and the other way round
//	WindowAggregate  map state "window-aggs": window end -> encoded accumulators (TUMBLE,
//	                 HOP, CUMULATE); session start -> session end + accumulators (SESSION);
//	                 map state "window-distinct": DISTINCT tuple -> count (window end + call
//	                 index + tuple; not SESSION); one timer per key and window, at window_end - 1.
//	                 HOP without DISTINCT over an append-only input is sliced instead: map state
//	                 "window-slices": slice end -> encoded accumulators of the rows of that
//	                 slide; a window merges its size/slide slices when its timer fires and
//	                 chains the next window's timer (window_slice.go); a window restored in
//	                 "window-aggs" (a snapshot from before slicing) is merged in when it fires
//	Deduplicate      value state "dedup-row": the kept row (row.Codec), kept decoded on
//	                 the heap; "dedup-seen" (keep-first on processing time)
//	Rank             append-only: value state "rank-top": the partition's top RankEnd rows
//	                 in rank order (a count, then row.Codec rows); on the heap without TTL
//	                 kept as those encodings in one byte arena per partition (rank_arena.go),
//	                 elsewhere decoded (Pebble: a cache of decoded tops);
//	                 updating input: "rank-index" (sort keys and counts) and map state
//	                 "rank-data" (sort key -> rows), which an append-only Top-N restored from an
//	                 older snapshot moves into "rank-top" per partition; without ORDER BY
//	                 keys (LIMIT without ORDER BY) on an append-only input: value state
//	                 "first-n-count" (int64, the rows taken), which "rank-top" and
//	                 "rank-index"/"rank-data" of older snapshots move into on the first row
//	OverAggregate    value state "over-acc" (accumulators), map state "over-rows": time ->
//	                 rows (row.Codec, back to back) waiting for the watermark or still
//	                 in a bounded frame, "over-distinct", and small value states
//	                 "over-last", "over-count", "over-smallest", "over-cleanup"
//	MatchRecognize   value state "cep-nfa" of package cep: the key's shared buffer,
//	                 rows as row.Codec encodings; the CEP engine's timers
//
// Accumulators are encoded in a compact binary form (varints, values as
// row.AppendValue encodes them) and decoded for each row of the key.
// DISTINCT multisets are in map state (Flink's MapView), one lookup per
// row, except for SESSION windows, whose accumulators merge and so carry
// them inside. GroupAggregate shares one entry per value between the
// DISTINCT calls over the same columns (different FILTERs), as Flink's
// planner shares their MapView: one lookup per row and column list. The multisets of retracting MIN/MAX, FIRST/LAST_VALUE and
// LISTAGG live inside the encoding, so their cost per row grows with the
// number of distinct values of a group (Flink keeps them in MapState).
// GroupAggSpec.StateTTL is Flink's table.exec.state.ttl: a key's state
// expires when it was not written for that long (processing time, updated
// on create and write, expired state never returned). Window state needs
// no TTL: a window's state is removed when it fires.
//
// # Concurrency
//
// Operators run on the engine's task goroutines; the package has no
// mutable package state. A Counters may be shared by all subtasks (its
// fields are atomic).
package exec
