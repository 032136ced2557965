package connector

import (
	"fmt"
	"sync"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// This file holds what the message connectors (nats, mqtt, rabbitmq,
// http) share: one insert-only format for the whole message ('format'
// and its options, as filesystem), decoding with Flink's
// ignore-parse-errors and encoding of +I rows only.

// messageFormat is a message connector's configured format.
type messageFormat struct {
	table string
	c     *codec
	n     int
	decs  sync.Pool
	encs  sync.Pool
}

// messageOptions validates a message connector's options: its own, and
// those of the format its 'format' option names. Without a 'format'
// option, defaultFormat is used.
func messageOptions(ctx Context, f Factory, sink bool, defaultFormat string) (*options, string, error) {
	id := ctx.Options["format"]
	if id == "" {
		id = defaultFormat
	}
	if err := lookupFormat(ctx.Table, "format", id, sink); err != nil {
		return nil, "", err
	}
	opt := append(append(f.OptionalOptions(), "format"), formatKeys("", id)...)
	if err := validate(ctx, f.Identifier(), f.RequiredOptions(), opt); err != nil {
		return nil, "", err
	}
	return newOptions(ctx), id, nil
}

// newMessageFormat builds the format of a message connector's table.
func newMessageFormat(ctx Context, o *options, id, connector string) (*messageFormat, error) {
	c, err := newCodec(o, "", id, ctx.Schema)
	if err != nil {
		return nil, err
	}
	if err := insertOnlyFormat(ctx.Table, "the '"+connector+"' connector", c); err != nil {
		return nil, err
	}
	m := &messageFormat{table: ctx.Table, c: c, n: ctx.Schema.Len()}
	m.decs.New = func() any { d, _ := c.newDecoder(); return d }
	m.encs.New = func() any { e, _ := c.newEncoder(); return e }
	return m, nil
}

// decode decodes one message. Under ignore-parse-errors (and without a
// dead-letter output) a message that does not decode becomes a row of
// skipKind, which dropSkipped removes; so does a JSON null.
func (m *messageFormat) decode(b []byte, deadLetters bool) (row.Row, error) {
	d := m.decs.Get().(rowDecoder)
	defer m.decs.Put(d)
	r, ok, err := d.Decode(b)
	if err != nil {
		if m.c.ignoreParseErrors && !deadLetters {
			return row.Row{Kind: skipKind}, nil
		}
		return row.Row{}, err
	}
	if !ok {
		return row.Row{Kind: skipKind}, nil
	}
	r.Kind = row.Insert
	return r, nil
}

// encode encodes an insert row.
func (m *messageFormat) encode(r row.Row, connector string) ([]byte, error) {
	if r.Kind != row.Insert {
		return nil, fmt.Errorf("connector: %s sink of table %s: a %s row reached an insert-only sink", connector, m.table, r.Kind)
	}
	if len(r.Fields) != m.n {
		return nil, fmt.Errorf("connector: %s sink of table %s: the row has %d fields, the table %d columns", connector, m.table, len(r.Fields), m.n)
	}
	e := m.encs.Get().(rowEncoder)
	defer m.encs.Put(e)
	return e.Append(nil, r)
}

// dropSkipped removes the rows decode skipped.
func dropSkipped(b BuildContext, s weir.Stream[row.Row]) weir.Stream[row.Row] {
	return s.Filter(func(r row.Row) bool { return r.Kind != skipKind }).Name(b.uid("drop-skipped")).UID(b.uid("drop-skipped"))
}
