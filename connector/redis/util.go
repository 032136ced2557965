package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
)

// Backoff bounds of reconnect and retry loops.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// backoff is an exponential delay between attempts, reset by success.
type backoff struct{ cur time.Duration }

// wait sleeps for the next delay or until ctx is done.
func (b *backoff) wait(ctx context.Context) error {
	if b.cur == 0 {
		b.cur = minBackoff
	} else {
		b.cur = min(2*b.cur, maxBackoff)
	}
	t := time.NewTimer(b.cur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (b *backoff) reset() { b.cur = 0 }

// isRecordError reports whether err is Redis refusing a command because
// of the command itself (a wrong type, a bad id): retrying cannot help.
// Network errors and transient server states (loading, read-only replica,
// cluster down, too many clients) are retried instead.
func isRecordError(err error) bool {
	var re goredis.Error
	if !errors.As(err, &re) {
		return false
	}
	return !(goredis.IsLoadingError(err) || goredis.IsReadOnlyError(err) || goredis.IsClusterDownError(err) ||
		goredis.IsTryAgainError(err) || goredis.IsMasterDownError(err) || goredis.IsMaxClientsError(err))
}

// counter registers a counter with reg, or shares the one registered
// before under the same name, so that several connectors of one job can
// use one registry. A nil reg gives an unregistered counter.
func counter(reg prometheus.Registerer, subsystem, name, help string) (prometheus.Counter, error) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "weir", Subsystem: subsystem, Name: name, Help: help})
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if ex, ok := are.ExistingCollector.(prometheus.Counter); ok {
			return ex, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("redis: registering metric %s: %w", name, err)
	}
	return c, nil
}

// streamID is a parsed Redis stream entry id ms-seq.
type streamID struct{ ms, seq uint64 }

func parseID(s string) (streamID, error) {
	a, b, ok := strings.Cut(s, "-")
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("redis: bad stream entry id %q", s)
	}
	return streamID{ms, seq}, nil
}

func (a streamID) less(b streamID) bool {
	return a.ms < b.ms || a.ms == b.ms && a.seq < b.seq
}

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}
