// Package weir is a stateful stream processor with Flink's semantics: a typed
// DataStream API over one Go process, with event time and watermarks, keyed
// state and timers, and windows.
//
// A job is built on an Environment: sources produce a Stream[T]; Map,
// FlatMap, Filter and Process transform it; KeyBy partitions it into a
// KeyedStream[K, T] whose functions get per-key state and timers; windows
// group it by time or count; sinks consume it. Execute runs the job until its
// bounded sources end, it fails, or its context is canceled.
//
//	env := weir.NewEnvironment(weir.Options{Parallelism: 4})
//	words := weir.FromSlice(env, []string{"a", "b", "a"})
//	counts := weir.Reduce(weir.KeyBy(weir.Map(words, func(w string) Count { return Count{w, 1} }),
//		func(c Count) string { return c.Word }), func(a, b Count) (Count, error) {
//		return Count{a.Word, a.N + b.N}, nil
//	})
//	counts.SinkTo(print.New[Count](os.Stdout))
//	err := env.Execute(ctx)
//
// Go methods cannot introduce type parameters, so transformations that
// change the element type are functions (weir.Map(s, f)) while the others are
// methods (s.Filter(f)).
//
// Runtime model: every operator runs with a parallelism; operators connected
// one-to-one with equal parallelism are chained into one goroutine per
// subtask and call each other directly. Other connections are bounded,
// batched exchanges; a full exchange blocks its producer (backpressure).
// Timestamps are milliseconds since the Unix epoch.
//
// Async I/O: OrderedWait and UnorderedWait call an AsyncFunction (a
// lookup in a database or service) for every record with up to
// AsyncOptions.Capacity requests in flight per subtask, as Flink's
// AsyncDataStream. The requests run on goroutines of the operator; their
// results are emitted on the subtask's goroutine (through the task's
// mailbox), in input order or as they complete but never across a
// watermark. A full operator backpressures its input. Records in flight at
// a checkpoint are stored in it and requested again after a restore, so
// with an exactly-once sink each result is in the output once. Timeouts
// and retries follow Flink's; docs/async-io.md has the details.
//
// Sinks: a SinkWriter's blocking calls (Write, Flush, and a
// TwoPhaseCommitWriter's PreCommit and Commit) take the task's context
// first; it is done when the job is cancelled or fails, so a sink waiting
// on an external system never holds the job up.
//
// Errors carry their package's prefix and wrap their causes. The kinds a
// caller can act on are sentinels with helpers (errors.go): IsCorruption,
// IsRetriable, IsInvalidOption, IsDataLoss, IsAuthentication, IsBadRecord,
// IsCheckpointFallback. Option errors of the engine and of the connectors
// are InvalidOptionErrors worded "<pkg>: option <Name>: <reason>".
package weir
