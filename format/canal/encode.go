package canal

import (
	"fmt"

	wjson "github.com/weirstream/weir/format/json"
	"github.com/weirstream/weir/row"
)

// Encoder encodes rows of a schema as Canal JSON messages, as Flink's
// CanalJsonSerializationSchema: each row is one message
// {"data":[row],"type":T} where T is "INSERT" for +I and +U and "DELETE"
// for -U and -D (Flink does not combine an update's two rows into one
// "UPDATE" message). The row image is written as package json writes rows.
//
// Encoders are not safe for concurrent use: give each subtask its own.
type Encoder struct {
	img *wjson.Encoder
}

// NewEncoder returns an encoder of rows with schema s; only o.JSON is
// used (Database and Table filter decoding).
func NewEncoder(s row.Schema, o Options) (*Encoder, error) {
	e, err := wjson.NewEncoder(s, o.JSON)
	if err != nil {
		return nil, fmt.Errorf("canal: %w", err)
	}
	return &Encoder{img: e}, nil
}

// Append appends the message of r to dst. Errors are *Error.
func (e *Encoder) Append(dst []byte, r row.Row) ([]byte, error) {
	var typ string
	switch r.Kind {
	case row.Insert, row.UpdateAfter:
		typ = "INSERT"
	case row.UpdateBefore, row.Delete:
		typ = "DELETE"
	default:
		return dst, &Error{Reason: fmt.Sprintf("unknown row kind %d", r.Kind)}
	}
	start := len(dst)
	dst = append(dst, `{"data":[`...)
	dst, err := e.img.Append(dst, r)
	if err != nil {
		return dst[:start], &Error{Field: "data[0]", Reason: err.Error()}
	}
	dst = append(dst, `],"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `"}`...)
	return dst, nil
}
