package exec

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// accState is the accumulators of one group kept as a state value. On
// heap state (state.Store.KeepsObjects) they are live Go objects that a
// row changes in place, with no decode or encode; the state encodes
// itself (codec.Self) only when a snapshot is taken, in aggSet's
// encoding. A decoded accState (restored, or read from Pebble) holds that
// encoding (pending) until the operator loads it into accumulators. The
// layout is the same on both backends, so state moves between them.
type accState struct {
	rows    int64
	accs    []accumulator // nil while pending
	pending []byte
}

// AppendState implements codec.Self.
func (g *accState) AppendState(dst []byte) []byte {
	if g.accs == nil {
		return append(dst, g.pending...)
	}
	dst = binary.AppendVarint(dst, g.rows)
	for _, a := range g.accs {
		dst = a.appendTo(dst)
	}
	return dst
}

// DecodeState implements codec.Self.
func (g *accState) DecodeState(src []byte) error {
	g.accs, g.pending = nil, bytes.Clone(src)
	return nil
}

// newAccState returns an empty group state with accumulators of its own
// for s's calls; DISTINCT calls share the distinct view (and key prefix)
// of s's own accumulators.
func (s *aggSet) newAccState() *accState {
	g := &accState{accs: make([]accumulator, len(s.calls))}
	for i, k := range s.calls {
		a := k.fresh()
		if d, ok := a.(*distinctAcc); ok {
			own := s.own[i].(*distinctAcc)
			d.view, d.prefix = own.view, own.prefix
		}
		g.accs[i] = a
	}
	return g
}

// scratchState returns a state over s's own accumulators, emptied; for
// backends that encode a value on Update (state.Store.KeepsObjects is
// false), where the state need not outlive the row.
func (s *aggSet) scratchState() *accState {
	g := &accState{accs: s.own}
	for _, a := range s.own {
		a.reset()
	}
	return g
}

// bind makes s work on g's accumulators, loading them first if g holds
// an encoding (a restored state, or any state read from a backend that
// encodes): into s's own accumulators if scratch, else into new ones.
// unbind writes the row count back.
func (s *aggSet) bind(g *accState, scratch bool) error {
	if g.accs == nil {
		if scratch {
			g.accs = s.own
		} else {
			g.accs = s.newAccState().accs
		}
		s.bindAccs(g)
		if _, err := s.decodeBytes(g.pending); err != nil {
			return fmt.Errorf("sql/exec: accumulators in state: %w", err)
		}
		g.pending = nil
		g.rows = s.rows
		return nil
	}
	s.bindAccs(g)
	return nil
}

func (s *aggSet) bindAccs(g *accState) {
	s.rows = g.rows
	for i, k := range s.calls {
		k.acc = g.accs[i]
	}
}

func (s *aggSet) unbind(g *accState) { g.rows = s.rows }

// fresh returns a new, empty accumulator of the call (without a distinct
// view).
func (k *call) fresh() accumulator {
	a := k.newAcc()
	a.reset()
	return a
}
