package runtime

import (
	"time"
)

// Gate is the input side of a subtask: the channels from every producing
// subtask of every input, read fairly in round-robin order.
type Gate struct {
	chans  []*inChannel
	notify chan struct{}
	rr     int
	live   int
	// aligner, if set, blocks channels during barrier alignment.
	aligner *Aligner
}

type inChannel struct {
	ch       *Channel
	input    int
	finished bool
	wm       int64
	idle     bool
}

// NewGate returns an empty gate.
func NewGate() *Gate {
	return &Gate{notify: make(chan struct{}, 1)}
}

// NewChannel creates a channel that delivers to logical input idx of g.
func (g *Gate) NewChannel(input, capacity int) *Channel {
	ch := newChannel(capacity, g.notify)
	g.chans = append(g.chans, &inChannel{ch: ch, input: input, wm: MinWatermark})
	g.live++
	return ch
}

// Len is the number of channels of g.
func (g *Gate) Len() int { return len(g.chans) }

// poll returns the next envelope if one is ready, without blocking.
func (g *Gate) poll() (int, Envelope, bool) {
	n := len(g.chans)
	for i := 0; i < n; i++ {
		j := g.rr + i
		if j >= n {
			j -= n
		}
		c := g.chans[j]
		if c.finished || (g.aligner != nil && g.aligner.Blocked(j)) {
			continue
		}
		select {
		case e := <-c.ch.C:
			c.ch.received()
			g.rr = j + 1
			if g.rr == n {
				g.rr = 0
			}
			return j, e, true
		default:
		}
	}
	return 0, Envelope{}, false
}

// wait blocks until some channel may have data, the deadline passes (if
// timer is not nil), mail or an operator's posted action (posted, if not
// nil) is there, or done is closed. It reports false when done closed.
func (g *Gate) wait(done <-chan struct{}, timer <-chan time.Time, mail <-chan Mail, posted <-chan struct{}) (Mail, bool) {
	select {
	case <-g.notify:
		return Mail{}, true
	case <-posted:
		return Mail{}, true
	case <-timer:
		return Mail{}, true
	case m := <-mail:
		return m, true
	case <-done:
		return Mail{}, false
	}
}

// valve combines the watermarks of a gate's channels: the minimum over
// channels that are neither idle nor finished.
func (g *Gate) combinedWatermark() (wm int64, allIdle bool) {
	wm = MaxWatermark
	active := 0
	for _, c := range g.chans {
		if c.idle && !c.finished {
			continue
		}
		active++
		if c.wm < wm {
			wm = c.wm
		}
	}
	return wm, active == 0
}

// maxWatermark is the highest watermark of the channels that did not
// finish (MinWatermark when there is none).
func (g *Gate) maxWatermark() int64 {
	wm := MinWatermark
	for _, c := range g.chans {
		if !c.finished && c.wm > wm {
			wm = c.wm
		}
	}
	return wm
}
