// Package runtime executes subtasks: the loop that owns a chain of operators,
// the bounded batched exchanges between subtasks, watermark propagation and
// processing-time timers.
//
// Concurrency contract: one goroutine runs one subtask (a Task). Everything
// reachable from a task's operators — their state, timers and output buffers —
// is touched only by that goroutine, so nothing on the per-record path takes a
// lock. Subtasks talk only through Channels: bounded Go channels of Envelopes,
// each carrying a batch of records or one control event (watermark, watermark
// status, end of input). A full channel blocks its producer, which is how
// backpressure travels back to the sources; nothing is ever dropped.
//
// Ordering contract: on a channel, control events stay in order with the
// records around them. A RecordWriter flushes its buffered records before it
// sends any control event, and a Task flushes all its outputs before it blocks
// waiting for input, which bounds latency without a flush timer.
package runtime
