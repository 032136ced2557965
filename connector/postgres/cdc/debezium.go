package cdc

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// UnavailableValue is how AppendDebezium writes an Unavailable value, as
// Debezium's PostgreSQL connector does.
const UnavailableValue = "__debezium_unavailable_value"

// AppendDebezium appends c as a Debezium change event (the payload of
// Debezium's PostgreSQL connector, without the schema) to dst:
// {"before":..., "after":..., "source":{...}, "op":..., "ts_ms":...}. Values
// are written as package format/json reads them (format/debezium decodes
// the event into rows): integers and numeric as JSON numbers, float NaN
// and infinities as strings, dates "2006-01-02", timestamps "2006-01-02
// 15:04:05.999999" (timestamptz with a trailing Z), bytea base64, json and
// jsonb as their text in a string, as Debezium does. A REPLICA IDENTITY
// DEFAULT update, whose old row is not known, has "before": null (Flink's
// debezium-json decodes it to +U only).
func AppendDebezium(dst []byte, c *Change) []byte {
	dst = append(dst, `{"before":`...)
	dst = appendImage(dst, c.Table, c.Before)
	dst = append(dst, `,"after":`...)
	dst = appendImage(dst, c.Table, c.After)
	dst = append(dst, `,"source":{"connector":"postgresql","schema":`...)
	dst = strconv.AppendQuote(dst, c.Table.Schema)
	dst = append(dst, `,"table":`...)
	dst = strconv.AppendQuote(dst, c.Table.Name)
	dst = append(dst, `,"lsn":`...)
	dst = strconv.AppendUint(dst, uint64(c.LSN), 10)
	dst = append(dst, `,"txId":`...)
	dst = strconv.AppendUint(dst, uint64(c.XID), 10)
	dst = append(dst, `,"ts_ms":`...)
	ts := int64(0)
	if !c.CommitTime.IsZero() {
		ts = c.CommitTime.UnixMilli()
	}
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"snapshot":`...)
	dst = strconv.AppendBool(dst, c.Op == OpRead)
	dst = append(dst, `},"op":"`...)
	dst = append(dst, c.Op.String()...)
	dst = append(dst, `","ts_ms":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	return append(dst, '}')
}

func appendImage(dst []byte, t *Table, img []any) []byte {
	if img == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	for i, col := range t.Columns {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, col.Name)
		dst = append(dst, ':')
		var v any
		if i < len(img) {
			v = img[i]
		}
		dst = appendValue(dst, col.OID, v)
	}
	return append(dst, '}')
}

func appendValue(dst []byte, oid uint32, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case Unavailable:
		return strconv.AppendQuote(dst, UnavailableValue)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case bool:
		return strconv.AppendBool(dst, v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return strconv.AppendQuote(dst, strconv.FormatFloat(v, 'g', -1, 64))
		}
		return strconv.AppendFloat(dst, v, 'g', -1, 64)
	case string:
		if oid == oidNumeric && v != "NaN" {
			return append(dst, v...)
		}
		return strconv.AppendQuote(dst, v)
	case []byte:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, v)
		return append(dst, '"')
	case json.RawMessage:
		return strconv.AppendQuote(dst, string(v))
	case time.Time:
		switch oid {
		case oidDate:
			return strconv.AppendQuote(dst, v.Format("2006-01-02"))
		case oidTimestampTZ:
			return strconv.AppendQuote(dst, v.UTC().Format("2006-01-02 15:04:05.999999Z"))
		}
		return strconv.AppendQuote(dst, v.Format("2006-01-02 15:04:05.999999"))
	}
	b, _ := json.Marshal(v)
	return append(dst, b...)
}
