// Package server hosts Weir jobs in a long-running process and serves a
// REST API over them in the shape of Apache Flink's (docs/server.md).
//
// A Server keeps a durable registry of its jobs in a directory: one
// record per job (DIR/jobs/<id>/job.json, written atomically: temporary
// file, fsync, rename, fsync of the directory; format in
// docs/format/server-registry.md), beside that job's checkpoints and local state.
// Every job runs with checkpointing and restores "latest", so a server
// restarted after a crash (even SIGKILL) resumes each running job from
// its latest completed checkpoint with the engine's exactly-once rules; a
// graceful Shutdown stops every job with a savepoint and records it as
// SUSPENDED, and the next server resumes it from that savepoint. Jobs are
// SQL scripts (one INSERT INTO or statement set, with its DDL) or Go jobs
// registered by name in Options.GoJobs.
//
// The server also serves Flink's SQL Gateway REST API (gateway.go): SQL
// sessions with their own catalog, one statement per call, results in
// pages. A SELECT runs as a preview job in the process whose rows go into
// a bounded buffer (the job backpressures when the client does not
// fetch); an INSERT becomes a job of the registry whose script carries
// the session's DDL. Idle sessions expire, and sessions and running
// queries are bounded (Options.SQL).
//
// Security: a bearer token (Options.Token) guards every mutating call,
// and every call when the server listens on a non-loopback address, which
// New refuses without both a token and TLS. Request bodies are bounded,
// clients are rate limited per address, and savepoint targets must lie in
// the configured roots.
//
// Concurrency: a Server's methods and its Handler are safe for concurrent
// use. Every goroutine it starts (one watcher per job run, one per
// savepoint, stop or rescale request, one per SQL preview job, the
// reaper of idle SQL sessions) belongs to the server's WaitGroup,
// which Shutdown and Close wait for. Each job's fields are guarded by its
// own mutex; the server's mutex guards the job table and is never held
// while a job's is taken for long.
package server
