package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

type fuzzOrder struct {
	ID    int64             `json:"id" avro:"id"`
	Item  string            `json:"item" avro:"item"`
	Tags  []string          `json:"tags" avro:"tags"`
	Attrs map[string]int32  `json:"attrs" avro:"attrs"`
	Price *float64          `json:"price" avro:"price"`
	Raw   []byte            `json:"raw" avro:"raw"`
	Sub   map[string]string `json:"sub,omitempty" avro:"-"`
}

const fuzzOrderSchema = `{"type":"record","name":"Order","fields":[
	{"name":"id","type":"long"},
	{"name":"item","type":"string"},
	{"name":"tags","type":{"type":"array","items":"string"}},
	{"name":"attrs","type":{"type":"map","values":"int"}},
	{"name":"price","type":["null","double"],"default":null},
	{"name":"raw","type":"bytes"}]}`

// fuzzOrderV0 is an older schema of the same subject, read by schema
// resolution.
const fuzzOrderV0 = `{"type":"record","name":"Order","fields":[
	{"name":"id","type":"long"},
	{"name":"item","type":"string"},
	{"name":"tags","type":{"type":"array","items":"string"}},
	{"name":"attrs","type":{"type":"map","values":"int"}},
	{"name":"raw","type":"bytes"}]}`

var nanEqual = cmp.Comparer(func(x, y float64) bool { return x == y || (x != x && y != y) })

// FuzzJSONSerdeModes feeds arbitrary record values to the JSON deserializer in
// both modes: no panic, the strict mode accepts no more than the lax one
// and decodes what both accept to the same value, and whatever decodes
// serializes to a value that decodes to the same T.
func FuzzJSONSerdeModes(f *testing.F) {
	f.Add([]byte(`{"id":1,"item":"tea","tags":["a"],"attrs":{"x":2},"price":1.5,"raw":"AQI="}`))
	f.Add([]byte(`{"id":1} {"id":2}`))
	f.Add([]byte(`{"id":1} x`))
	f.Add([]byte(`{"zzz":1}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"tags":null,"attrs":{},"raw":null}`))
	f.Add([]byte(` {"id": 1e3} `))
	f.Fuzz(func(t *testing.T, b []byte) {
		lax, lerr := JSONSerde[fuzzOrder]{}.Deserialize(&kgo.Record{Value: b})
		strict, serr := JSONSerde[fuzzOrder]{DisallowUnknownFields: true}.Deserialize(&kgo.Record{Value: b})
		for _, err := range []error{lerr, serr} {
			var de *DecodeError
			if err != nil && !errors.As(err, &de) {
				t.Fatalf("error %v is not a DecodeError", err)
			}
		}
		if lerr != nil && serr == nil {
			t.Fatalf("strict accepted %q, lax rejected it: %v", b, lerr)
		}
		if lerr != nil {
			return
		}
		if serr == nil {
			if diff := cmp.Diff(lax, strict, nanEqual); diff != "" {
				t.Fatalf("modes decoded %q differently (-lax +strict):\n%s", b, diff)
			}
		}
		enc, err := JSONSerde[fuzzOrder]{}.Serialize(lax)
		if err != nil {
			return // NaN or ±Inf cannot be JSON; json.Unmarshal never makes them
		}
		again, err := JSONSerde[fuzzOrder]{DisallowUnknownFields: true}.Deserialize(&kgo.Record{Value: enc})
		if err != nil {
			t.Fatalf("%q decoded, serialized to %q, which does not decode: %v", b, enc, err)
		}
		if diff := cmp.Diff(lax, again, nanEqual); diff != "" {
			t.Fatalf("%q -> %q changed the value (-first +second):\n%s", b, enc, diff)
		}
	})
}

// FuzzAvroSerde feeds arbitrary record values to the Avro deserializer:
// no panic, no allocation driven by a length the bytes only claim (an
// array or string "of 2^60 elements" must fail, not allocate), and a value
// that decodes serializes to bytes that decode to the same value. The
// registry (a fake) knows the serde's schema and an older one.
func FuzzAvroSerde(f *testing.F) {
	reg := srfake.New()
	f.Cleanup(reg.Close)
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	old, err := NewAvroSerde[fuzzOrder](ctx, cl, "fuzz-value", fuzzOrderV0)
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewAvroSerde[fuzzOrder](ctx, cl, "fuzz-value", fuzzOrderSchema)
	if err != nil {
		f.Fatal(err)
	}
	p := 2.5
	for _, v := range []fuzzOrder{
		{ID: 7, Item: "tea", Tags: []string{"a", "b"}, Attrs: map[string]int32{"x": 1}, Price: &p, Raw: []byte{1, 2}},
		{},
	} {
		b, err := s.Serialize(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if b, err = old.Serialize(v); err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	hdr := func(id int) []byte { return binary.BigEndian.AppendUint32([]byte{0}, uint32(id)) }
	// id 0, item "", then an array claiming 2^60 strings.
	f.Add(append(hdr(s.ID()), 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20))
	// A string claiming 2^60 bytes.
	f.Add(append(hdr(s.ID()), 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20))
	f.Add(hdr(999))
	f.Add([]byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Keep to the ids the registry has: other ids only exercise its
		// HTTP errors, slowly.
		if len(b) >= 5 {
			if id := int(binary.BigEndian.Uint32(b[1:5])); id != s.ID() && id != old.ID() {
				return
			}
		}
		v, err := s.Deserialize(&kgo.Record{Value: b})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "kafka: avro") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			return
		}
		enc, err := s.Serialize(v)
		if err != nil {
			t.Fatalf("%x decoded to %+v, which does not serialize: %v", b, v, err)
		}
		again, err := s.Deserialize(&kgo.Record{Value: enc})
		if err != nil {
			t.Fatalf("%+v serialized to %x, which does not decode: %v", v, enc, err)
		}
		if diff := cmp.Diff(v, again, nanEqual, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%x -> %x changed the value (-first +second):\n%s", b, enc, diff)
		}
	})
}
