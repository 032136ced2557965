package weir

import (
	"math/rand/v2"
	"time"
)

// RestartStrategy decides whether a failed job restarts (from its latest
// completed checkpoint, in the same process) and after what delay, as
// Flink's restart strategies do. Implementations are called from one
// goroutine.
type RestartStrategy interface {
	// Restart is asked after each failure at time now; it returns whether
	// to restart and how long to wait first.
	Restart(now time.Time) (bool, time.Duration)
}

// NoRestart never restarts: the first failure ends the job (the default).
type NoRestart struct{}

// Restart returns false.
func (NoRestart) Restart(time.Time) (bool, time.Duration) { return false, 0 }

// FixedDelayRestart restarts up to Attempts times, waiting Delay each time.
type FixedDelayRestart struct {
	Attempts int
	Delay    time.Duration
	used     int
}

// Restart allows the next attempt while some are left.
func (f *FixedDelayRestart) Restart(time.Time) (bool, time.Duration) {
	if f.used >= f.Attempts {
		return false, 0
	}
	f.used++
	return true, f.Delay
}

// ExponentialDelayRestart restarts (without limit unless MaxAttempts is
// set), waiting Initial, then Multiplier times longer after each failure
// up to Max, with ±Jitter (a fraction, e.g. 0.1) of randomness; after
// ResetAfter without failure the delay starts from Initial again (Flink's
// exponential-delay strategy).
type ExponentialDelayRestart struct {
	Initial, Max, ResetAfter time.Duration
	Multiplier, Jitter       float64
	// MaxAttempts, if positive, is how many restarts are allowed since the
	// delay last started from Initial (Flink's
	// attempts-before-reset-backoff); 0 allows any number.
	MaxAttempts int
	// Seed makes the jitter reproducible (0: a fixed default).
	Seed uint64

	current  time.Duration
	last     time.Time
	attempts int
	rng      *rand.Rand
}

// Restart allows a restart (unless MaxAttempts were used since the last
// reset) and returns the next delay.
func (e *ExponentialDelayRestart) Restart(now time.Time) (bool, time.Duration) {
	if e.rng == nil {
		e.rng = rand.New(rand.NewPCG(e.Seed, 0x9e3779b97f4a7c15))
	}
	initial, maxd, mult := e.Initial, e.Max, e.Multiplier
	if initial <= 0 {
		initial = time.Second
	}
	if maxd <= 0 {
		maxd = time.Minute
	}
	if mult < 1 {
		mult = 2
	}
	reset := e.ResetAfter
	if reset <= 0 {
		reset = time.Hour
	}
	switch {
	case e.current == 0 || (!e.last.IsZero() && now.Sub(e.last) >= reset):
		e.current = initial
		e.attempts = 0
	default:
		e.current = min(time.Duration(float64(e.current)*mult), maxd)
	}
	e.last = now
	if e.MaxAttempts > 0 && e.attempts >= e.MaxAttempts {
		return false, 0
	}
	e.attempts++
	d := e.current
	if e.Jitter > 0 {
		d += time.Duration((e.rng.Float64()*2 - 1) * e.Jitter * float64(d))
	}
	return true, max(d, 0)
}

// FailureRateRestart restarts unless more than MaxFailures failures
// happened within Interval, waiting Delay before each restart.
type FailureRateRestart struct {
	MaxFailures int
	Interval    time.Duration
	Delay       time.Duration
	failures    []time.Time
}

// Restart counts the failure and allows a restart while the rate is below
// the limit.
func (f *FailureRateRestart) Restart(now time.Time) (bool, time.Duration) {
	kept := f.failures[:0]
	for _, t := range f.failures {
		if now.Sub(t) < f.Interval {
			kept = append(kept, t)
		}
	}
	f.failures = append(kept, now)
	if len(f.failures) > f.MaxFailures {
		return false, 0
	}
	return true, f.Delay
}
