package protobuf

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/weirstream/weir/row"
)

// Confluent reads and writes rows as protobuf messages in the schema
// registry's wire format: a zero byte, the big-endian schema id, the
// message index (zig-zag varints: the count, then the index of the
// message at each level of nesting; a single 0 for the file's first
// message), then the message.
//
// Writing uses the Confluent's own schema, registered under its subject
// on first use (registering a schema the subject has returns its id).
// Reading decodes each record with its writer's schema, fetched by id
// from the registry (with the schemas it references) once and cached,
// and maps the writer's fields to the columns by name, as Confluent's
// deserializer does for dynamic messages: a column the writer's message
// lacks reads as NULL, fields the columns lack are skipped, and a field
// whose type changed to one that does not map to its column makes every
// record of that schema an error. A record without the header, with a
// schema id the registry does not know, or whose message does not decode
// is an *Error.
//
// A Confluent is safe for concurrent use; registry calls take at most
// RegistryTimeout.
type Confluent struct {
	cl      *sr.Client
	subject string
	source  string
	md      protoreflect.MessageDescriptor
	index   []int
	schema  row.Schema
	opts    Options
	enc     *Encoder
	mu      struct {
		sync.Mutex
		id int // 0 until registered
	}
	decoders sync.Map // writerKey -> *Decoder
}

// RegistryTimeout bounds each schema registry call.
const RegistryTimeout = 30 * time.Second

type writerKey struct {
	id    int
	index string // the message index, as bytes
}

// NewConfluent returns the format for rows of s written as message
// messageName ("" for the only one) of the .proto source, registered
// under subject. It makes no registry call.
func NewConfluent(cl *sr.Client, subject, source, messageName string, s row.Schema, o Options) (*Confluent, error) {
	fd, err := Parse(source)
	if err != nil {
		return nil, err
	}
	md, err := FindMessage(fd, messageName)
	if err != nil {
		return nil, err
	}
	enc, err := NewEncoder(md, s, o)
	if err != nil {
		return nil, err
	}
	return &Confluent{cl: cl, subject: subject, source: source, md: md, index: MessageIndex(md),
		schema: s, opts: o, enc: enc}, nil
}

// Register registers the schema under the subject, once, and returns its
// id.
func (c *Confluent) Register(ctx context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.id != 0 {
		return c.mu.id, nil
	}
	ss, err := c.cl.CreateSchema(ctx, c.subject, sr.Schema{Schema: c.source, Type: sr.TypeProtobuf})
	if err != nil {
		return 0, fmt.Errorf("protobuf: registering the schema under %s: %w", c.subject, err)
	}
	c.mu.id = ss.ID
	d, err := NewDecoder(c.md, c.schema, c.opts)
	if err != nil {
		return 0, err
	}
	c.decoders.Store(writerKey{ss.ID, indexKey(c.index)}, d)
	return ss.ID, nil
}

// Append appends the wire format of r to dst, registering the schema
// first if it is not yet.
func (c *Confluent) Append(dst []byte, r row.Row) ([]byte, error) {
	c.mu.Lock()
	id := c.mu.id
	c.mu.Unlock()
	if id == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), RegistryTimeout)
		var err error
		id, err = c.Register(ctx)
		cancel()
		if err != nil {
			return dst, err
		}
	}
	n := len(dst)
	dst, _ = (&sr.ConfluentHeader{}).AppendEncode(dst, id, c.index)
	out, err := c.enc.Append(dst, r)
	if err != nil {
		return dst[:n], err
	}
	return out, nil
}

// Decode decodes a record written with any registered schema.
func (c *Confluent) Decode(b []byte) (row.Row, bool, error) {
	var h sr.ConfluentHeader
	id, body, err := h.DecodeID(b)
	if err != nil {
		return row.Row{}, false, &Error{Reason: "no Confluent wire-format header (magic byte 0 and a 4-byte schema id)"}
	}
	index, body, err := h.DecodeIndex(body, 64)
	if err != nil {
		return row.Row{}, false, &Error{Reason: fmt.Sprintf("schema %d: bad message index: %v", id, err)}
	}
	d, err := c.decoder(id, index)
	if err != nil {
		return row.Row{}, false, err
	}
	r, ok, err := d.Decode(body)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return r, ok, &Error{Field: e.Field, Reason: fmt.Sprintf("schema %d: %s", id, e.Reason)}
		}
	}
	return r, ok, err
}

func indexKey(index []int) string {
	if len(index) == 1 && index[0] == 0 {
		return "0." // the common case, without allocating
	}
	b := make([]byte, 0, len(index)*2)
	for _, i := range index {
		b = fmt.Appendf(b, "%d.", i)
	}
	return string(b)
}

// decoder returns the decoder of writer schema id's message at index,
// fetching the schema on first use.
func (c *Confluent) decoder(id int, index []int) (*Decoder, error) {
	k := writerKey{id, indexKey(index)}
	if d, ok := c.decoders.Load(k); ok {
		return d.(*Decoder), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), RegistryTimeout)
	defer cancel()
	fd, err := FetchSchema(ctx, c.cl, id)
	if err != nil {
		return nil, err
	}
	md, err := MessageAt(fd, index)
	if err != nil {
		return nil, &Error{Reason: fmt.Sprintf("schema %d: %v", id, err)}
	}
	d, err := newDecoder(md, c.schema, c.opts, true)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, &Error{Field: e.Field, Reason: fmt.Sprintf("schema %d cannot be read as the table's: %s", id, e.Reason)}
		}
		return nil, err
	}
	c.decoders.Store(k, d)
	return d, nil
}

// FetchSchema fetches schema id, and the schemas it references, from the
// registry and compiles it. An id the registry does not know, or a schema
// that is not protobuf, is an *Error.
func FetchSchema(ctx context.Context, cl *sr.Client, id int) (protoreflect.FileDescriptor, error) {
	s, err := cl.SchemaByID(ctx, id)
	if err != nil {
		return nil, registryError(id, err)
	}
	if s.Type != sr.TypeProtobuf {
		return nil, &Error{Reason: fmt.Sprintf("schema %d is %s, not PROTOBUF", id, s.Type)}
	}
	main := fmt.Sprintf("weir-schema-%d.proto", id)
	files := map[string]string{main: s.Schema}
	if err := fetchRefs(ctx, cl, s.References, files, 0); err != nil {
		return nil, fmt.Errorf("protobuf: schema %d: %w", id, err)
	}
	fd, err := Compile(ctx, files, main)
	if err != nil {
		return nil, &Error{Reason: fmt.Sprintf("schema %d: %v", id, err)}
	}
	return fd, nil
}

func fetchRefs(ctx context.Context, cl *sr.Client, refs []sr.SchemaReference, files map[string]string, depth int) error {
	if depth > 32 {
		return errors.New("references nested too deeply")
	}
	for _, r := range refs {
		if _, ok := files[r.Name]; ok {
			continue
		}
		ss, err := cl.SchemaByVersion(ctx, r.Subject, r.Version)
		if err != nil {
			return fmt.Errorf("reference %s (%s version %d): %w", r.Name, r.Subject, r.Version, err)
		}
		files[r.Name] = ss.Schema.Schema
		if err := fetchRefs(ctx, cl, ss.References, files, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// registryError makes a missing schema a bad record (*Error) and leaves
// other failures (the registry unreachable) as they are.
func registryError(id int, err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) && re.StatusCode == 404 {
		return &Error{Reason: fmt.Sprintf("unknown schema id %d", id)}
	}
	return fmt.Errorf("protobuf: fetching schema %d: %w", id, err)
}
