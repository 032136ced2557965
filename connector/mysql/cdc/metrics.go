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
	xaPrepared  prometheus.Gauge
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
		xaPrepared: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "weir", Subsystem: "mysql_cdc", Name: "xa_prepared",
			Help: "XA transactions prepared, not decided yet, whose changes the source holds (in the position last emitted).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	register := func(c prometheus.Collector, set func(prometheus.Collector) bool) error {
		err := reg.Register(c)
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if set(are.ExistingCollector) {
				return nil
			}
			return fmt.Errorf("another collector of another type is registered under its name")
		}
		return err
	}
	for _, e := range []struct {
		c   prometheus.Collector
		set func(prometheus.Collector) bool
	}{
		{m.events, func(c prometheus.Collector) (ok bool) { m.events, ok = c.(*prometheus.CounterVec); return ok }},
		{m.lag, func(c prometheus.Collector) (ok bool) { m.lag, ok = c.(prometheus.Gauge); return ok }},
		{m.reconnects, func(c prometheus.Collector) (ok bool) { m.reconnects, ok = c.(prometheus.Counter); return ok }},
		{m.deadLetters, func(c prometheus.Collector) (ok bool) { m.deadLetters, ok = c.(prometheus.Counter); return ok }},
		{m.xaPrepared, func(c prometheus.Collector) (ok bool) { m.xaPrepared, ok = c.(prometheus.Gauge); return ok }},
	} {
		if err := register(e.c, e.set); err != nil {
			return nil, fmt.Errorf("mysql cdc: registering metrics: %w", err)
		}
	}
	return m, nil
}
