package connector

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/weirstream/weir/format/csv"
	"github.com/weirstream/weir/format/json"
	"github.com/weirstream/weir/format/raw"
	"github.com/weirstream/weir/row"
)

// formatOptions are the option keys of each format, without the
// "<format>." prefix, as Flink names them.
var formatOptions = map[string][]string{
	"json": {"fail-on-missing-field", "ignore-parse-errors", "timestamp-format.standard",
		"map-null-key.mode", "map-null-key.literal", "encode.decimal-as-plain-number",
		"encode.ignore-null-fields", "decode.json-parser.enabled"},
	"csv": {"field-delimiter", "quote-character", "disable-quote-character", "allow-comments",
		"ignore-parse-errors", "array-element-delimiter", "escape-character", "null-literal",
		"write-bigdecimal-in-scientific-notation"},
	"raw": {"charset", "endianness"},
	// protobuf_format.go
	"protobuf":           protobufOptions,
	"protobuf-confluent": protobufConfluentOptions,
	// changelog formats: changelog_format.go
	"debezium-json": changelogOptions["debezium-json"],
	"canal-json":    changelogOptions["canal-json"],
}

// formatIDs lists the formats, sorted.
func formatIDs() []string {
	ids := make([]string, 0, len(formatOptions))
	for id := range formatOptions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// formatKeys returns the option keys of format id under prefix ("",
// "key." or "value.").
func formatKeys(prefix, id string) []string {
	var out []string
	for _, k := range formatOptions[id] {
		out = append(out, prefix+id+"."+k)
	}
	return out
}

// rowDecoder and rowEncoder are what the format packages provide.
type rowDecoder interface {
	Decode(b []byte) (row.Row, bool, error)
}

type rowEncoder interface {
	Append(dst []byte, r row.Row) ([]byte, error)
}

type rawCodec struct{}

func (rawCodec) Decode(b []byte) (row.Row, bool, error)       { return raw.Decode(b), true, nil }
func (rawCodec) Append(dst []byte, r row.Row) ([]byte, error) { return raw.Append(dst, r) }

// codec is a configured format for one schema. Its constructors give each
// subtask its own decoder or encoder.
type codec struct {
	id                string
	ignoreParseErrors bool
	newDecoder        func() (rowDecoder, error)
	newEncoder        func() (rowEncoder, error)
	// newChangelog is set by changelog formats (changelog_format.go):
	// a message decodes into any number of rows of any kind.
	newChangelog func() (changelogDecoder, error)
	// encodesChangelog: the encoder writes every row kind.
	encodesChangelog bool
	// binary: records are not text lines (protobuf).
	binary bool
}

// lookupFormat checks that a format exists.
func lookupFormat(table, key, id string, sink bool) error {
	if _, ok := formatOptions[id]; ok {
		return nil
	}
	kind := "DeserializationFormatFactory"
	if sink {
		kind = "SerializationFormatFactory"
	}
	return fmt.Errorf("connector: table %s: option '%s': Could not find any factory for identifier '%s' that implements '%s'.\n\nAvailable factory identifiers are:\n\n%s",
		table, key, id, kind, strings.Join(formatIDs(), "\n"))
}

// newCodec reads the options of format id under prefix and returns the
// format for schema s.
func newCodec(o *options, prefix, id string, s row.Schema) (*codec, error) {
	k := func(name string) string { return prefix + id + "." + name }
	c := &codec{id: id}
	switch id {
	case "json":
		opts := json.Options{
			FailOnMissingField:   o.bool(k("fail-on-missing-field"), false),
			IgnoreParseErrors:    o.bool(k("ignore-parse-errors"), false),
			MapNullKeyLiteral:    o.str(k("map-null-key.literal"), "null"),
			DecimalAsPlainNumber: o.bool(k("encode.decimal-as-plain-number"), false),
			IgnoreNullFields:     o.bool(k("encode.ignore-null-fields"), false),
		}
		// decode.json-parser.enabled picks Flink's decoder implementation
		// (Jackson's streaming JsonParser or its tree model); both give the
		// same rows, so Weir validates the value and has nothing to choose.
		o.bool(k("decode.json-parser.enabled"), true)
		if o.enum(k("timestamp-format.standard"), "SQL", "SQL", "ISO-8601") == "ISO-8601" {
			opts.Timestamp = json.ISO8601
		}
		switch o.enum(k("map-null-key.mode"), "FAIL", "FAIL", "DROP", "LITERAL") {
		case "DROP":
			opts.MapNullKey = json.MapNullKeyDrop
		case "LITERAL":
			opts.MapNullKey = json.MapNullKeyLiteral
		}
		if opts.FailOnMissingField && opts.IgnoreParseErrors {
			return nil, fmt.Errorf("connector: table %s: fail-on-missing-field and ignore-parse-errors shouldn't both be true.", o.table)
		}
		if o.err != nil {
			return nil, o.err
		}
		if _, err := json.NewDecoder(s, opts); err != nil {
			return nil, fmt.Errorf("connector: table %s: %w", o.table, err)
		}
		c.ignoreParseErrors = opts.IgnoreParseErrors
		c.newDecoder = func() (rowDecoder, error) { return json.NewDecoder(s, opts) }
		c.newEncoder = func() (rowEncoder, error) { return json.NewEncoder(s, opts) }
	case "csv":
		opts := csv.Options{
			FieldDelimiter:        o.char(k("field-delimiter"), ','),
			QuoteCharacter:        o.char(k("quote-character"), '"'),
			DisableQuoteCharacter: o.bool(k("disable-quote-character"), false),
			AllowComments:         o.bool(k("allow-comments"), false),
			IgnoreParseErrors:     o.bool(k("ignore-parse-errors"), false),
			ArrayElementDelimiter: o.str(k("array-element-delimiter"), ";"),
			EscapeCharacter:       o.char(k("escape-character"), 0),
			// Flink's factory reads the option with getOptional: its
			// declared default (true) never reaches the serializer, which
			// keeps the scale unless the option is set to true.
			DecimalScientific: o.bool(k("write-bigdecimal-in-scientific-notation"), false),
		}
		opts.NullLiteral, opts.HasNullLiteral = o.m[k("null-literal")]
		if opts.DisableQuoteCharacter && o.has(k("quote-character")) {
			return nil, fmt.Errorf("connector: table %s: Format cannot define a quote character and disabled quote character at the same time.", o.table)
		}
		if o.err != nil {
			return nil, o.err
		}
		if _, err := csv.NewDecoder(s, opts); err != nil {
			return nil, fmt.Errorf("connector: table %s: %w", o.table, err)
		}
		c.ignoreParseErrors = opts.IgnoreParseErrors
		c.newDecoder = func() (rowDecoder, error) { return csv.NewDecoder(s, opts) }
		c.newEncoder = func() (rowEncoder, error) { return csv.NewEncoder(s, opts) }
	case "raw":
		if cs := o.str(k("charset"), "UTF-8"); !strings.EqualFold(cs, "UTF-8") {
			o.fail(k("charset"), cs, "Weir supports UTF-8 only")
		}
		// endianness orders the bytes of numeric columns in Flink; the
		// STRING and BYTES columns Weir's raw format takes are written
		// as they are either way, so only the value is checked, as
		// Flink's RawFormatFactory does.
		if e := o.str(k("endianness"), "big-endian"); !strings.EqualFold(e, "big-endian") && !strings.EqualFold(e, "little-endian") && o.err == nil {
			o.err = fmt.Errorf("connector: table %s: Unsupported endianness name: %s. Valid values of '%s' option are 'big-endian' and 'little-endian'.", o.table, e, k("endianness"))
		}
		if o.err != nil {
			return nil, o.err
		}
		if err := raw.Check(s); err != nil {
			return nil, fmt.Errorf("connector: table %s: %w", o.table, err)
		}
		c.newDecoder = func() (rowDecoder, error) { return rawCodec{}, nil }
		c.newEncoder = func() (rowEncoder, error) { return rawCodec{}, nil }
	case "debezium-json", "canal-json":
		return newChangelogCodec(o, prefix, id, s)
	case "protobuf", "protobuf-confluent":
		return newProtobufCodec(o, prefix, id, s)
	default:
		return nil, lookupFormat(o.table, prefix+"format", id, false)
	}
	return c, nil
}

// fieldPath is implemented by the formats' errors.
type fieldPath interface{ FieldPath() string }

// rejection splits a format error into the field at fault and the reason.
func rejection(err error) (field, reason string) {
	var fp fieldPath
	if errors.As(err, &fp) {
		field = fp.FieldPath()
	}
	return field, err.Error()
}
