package kafka

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

type orderV1 struct {
	ID   int64  `avro:"id"`
	Item string `avro:"item"`
}

type orderV2 struct {
	ID   int64  `avro:"id"`
	Item string `avro:"item"`
	Qty  int32  `avro:"qty"`
}

const (
	orderSchemaV1 = `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"item","type":"string"}]}`
	orderSchemaV2 = `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"item","type":"string"},{"name":"qty","type":"int","default":1}]}`
)

// TestAvroSerde round-trips values through the registry's wire format,
// reads values written with a newer schema (schema resolution), and
// rejects records that are not in the wire format or name unknown
// schemas.
func TestAvroSerde(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	must(t, err)
	ctx := context.Background()
	v1, err := NewAvroSerde[orderV1](ctx, cl, "orders-value", orderSchemaV1)
	must(t, err)
	b, err := v1.Serialize(orderV1{ID: 7, Item: "tea"})
	must(t, err)
	if b[0] != 0 || int(b[4]) != v1.ID() {
		t.Fatalf("header % x, want 0 and schema id %d", b[:5], v1.ID())
	}
	got, err := v1.Deserialize(&kgo.Record{Value: b})
	must(t, err)
	if got != (orderV1{ID: 7, Item: "tea"}) {
		t.Fatalf("round trip: %+v", got)
	}

	v2, err := NewAvroSerde[orderV2](ctx, cl, "orders-value", orderSchemaV2)
	must(t, err)
	if v2.ID() == v1.ID() {
		t.Fatal("the new schema got the old id")
	}
	b2, err := v2.Serialize(orderV2{ID: 8, Item: "cake", Qty: 3})
	must(t, err)
	got, err = v1.Deserialize(&kgo.Record{Value: b2})
	must(t, err)
	if got != (orderV1{ID: 8, Item: "cake"}) {
		t.Fatalf("v2 read as v1: %+v", got)
	}
	// Old records read with the new schema take the default.
	got2, err := v2.Deserialize(&kgo.Record{Value: b})
	must(t, err)
	if got2 != (orderV2{ID: 7, Item: "tea", Qty: 1}) {
		t.Fatalf("v1 read as v2: %+v", got2)
	}

	for name, bad := range map[string][]byte{
		"no header":       []byte("tea"),
		"unknown schema":  {0, 0, 0, 0, 99, 14},
		"truncated value": b[:len(b)-1],
		"trailing bytes":  append(append([]byte(nil), b...), 1),
	} {
		if _, err := v1.Deserialize(&kgo.Record{Value: bad}); err == nil || !strings.Contains(err.Error(), "avro") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
