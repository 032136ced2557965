package runtime

// Aligner decides, for one task, when a checkpoint barrier has arrived on
// every input channel. It is a pure state machine over channel indexes: the
// gate tells it what arrived and asks which channels are blocked.
//
// Exactly-once (aligned): a channel that delivered barrier n is blocked
// until barrier n arrived on every live channel, so no record after the
// barrier is processed before the snapshot. At-least-once: nothing is
// blocked; the snapshot is taken when the last barrier arrives, and records
// that came after earlier barriers are in it (and will be replayed after a
// restore: duplicates, never loss).
//
// A barrier of a newer checkpoint while aligning an older one aborts the
// older (its barriers can no longer all arrive in order) and starts the
// newer. A finished channel counts as aligned.
type Aligner struct {
	exactlyOnce bool
	id          int64
	seen        []bool
	count       int
	finished    []bool
	nfinished   int
	done        int64 // newest checkpoint taken or aborted
}

// NewAligner returns an aligner over n channels.
func NewAligner(n int, exactlyOnce bool) *Aligner {
	return &Aligner{exactlyOnce: exactlyOnce, seen: make([]bool, n), finished: make([]bool, n)}
}

// AlignResult is what a barrier or end of input caused.
type AlignResult struct {
	// Snapshot is the checkpoint to take now (0: none).
	Snapshot int64
	// Aborted is a checkpoint given up because a newer one overtook it.
	Aborted int64
}

// Blocked reports whether channel ch must not be read now.
func (a *Aligner) Blocked(ch int) bool {
	return a.exactlyOnce && a.id != 0 && a.seen[ch]
}

// Aligning returns the checkpoint being aligned (0: none).
func (a *Aligner) Aligning() int64 { return a.id }

// OnBarrier handles barrier id from channel ch.
func (a *Aligner) OnBarrier(ch int, id int64) AlignResult {
	var r AlignResult
	switch {
	case a.id == 0 && id <= a.lastDone():
		return r // stale barrier of a checkpoint already taken or aborted
	case a.id != 0 && id < a.id:
		return r
	case a.id != 0 && id > a.id:
		r.Aborted = a.id
		a.reset()
	}
	if a.id == 0 {
		a.id = id
	}
	if !a.seen[ch] {
		a.seen[ch] = true
		a.count++
	}
	return a.check(r)
}

// OnEndOfInput handles the end of channel ch.
func (a *Aligner) OnEndOfInput(ch int) AlignResult {
	if !a.finished[ch] {
		a.finished[ch] = true
		a.nfinished++
	}
	return a.check(AlignResult{})
}

func (a *Aligner) check(r AlignResult) AlignResult {
	if a.id == 0 {
		return r
	}
	need := 0
	for i := range a.seen {
		if !a.finished[i] && !a.seen[i] {
			need++
		}
	}
	if need == 0 {
		r.Snapshot = a.id
		a.done = a.id
		a.reset()
	}
	return r
}

func (a *Aligner) lastDone() int64 { return a.done }

func (a *Aligner) reset() {
	if a.id > a.done {
		a.done = a.id
	}
	a.id = 0
	a.count = 0
	clear(a.seen)
}
