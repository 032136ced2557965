package nexmark

import (
	"fmt"
	"math/rand/v2"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
)

// WatermarkDelay is the reference's watermark: the event time minus 4 s.
const WatermarkDelay = 4000

// Watermarks returns the reference's watermark strategy: the highest
// dateTime seen minus 4 seconds (WATERMARK FOR dateTime AS dateTime -
// INTERVAL '4' SECOND), on the timestamps the source attaches.
func Watermarks() weir.WatermarkStrategy[Event] {
	return weir.ForGenerator(func() weir.WatermarkGenerator[Event] {
		return &delayWM{max: weir.MinWatermark}
	})
}

type delayWM struct{ max int64 }

func (d *delayWM) OnEvent(_ Event, ts int64) {
	if ts > d.max {
		d.max = ts
	}
}

func (d *delayWM) Watermark() int64 {
	if d.max == weir.MinWatermark {
		return weir.MinWatermark
	}
	return d.max - WatermarkDelay
}

// NewSource returns the generator as a Weir source with parallel splits:
// subtask i of p generates the event numbers i, i+p, i+2p, ... (a disjoint
// subset), each with the timestamp of its number, so that the events and
// their timestamps do not depend on the parallelism. Bounded if
// cfg.Events > 0. Checkpoints store each subtask's next event number.
func NewSource(cfg Config) (*datagen.Source[Event], error) { return newSource(cfg, nil) }

// newSource returns the generator source; with em, its generators count
// their events and record when they emit them.
func newSource(cfg Config, em *emissions) (*datagen.Source[Event], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return datagen.NewFactory(func(int, *rand.Rand) func(int64) Event {
		g, err := NewGenerator(cfg)
		if err != nil {
			return nil // the source reports a missing function
		}
		if em != nil {
			return em.generator(g.Event, cfg.Timestamp)
		}
		return g.Event
	}, datagen.Options{Count: cfg.Events, Seed: cfg.Seed, Timestamp: cfg.Timestamp}), nil
}

// Events adds the generator to env as a source with the reference's
// watermarks.
func Events(env *weir.Environment, cfg Config) (weir.Stream[Event], error) {
	src, err := NewSource(cfg)
	if err != nil {
		return weir.Stream[Event]{}, err
	}
	return weir.FromSource(env, src, Watermarks(), "Nexmark"), nil
}

// FromEvents adds a source of the given events (for example read from
// files), spread over the subtasks like the generator, with the
// reference's watermarks. The events should be in dateTime order.
func FromEvents(env *weir.Environment, events []Event) (weir.Stream[Event], error) {
	if len(events) == 0 {
		return weir.Stream[Event]{}, fmt.Errorf("nexmark: no events")
	}
	src := datagen.New(func(n int64) Event { return events[n] }, datagen.Options{
		Count:     int64(len(events)),
		Timestamp: func(n int64) int64 { return events[n].Timestamp() },
	})
	return weir.FromSource(env, src, Watermarks(), "NexmarkEvents"), nil
}
