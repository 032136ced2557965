package connector_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/format/protobuf"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// Two versions of the producer's schema: v1 lacks qty and has a field
// the table lacks; v2 has qty.
const (
	pbWriterV1 = `syntax = "proto3";
package shop;
message Order { int64 id = 1; string item = 2; repeated string tags = 4; map<string, double> attrs = 5; string extra = 9; }
`
	pbWriterV2 = `syntax = "proto3";
package shop;
message Order { int64 id = 1; string item = 2; int32 qty = 3; repeated string tags = 4; map<string, double> attrs = 5; }
`
)

type pbOrder struct {
	id    int64
	item  string
	qty   int32 // 0 with v1: NULL in the table
	tags  []string
	attrs map[string]float64
	v2    bool
}

// record encodes o with the writer schema, by protobuf's reflection.
func (o pbOrder) record(t *testing.T, source string, id int) []byte {
	t.Helper()
	fd, err := protobuf.Parse(source)
	if err != nil {
		t.Fatal(err)
	}
	md := fd.Messages().Get(0)
	m := dynamicpb.NewMessage(md)
	f := md.Fields().ByName
	m.Set(f("id"), protoreflect.ValueOfInt64(o.id))
	m.Set(f("item"), protoreflect.ValueOfString(o.item))
	if o.v2 {
		m.Set(f("qty"), protoreflect.ValueOfInt32(o.qty))
	} else {
		m.Set(f("extra"), protoreflect.ValueOfString("ignored"))
	}
	l := m.Mutable(f("tags")).List()
	for _, s := range o.tags {
		l.Append(protoreflect.ValueOfString(s))
	}
	mp := m.Mutable(f("attrs")).Map()
	for k, v := range o.attrs {
		mp.Set(protoreflect.ValueOfString(k).MapKey(), protoreflect.ValueOfFloat64(v))
	}
	body, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := (&sr.ConfluentHeader{}).AppendEncode(nil, id, []int{0})
	return append(b, body...)
}

// want is o as the sink's message should hold it, in a canonical text.
func (o pbOrder) want() string {
	qty := "unset"
	if o.v2 {
		qty = fmt.Sprint(o.qty)
	}
	keys := make([]string, 0, len(o.attrs))
	for k := range o.attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var attrs []string
	for _, k := range keys {
		attrs = append(attrs, fmt.Sprintf("%s=%g", k, o.attrs[k]))
	}
	return fmt.Sprintf("id=%d item=%s qty=%s tags=%v attrs=%v", o.id, o.item, qty, o.tags, attrs)
}

// got reads a sink record with the schema the registry holds for its id.
func gotOrder(t *testing.T, cl *sr.Client, b []byte) string {
	t.Helper()
	var h sr.ConfluentHeader
	id, body, err := h.DecodeID(b)
	if err != nil {
		t.Fatal(err)
	}
	index, body, err := h.DecodeIndex(body, 8)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cl.SchemaByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := protobuf.Parse(s.Schema)
	if err != nil {
		t.Fatal(err)
	}
	md, err := protobuf.MessageAt(fd, index)
	if err != nil {
		t.Fatal(err)
	}
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(body, m); err != nil {
		t.Fatal(err)
	}
	f := md.Fields().ByName
	qty := "unset"
	if m.Has(f("qty")) {
		qty = fmt.Sprint(m.Get(f("qty")).Int())
	}
	var tags []string
	l := m.Get(f("tags")).List()
	for i := 0; i < l.Len(); i++ {
		tags = append(tags, l.Get(i).String())
	}
	var attrs []string
	m.Get(f("attrs")).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		attrs = append(attrs, fmt.Sprintf("%s=%g", k.String(), v.Float()))
		return true
	})
	sort.Strings(attrs)
	return fmt.Sprintf("id=%d item=%s qty=%s tags=%v attrs=%v", m.Get(f("id")).Int(), m.Get(f("item")).String(), qty, tags, attrs)
}

// TestKafkaProtobufConfluent reads a topic written by another producer
// with two versions of its schema, and records that are not in the wire
// format, name an unknown schema or do not decode (dead letters naming
// the record and the field), and writes the rows to another topic with
// 'protobuf-confluent', registering the table's schema under
// <topic>-value.
func TestKafkaProtobufConfluent(t *testing.T) {
	seeds := kafkaCluster(t, "pb-in", "pb-out", "pb-bad-0", "pb-bad-1", "pb-bad-2")
	reg := srfake.New()
	t.Cleanup(reg.Close)
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	v1, err := cl.CreateSchema(ctx, "pb-in-value", sr.Schema{Schema: pbWriterV1, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := cl.CreateSchema(ctx, "pb-in-value", sr.Schema{Schema: pbWriterV2, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}
	orders := []pbOrder{
		{id: 1, item: "tea", tags: []string{"hot"}, attrs: map[string]float64{"w": 0.5}},
		{id: 2, item: "cake", qty: 3, tags: []string{"a", "b"}, attrs: map[string]float64{"x": 1, "a": -2.5}, v2: true},
		{id: 3, item: "", qty: 0, v2: true},
		{id: 4, item: "jam"},
	}
	pcl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.DefaultProduceTopic("pb-in"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for _, o := range orders {
		id := v1.ID
		src := pbWriterV1
		if o.v2 {
			id, src = v2.ID, pbWriterV2
		}
		recs = append(recs, &kgo.Record{Value: o.record(t, src, id)})
	}
	if err := pcl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	pcl.Close()

	cols := "id BIGINT\nitem STRING\nqty INT\ntags ARRAY<STRING>\nattrs MAP<STRING,DOUBLE>\n"
	src := table(t, "pb_in", cols+`
'connector' = 'kafka'
'topic' = 'pb-in'
'properties.bootstrap.servers' = '`+seeds+`'
'scan.startup.mode' = 'earliest-offset'
'format' = 'protobuf-confluent'
'protobuf-confluent.url' = '`+reg.URL()+`'
`)
	sink := table(t, "pb_out", cols+`
'connector' = 'kafka'
'topic' = 'pb-out'
'properties.bootstrap.servers' = '`+seeds+`'
'format' = 'protobuf-confluent'
'protobuf-confluent.url' = '`+reg.URL()+`'
'protobuf-confluent.message-name' = 'Order'
`)
	creg := connector.Default()
	s, err := creg.CreateSource(src)
	if err != nil {
		t.Fatal(err)
	}
	k, err := creg.CreateSink(sink)
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(weir.Options{})
	b := connector.BuildContext{Env: env, Prefix: "pb_in"}
	st, err := s.Produce(b)
	if err != nil {
		t.Fatal(err)
	}
	b.Prefix = "pb_out"
	if _, err := k.Consume(b, st); err != nil {
		t.Fatal(err)
	}
	job, err := env.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { job.Cancel(); _ = job.Wait() }()
	// Stop polling if the job ends early (its error is the cause).
	pollCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		select {
		case <-job.Done():
			stop()
		case <-pollCtx.Done():
		}
	}()

	ccl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.ConsumeTopics("pb-out"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer ccl.Close()
	var got []string
	for len(got) < len(orders) && pollCtx.Err() == nil {
		ccl.PollFetches(pollCtx).EachRecord(func(r *kgo.Record) { got = append(got, gotOrder(t, cl, r.Value)) })
	}
	select {
	case <-job.Done():
		t.Fatalf("the job ended: %v", job.Wait())
	default:
	}
	var want []string
	for _, o := range orders {
		want = append(want, o.want())
	}
	if !slices.Equal(got, want) {
		t.Errorf("pb-out holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The table's schema is registered under pb-out-value.
	ss, err := cl.SchemaByVersion(ctx, "pb-out-value", -1)
	if err != nil {
		t.Fatal(err)
	}
	wantSchema, _ := protobuf.Source("Order", row.NewSchema(row.Col("id", row.BigInt()), row.Col("item", row.String()),
		row.Col("qty", row.IntType()), row.Col("tags", row.ArrayType(row.String())), row.Col("attrs", row.MapType(row.String(), row.Double()))))
	if ss.Schema.Schema != wantSchema {
		t.Errorf("registered\n%s\nwant\n%s", ss.Schema.Schema, wantSchema)
	}
	job.Cancel()
	_ = job.Wait()

	// Bad records fail the job (the default error policy) with the
	// record's place and the field at fault; under DeadLetterTo they
	// would be dead letters with the same fields.
	for i, c := range []struct {
		value         []byte
		field, reason string
	}{
		{[]byte("not protobuf"), "", "header"},
		{orders[0].record(t, pbWriterV1, 4242), "", "unknown schema id 4242"},
		{append(orders[0].record(t, pbWriterV1, v1.ID), 2<<3|2, 9, 'x'), "item", "schema " + fmt.Sprint(v1.ID)},
	} {
		topic := fmt.Sprintf("pb-bad-%d", i)
		pcl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...), kgo.DefaultProduceTopic(topic))
		if err != nil {
			t.Fatal(err)
		}
		err = pcl.ProduceSync(ctx, &kgo.Record{Value: orders[1].record(t, pbWriterV2, v2.ID)}, &kgo.Record{Value: c.value}).FirstErr()
		pcl.Close()
		if err != nil {
			t.Fatal(err)
		}
		src := table(t, "bad", cols+`
'connector' = 'kafka'
'topic' = '`+topic+`'
'properties.bootstrap.servers' = '`+seeds+`'
'scan.startup.mode' = 'earliest-offset'
'format' = 'protobuf-confluent'
'protobuf-confluent.url' = '`+reg.URL()+`'
`)
		var out syncBuffer
		preg := connector.Default()
		preg.Register(connector.Print{Stdout: &out})
		err = runJob(t, preg, weir.NewEnvironment(weir.Options{}), src, table(t, "out", cols+"'connector' = 'print'"), connector.BuildContext{})
		var bad *weir.BadRecordError
		if !errors.As(err, &bad) {
			t.Errorf("%s: job ended with %v, want a bad record", topic, err)
			continue
		}
		d := bad.DeadLetter
		if d.Source != "topic "+topic+" partition 0 offset 1" || d.Field != c.field || !strings.Contains(d.Reason, c.reason) {
			t.Errorf("%s: dead letter %q field %q reason %q; want offset 1, field %q, %q", topic, d.Source, d.Field, d.Reason, c.field, c.reason)
		}
		if got := out.lines(); len(got) != 1 || !strings.HasPrefix(got[0], "+I[2, cake, 3,") {
			t.Errorf("%s: rows before the bad record: %q", topic, got)
		}
	}
}

// TestProtobufFormatOptions checks where the 'protobuf' format takes its
// message from, and what it refuses at planning.
func TestProtobufFormatOptions(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "common.proto"), "syntax = \"proto3\";\npackage common;\nmessage Money { int64 cents = 1; }\n")
	shop := filepath.Join(dir, "shop.proto")
	writeFile(t, shop, "syntax = \"proto3\";\npackage shop;\nimport \"common.proto\";\nmessage Order { int64 id = 1; common.Money price = 2; }\nmessage Other { int32 x = 1; }\n")
	fd, err := protobuf.CompileFile(context.Background(), shop)
	if err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{
		protodesc.ToFileDescriptorProto(fd.Imports().Get(0).FileDescriptor), protodesc.ToFileDescriptorProto(fd)}}
	b, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	desc := filepath.Join(dir, "shop.desc")
	writeFile(t, desc, string(b))

	base := "'connector' = 'kafka'\n'topic' = 't'\n'properties.bootstrap.servers' = 'localhost:1'\n'scan.startup.mode' = 'earliest-offset'\n'format' = 'protobuf'\n"
	for _, c := range []struct {
		name, cols, opts, err string
	}{
		{"from the columns", "id BIGINT\ntags ARRAY<STRING>\n", "", ""},
		{"inline", "id BIGINT\n", "'protobuf.schema' = 'syntax = \"proto3\"; message M { int64 id = 1; string s = 2; }'\n", ""},
		{"proto file", "id BIGINT\n", "'protobuf.descriptor-file' = '" + shop + "'\n'protobuf.message-name' = 'Order'\n", ""},
		{"descriptor set", "id BIGINT\n", "'protobuf.descriptor-file' = '" + desc + "'\n'protobuf.message-name' = 'shop.Order'\n", ""},
		{"several messages", "id BIGINT\n", "'protobuf.descriptor-file' = '" + shop + "'\n", "2 top-level messages"},
		{"no such field", "qty INT\n", "'protobuf.descriptor-file' = '" + shop + "'\n'protobuf.message-name' = 'shop.Order'\n", "field qty"},
		{"wrong type", "id STRING\n", "'protobuf.descriptor-file' = '" + desc + "'\n'protobuf.message-name' = 'shop.Order'\n", "int64 does not map to"},
		{"both", "id BIGINT\n", "'protobuf.schema' = 'x'\n'protobuf.descriptor-file' = '" + shop + "'\n", "mutually exclusive"},
		{"no protobuf type", "d DECIMAL(10, 2)\n", "", "no protobuf type"},
		{"unknown option", "id BIGINT\n", "'protobuf.message-class-name' = 'x'\n", "protobuf.message-class-name"},
	} {
		_, err := connector.Default().CreateSource(table(t, "pb", c.cols+base+c.opts))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.err)
		}
	}
	_, err = connector.Default().CreateSource(table(t, "fs", "id BIGINT\n'connector' = 'filesystem'\n'path' = '"+dir+"'\n'format' = 'protobuf'\n"))
	if err == nil || !strings.Contains(err.Error(), "binary") {
		t.Errorf("filesystem with protobuf: %v", err)
	}
}
