package cdc

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the source's Prometheus metrics. Sources registered in one
// registry share them (the first registered wins), as the Kafka
// connector's do.
type metrics struct {
	events      *prometheus.CounterVec
	lag         prometheus.Gauge
	reconnects  prometheus.Counter
	deadLetters prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "mysql_cdc", Name: "events_total",
			Help: "Row changes emitted, by operation (r snapshot read, c insert, u update, d delete).",
		}, []string{"op"}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "weir", Subsystem: "mysql_cdc", Name: "lag_seconds",
			Help: "Seconds between a binlog event's timestamp and its emission, for the last event emitted.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "mysql_cdc", Name: "reconnects_total",
			Help: "Connections to the server lost and re-established.",
		}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "mysql_cdc", Name: "dead_letters_total",
			Help: "Rows the source could not decode.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	register := func(c prometheus.Collector, set func(prometheus.Collector)) error {
		err := reg.Register(c)
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			set(are.ExistingCollector)
			return nil
		}
		return err
	}
	for _, e := range []struct {
		c   prometheus.Collector
		set func(prometheus.Collector)
	}{
		{m.events, func(c prometheus.Collector) { m.events = c.(*prometheus.CounterVec) }},
		{m.lag, func(c prometheus.Collector) { m.lag = c.(prometheus.Gauge) }},
		{m.reconnects, func(c prometheus.Collector) { m.reconnects = c.(prometheus.Counter) }},
		{m.deadLetters, func(c prometheus.Collector) { m.deadLetters = c.(prometheus.Counter) }},
	} {
		if err := register(e.c, e.set); err != nil {
			return nil, fmt.Errorf("mysql cdc: registering metrics: %w", err)
		}
	}
	return m, nil
}
