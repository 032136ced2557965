package runtime

// BatchOf returns o's batch path: o itself if it implements BatchOutput,
// otherwise an adapter that calls o.ProcessElement for each record.
func BatchOf[T any](o Output[T]) BatchOutput[T] {
	if b, ok := o.(BatchOutput[T]); ok {
		return b
	}
	return perRecord[T]{o}
}

// HasBatchPath reports whether o implements BatchOutput itself, so that
// handing it runs of records saves calls (BatchOf would wrap any other
// Output in a per-record adapter, which saves nothing).
func HasBatchPath[T any](o Output[T]) bool {
	_, ok := o.(BatchOutput[T])
	return ok
}

// perRecord is the batch path of an Output without one.
type perRecord[T any] struct{ Output[T] }

func (p perRecord[T]) ProcessBatch(recs []Rec[T]) (int, error) {
	for i := range recs {
		if err := p.ProcessElement(recs[i].V, recs[i].TS); err != nil {
			return i + 1, err
		}
	}
	return len(recs), nil
}

// ProcessBatch buffers recs as ProcessElement would buffer each of them.
// A forward writer copies runs of records into its one buffer; the other
// partitionings route record by record.
func (w *RecordWriter[T]) ProcessBatch(recs []Rec[T]) (int, error) {
	if w.mode != Forward {
		for i := range recs {
			if err := w.ProcessElement(recs[i].V, recs[i].TS); err != nil {
				return i + 1, err
			}
		}
		return len(recs), nil
	}
	done := 0
	for done < len(recs) {
		b := w.bufs[0]
		k := min(len(recs)-done, w.maxBatch-len(b.Recs))
		b.Recs = append(b.Recs, recs[done:done+k]...)
		done += k
		if len(b.Recs) >= w.maxBatch {
			if err := w.flushOne(0); err != nil {
				return done, err
			}
		}
	}
	return len(recs), nil
}
