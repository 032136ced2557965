package nats

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
)

// ErrOptions is matched (errors.Is) by the errors of invalid options; it
// matches weir.ErrInvalidOption.
var ErrOptions = weir.MarkError(errors.New("nats: invalid options"), weir.ErrInvalidOption)

func optionError(option, reason string) error {
	return &weir.InvalidOptionError{Prefix: "nats", Option: option, Reason: reason, Kind: ErrOptions}
}

// Reconnection backoff: the delay doubles from minBackoff up to
// maxBackoff, with 20% jitter.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// backoff returns the delay before attempt n (0-based).
func backoff(n int) time.Duration {
	d := minBackoff << min(n, 16)
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// connect opens a connection to url that reconnects forever with
// exponential backoff; user options go last, so they may override.
// disconnects counts lost connections.
func connect(url, name string, log *slog.Logger, opts []natsgo.Option, disconnects prometheus.Counter) (*natsgo.Conn, error) {
	all := []natsgo.Option{
		natsgo.Name(name),
		natsgo.MaxReconnects(-1),
		natsgo.CustomReconnectDelay(func(attempts int) time.Duration { return backoff(attempts) }),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			disconnects.Inc()
			log.Warn("nats: disconnected", "name", name, "err", err)
		}),
		natsgo.ReconnectHandler(func(c *natsgo.Conn) {
			log.Info("nats: reconnected", "name", name, "server", c.ConnectedUrl())
		}),
	}
	nc, err := natsgo.Connect(url, append(all, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("nats: connecting to %s: %w", url, err)
	}
	return nc, nil
}

func discard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// counter returns a counter registered with reg, or the one registered
// before under the same name (so that sources or sinks of one job share
// it). A nil reg leaves c unregistered.
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
		return nil, fmt.Errorf("nats: registering metric %s: %w", name, err)
	}
	return c, nil
}
