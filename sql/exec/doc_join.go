package exec

// Joins, ranking and deduplication.
//
// The operators of this part of the package are the runtime of Flink SQL's
// joins, Top-N and deduplication, built on Weir's public API: each is a
// keyed (co-)process function over row.Row streams, keyed by the encoded
// key columns (row.AppendKey), with its state in keyed state (package
// state) so that the heap and Pebble backends, checkpoints, savepoints and
// restores at another parallelism all work. State holds rows as their
// row.Codec encodings (strings), so the default state codecs apply.
//
// RegularJoin (Flink's StreamingJoinOperator) joins two changelogs on equal
// keys plus an optional residual condition. Each side keeps, per join key,
// a map from row to its multiplicity and, for an outer side, to the number
// of rows of the other side it is joined with. An input row is matched
// against the other side's rows of its key; inner pairs carry the input's
// kind, outer pairs are +I/-D, and an outer row's NULL-padded version is
// retracted when it gets its first match and re-emitted when it loses its
// last. NULL keys never match. table.exec.state.ttl maps to JoinSpec.StateTTL
// (processing time, refreshed on write, expired rows never returned).
// An insert-only input that is not an outer side (JoinSpec.LeftAppendOnly,
// RightAppendOnly, set by the translator from the plan's changelog mode)
// keeps a list of its encoded rows per key instead (join_append.go).
//
// IntervalJoin (RowTimeIntervalJoin, ProcTimeIntervalJoin) joins append-only
// inputs on keys and a time interval. Rows are cached by time in map state
// until the other side's time (the watermark, or processing time) passes
// the end of the interval they can still join; cleanup timers expire them
// and, for outer sides, emit the never-joined ones padded. Rows arriving
// after their interval has passed are not cached (an outer one is padded at
// once). The event-time variant holds its output watermark back by the
// larger side of the interval.
//
// TemporalJoin (TemporalRowTimeJoinOperator) joins each left row, once the
// watermark of both inputs reaches its time, with the version of the right
// (versioned) table's row valid at that time: the latest right row at or
// before it, none if that is a -D row. Left rows wait in map state by
// arrival number, versions in map state by rowtime; one event-time timer
// per key; versions older than the latest one at or before the watermark
// are dropped.
//
// Rank is ROW_NUMBER() Top-N. Append-only input (AppendOnlyTopNFunction)
// keeps only the best RankEnd rows per partition; updating input
// (RetractableTopNFunction) keeps all rows. Both keep a sorted index of the
// distinct sort keys with their row counts (a value state) and the rows of
// each sort key in arrival order (a map state), and walk the index as Flink
// walks its sorted map, emitting the same changelog: +I/-D without the row
// number column, in-place -U/+U per moved rank with it. Ties rank in arrival
// order.
//
// Deduplicate is ROW_NUMBER() = 1 ordered by a time attribute: first row on
// processing time (append-only), last row on processing time, first or last
// row on event time (updates as -U/+U, or +U only).
//
// WindowRank, WindowDeduplicate and WindowJoin work on the output of window
// table functions: per window (window_start, window_end) and key they
// buffer rows until the watermark reaches window_end - 1 ms, then emit the
// window's result (append-only) and drop its state; rows of a window that
// already fired are dropped as late.
//
// Output order: where Flink's order depends on its state's iteration order,
// Weir orders deterministically (join matches by their encoding, interval
// join caches by time). Functions of one subtask run on its goroutine; none
// holds a lock or starts a goroutine.
