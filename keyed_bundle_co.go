package weir

import "github.com/weirstream/weir/internal/runtime"

// Bundles of two-input keyed functions (CoProcessKeyed): a
// KeyedCoProcessFunction that implements BundleFlusher (Flink's
// MiniBatchStreamingJoinOperator, a two-input bundle operator) is flushed
// as a one-input keyed function is (see BundleFlusher): before a
// checkpoint's barrier, on the final watermark and at the end of input,
// and before a watermark it asks for when it implements WatermarkFlusher;
// one that implements WatermarkHolder holds watermarks back while it holds
// records (see WatermarkHolder).
// The watermark a two-input operator sees is the least of its inputs'.

// flushBundle calls the function's FlushBundle, if it has one.
func (p *keyedCoProcessOp[K, A, B, O]) flushBundle() error {
	if p.bundle == nil {
		return nil
	}
	c := &p.c
	c.ts, c.err, c.domain = runtime.NoTimestamp, nil, ProcessingTime
	if err := p.bundle.FlushBundle(c); err != nil {
		return opError(p.ctx, err)
	}
	return c.err
}

// ProcessWatermark flushes the function's bundle before the final
// watermark (or one it asks for), then fires timers and forwards wm.
func (p *keyedCoProcessOp[K, A, B, O]) ProcessWatermark(wm int64) error {
	if p.bundle != nil {
		w, ok := p.fn.(WatermarkFlusher)
		// Asked about the final watermark too; flushed whatever it answers.
		if ok && w.FlushesOnWatermark(wm) || wm == runtime.MaxWatermark {
			p.hold.held = false
			if err := p.flushBundle(); err != nil {
				return err
			}
		} else if p.hold.hold(wm) {
			return nil
		}
	}
	return p.keyedTwoInput.ProcessWatermark(wm)
}

// PrepareSnapshotPreBarrier flushes the function's bundle before the
// barrier (runtime.PreBarrierHandler).
// A watermark held back goes out after the flush, before the barrier.
func (p *keyedCoProcessOp[K, A, B, O]) PrepareSnapshotPreBarrier(int64) error {
	if err := p.flushBundle(); err != nil {
		return err
	}
	return p.releaseWatermark()
}

// Finish flushes the function's bundle at the end of input, then lets a
// watermark held back go.
func (p *keyedCoProcessOp[K, A, B, O]) Finish() error {
	if err := p.flushBundle(); err != nil {
		return err
	}
	return p.releaseWatermark()
}

// releaseWatermark lets a held watermark go once the function holds no
// record (WatermarkHolder): event-time timers fire, then it is forwarded.
func (p *keyedCoProcessOp[K, A, B, O]) releaseWatermark() error {
	wm, ok := p.hold.release()
	if !ok {
		return nil
	}
	return p.keyedTwoInput.ProcessWatermark(wm)
}
