package rabbitmq

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/weirstream/weir"
)

// DefaultURL is the broker of a zero configuration.
const DefaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// ErrOptions is matched (errors.Is) by the errors of invalid options; it
// matches weir.ErrInvalidOption.
var ErrOptions = weir.MarkError(errors.New("rabbitmq: invalid options"), weir.ErrInvalidOption)

func optionError(option, reason string) error {
	return &weir.InvalidOptionError{Prefix: "rabbitmq", Option: option, Reason: reason, Kind: ErrOptions}
}

// Reconnection backoff: the delay doubles from minBackoff up to
// maxBackoff, with 20% jitter.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

func backoff(n int) time.Duration {
	d := minBackoff << min(n, 16)
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// dial connects with a 10s dial timeout and 10s heartbeats (so a dead
// peer is noticed within about 20s), unless config says otherwise.
func dial(url string, config amqp.Config) (*amqp.Connection, error) {
	if config.Dial == nil {
		config.Dial = amqp.DefaultDial(10 * time.Second)
	}
	if config.Heartbeat == 0 {
		config.Heartbeat = 10 * time.Second
	}
	c, err := amqp.DialConfig(url, config)
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: connecting to %s: %w", redact(url), err)
	}
	return c, nil
}

// redact hides the password of an AMQP URL.
func redact(url string) string {
	u, err := amqp.ParseURI(url)
	if err != nil {
		return "(unparsable URL)"
	}
	u.Password = "xxx"
	return u.String()
}

func discard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// counter returns a counter registered with reg, or the one registered
// before under the same name; a nil reg leaves it unregistered.
func counter(reg prometheus.Registerer, subsystem, name, help string) (prometheus.Counter, error) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "weir", Subsystem: subsystem, Name: name, Help: help})
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if old, ok := are.ExistingCollector.(prometheus.Counter); ok {
			return old, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: registering metric %s: %w", name, err)
	}
	return c, nil
}
