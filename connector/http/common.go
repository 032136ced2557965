package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	nethttp "net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
)

// ErrOptions is matched (errors.Is) by the errors of invalid options,
// which are weir.InvalidOptionErrors worded "http: option URL: must be
// set". It matches weir.ErrInvalidOption.
var ErrOptions = weir.MarkError(errors.New("http: invalid options"), weir.ErrInvalidOption)

// optionError is the error of an invalid option.
func optionError(option, reason string) error {
	return &weir.InvalidOptionError{Prefix: "http", Option: option, Reason: reason, Kind: ErrOptions}
}

// Backoff is an exponential backoff between attempts: Initial, doubled
// after every failed attempt up to Max, each delay drawn uniformly from
// its upper half (jitter). The zero value means 100ms up to 10s.
type Backoff struct {
	Initial, Max time.Duration
}

// withDefaults fills the zero fields.
func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = 100 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 10 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	return b
}

// Delay returns the wait before attempt n+1 after n failed attempts
// (n >= 1).
func (b Backoff) Delay(n int) time.Duration {
	b = b.withDefaults()
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// retryAfter reads a Retry-After header in seconds (the HTTP-date form is
// not used by the servers this package talks to); 0 if absent or bad.
func retryAfter(h nethttp.Header) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || s <= 0 {
		return 0
	}
	return min(time.Duration(s)*time.Second, time.Minute)
}

// retriableStatus reports whether a response status is worth retrying:
// 408, 429 and every 5xx.
func retriableStatus(code int) bool {
	return code == nethttp.StatusRequestTimeout || code == nethttp.StatusTooManyRequests || code >= 500
}

// splitBody calls fn with every record of a JSON body, in order: the
// elements of a top-level JSON array; the body itself if it is one JSON
// value of another kind (an object spread over several lines is one
// record); otherwise every non-blank line (JSON lines, a trailing "\r"
// removed). unit is "element" or "line" and n its 1-based number. fn's
// error stops the walk and is returned.
func splitBody(body []byte, fn func(unit string, n int, raw []byte) error) error {
	trimmed := bytes.TrimLeft(body, jsonSpace)
	if len(trimmed) == 0 {
		return nil
	}
	if json.Valid(trimmed) {
		if trimmed[0] != '[' {
			return fn("line", 1, bytes.TrimRight(trimmed, jsonSpace))
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			return fmt.Errorf("http: JSON array: %w", err)
		}
		for i, e := range elems {
			if err := fn("element", i+1, e); err != nil {
				return err
			}
		}
		return nil
	}
	n := 0
	for len(body) > 0 {
		n++
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.Trim(line, jsonSpace)) == 0 {
			continue
		}
		if err := fn("line", n, line); err != nil {
			return err
		}
	}
	return nil
}

// jsonSpace is the whitespace JSON allows around values.
const jsonSpace = " \t\n\r"

// rejection returns the field and the reason of a deserializer's error
// for a dead letter: a kafka.DecodeError's own, else the error's text.
func rejection(err error) (field, reason string) {
	var de *kafka.DecodeError
	if errors.As(err, &de) {
		if de.Field == "" {
			return "", de.Error()
		}
		return de.Field, de.Format + ": " + de.Reason
	}
	return "", err.Error()
}

// registerCounterVec registers c with reg (if set) and returns the
// collector to use: c, or the one registered before under the same name.
func registerCounterVec(reg prometheus.Registerer, c *prometheus.CounterVec) (*prometheus.CounterVec, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if ex, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
			return ex, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("http: registering metrics: %w", err)
	}
	return c, nil
}

// clip shortens s to n bytes for error messages.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
