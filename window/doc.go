// Package window holds the building blocks of Weir's windowed streams, with
// Apache Flink's semantics: windows (TimeWindow, GlobalWindow), window
// assigners (tumbling, sliding, session, global), triggers that decide when a
// window's contents are emitted or purged, and evictors that remove elements
// from a window before or after its function runs.
//
// The window operator itself lives in package weir (weir.Window and the
// weir.Window* functions); this package holds only pure parts and the
// contracts the operator drives:
//
//   - An Assigner maps a record (and its timestamp) to the windows it belongs
//     to. A MergingAssigner (sessions) also merges overlapping windows.
//   - A Trigger is called for every element added to a window, for every timer
//     it registered, when windows merge, and when a window is purged for good.
//     It answers with a Result: Continue, Fire, Purge or FireAndPurge.
//   - An Evictor keeps a subset of a window's elements; using one makes the
//     operator keep every element of a window (no incremental aggregation).
//
// Time is in milliseconds throughout, as in the rest of Weir. A TimeWindow
// covers [Start, End): a record with timestamp End belongs to the next
// window, and results of a window carry the timestamp End-1 (MaxTimestamp).
//
// Concurrency: assigners, triggers and evictors are shared by all subtasks of
// a window operator and must not keep mutable state of their own; per-window
// state lives behind the TriggerContext, owned by the calling subtask.
package window
