package weir

import (
	"bytes"
	"fmt"
	"time"

	"github.com/weirstream/weir/internal/runtime"
)

// DeadLetter is a record that could not be processed: a line that does not
// decode, a message whose payload is malformed. Connectors never drop such a
// record silently: under the default ErrorPolicy it fails the job, under
// DeadLetterTo it is emitted, as a DeadLetter, to a side output that the
// user reads with SideOutput.
type DeadLetter struct {
	// Source says where the record came from, precisely enough to find it
	// again: "file data/x.jsonl line 17", "topic t partition 3 offset 99".
	Source string
	// Field is the field at fault, if known ("" otherwise).
	Field string
	// Reason is the error text.
	Reason string
	// Raw holds the record's raw bytes. It is a copy owned by the
	// DeadLetter: connectors may reuse their read buffers.
	Raw []byte
	// Time is the processing time at which the record was rejected.
	Time time.Time
}

// String formats the dead letter for logs: where, which field, why.
func (d DeadLetter) String() string {
	var b bytes.Buffer
	b.WriteString(d.Source)
	if d.Field != "" {
		fmt.Fprintf(&b, ": field %q", d.Field)
	}
	if d.Reason != "" {
		b.WriteString(": ")
		b.WriteString(d.Reason)
	}
	return b.String()
}

// BadRecordError is the error of a rejected record under the fail policy.
// Use errors.As to read the DeadLetter it carries.
type BadRecordError struct {
	DeadLetter DeadLetter
}

// Error names the record's source, field and reason.
func (e *BadRecordError) Error() string { return e.DeadLetter.String() }

// Unwrap returns ErrBadRecord.
func (e *BadRecordError) Unwrap() error { return ErrBadRecord }

// ErrorPolicy says what a connector or function does with a record it
// cannot process. The zero value fails the job with an error naming the
// record (a BadRecordError); DeadLetterTo sends the record to a dead-letter
// side output instead and lets the job continue.
type ErrorPolicy struct {
	tag OutputTag[DeadLetter]
}

// FailOnError is the default policy: a bad record fails the job.
func FailOnError() ErrorPolicy { return ErrorPolicy{} }

// DeadLetterTo sends bad records to the side output tag of the operator
// that rejects them (for a connector, its source operator). Read them with
// SideOutput(stream, tag). If no stream reads that side output, a bad record
// fails the job rather than vanish.
func DeadLetterTo(tag OutputTag[DeadLetter]) ErrorPolicy { return ErrorPolicy{tag: tag} }

// DeadLetters returns the dead-letter tag and true under DeadLetterTo.
func (p ErrorPolicy) DeadLetters() (OutputTag[DeadLetter], bool) {
	return p.tag, p.tag.id != ""
}

// String describes the policy.
func (p ErrorPolicy) String() string {
	if p.tag.id == "" {
		return "fail"
	}
	return fmt.Sprintf("dead-letter to %q", p.tag.id)
}

// RejectFromSource handles a record that a source reader could not decode,
// under policy p. With the fail policy it returns a *BadRecordError, which
// the reader returns from Poll to fail the job. With DeadLetterTo it copies
// d.Raw, stamps d.Time (if zero) with the subtask's processing time, emits d
// to the source operator's side output and returns nil; if no stream reads
// that side output it returns an error instead.
func RejectFromSource[T any](out *SourceOutput[T], p ErrorPolicy, d DeadLetter) error {
	d.Raw = bytes.Clone(d.Raw)
	if d.Time.IsZero() && out.op != nil && out.op.ctx != nil {
		d.Time = time.UnixMilli(out.op.ctx.Time.Now())
	}
	if p.tag.id == "" {
		return &BadRecordError{DeadLetter: d}
	}
	if !EmitSide(out, p.tag, d, runtime.NoTimestamp) {
		return fmt.Errorf("%w: %s (no stream reads dead-letter side output %q)", ErrBadRecord, d, p.tag.id)
	}
	return nil
}

// Reject handles a record that a ProcessFunction (or any function given a
// Context) could not process, under policy p, as RejectFromSource does for
// sources: an error under the fail policy, otherwise d is emitted to the
// operator's dead-letter side output with the current record's timestamp.
// Return the error from ProcessElement.
func Reject(ctx SideOutputContext, p ErrorPolicy, d DeadLetter) error {
	d.Raw = bytes.Clone(d.Raw)
	if d.Time.IsZero() {
		d.Time = time.Now()
		if c, ok := ctx.(interface{ CurrentProcessingTime() int64 }); ok {
			d.Time = time.UnixMilli(c.CurrentProcessingTime())
		}
	}
	if p.tag.id == "" {
		return &BadRecordError{DeadLetter: d}
	}
	o, ts := ctx.sideOutput(p.tag.id)
	if o == nil {
		return fmt.Errorf("%w: %s (no stream reads dead-letter side output %q)", ErrBadRecord, d, p.tag.id)
	}
	so, ok := o.(runtime.Output[DeadLetter])
	if !ok {
		return fmt.Errorf("weir: side output %q does not carry DeadLetter records", p.tag.id)
	}
	return so.ProcessElement(d, ts)
}
