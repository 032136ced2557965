package connector

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/weirstream/weir/format/protobuf"
	"github.com/weirstream/weir/row"
)

// protobufOptions are the option keys of 'protobuf' and
// 'protobuf-confluent', without the format prefix.
var (
	protobufOptions = []string{"message-name", "schema", "descriptor-file",
		"read-default-values", "write-null-string-literal", "ignore-parse-errors"}
	protobufConfluentOptions = []string{"url", "subject", "schema", "message-name",
		"basic-auth.user-info", "bearer-auth.token",
		"read-default-values", "write-null-string-literal", "ignore-parse-errors"}
)

// newProtobufCodec reads the options of 'protobuf' or
// 'protobuf-confluent' under prefix and returns the format for schema s.
//
// The message comes from 'schema' (inline .proto source) or, for
// 'protobuf', 'descriptor-file' (a .proto file, its imports relative to
// it, or a binary FileDescriptorSet), picked by 'message-name' (needed
// when the file has several top-level messages). Without either, the
// message is written from the table's schema (protobuf.Source), named
// 'message-name' or "Row".
func newProtobufCodec(o *options, prefix, id string, s row.Schema) (*codec, error) {
	k := func(name string) string { return prefix + id + "." + name }
	opts := protobuf.Options{
		ReadDefaultValues:      o.bool(k("read-default-values"), false),
		WriteNullStringLiteral: o.str(k("write-null-string-literal"), ""),
	}
	ignore := o.bool(k("ignore-parse-errors"), false)
	name := o.str(k("message-name"), "")
	source := o.str(k("schema"), "")
	file := o.str(k("descriptor-file"), "")
	if o.err != nil {
		return nil, o.err
	}
	fail := func(err error) (*codec, error) {
		return nil, fmt.Errorf("connector: table %s: format '%s': %w", o.table, id, err)
	}
	if source != "" && file != "" {
		return fail(fmt.Errorf("options '%s' and '%s' are mutually exclusive", k("schema"), k("descriptor-file")))
	}
	if source == "" && file == "" {
		msg := name
		if msg == "" {
			msg = "Row"
		}
		var err error
		if source, err = protobuf.Source(msg, s); err != nil {
			return fail(err)
		}
	}
	c := &codec{id: id, ignoreParseErrors: ignore, binary: true}
	if id == "protobuf-confluent" {
		url := o.str(k("url"), "")
		if url == "" {
			return fail(fmt.Errorf("option '%s' is required", k("url")))
		}
		clOpts := []sr.ClientOpt{sr.URLs(strings.Split(url, ",")...)}
		if ui := o.str(k("basic-auth.user-info"), ""); ui != "" {
			user, pass, _ := strings.Cut(ui, ":")
			clOpts = append(clOpts, sr.BasicAuth(user, pass))
		}
		if tok := o.str(k("bearer-auth.token"), ""); tok != "" {
			clOpts = append(clOpts, sr.BearerToken(tok))
		}
		cl, err := sr.NewClient(clOpts...)
		if err != nil {
			return fail(err)
		}
		// Flink's default subject for kafka: <topic>-key or <topic>-value.
		subject := o.str(k("subject"), "")
		if topic := o.str("topic", ""); subject == "" && topic != "" && !strings.Contains(topic, ";") {
			subject = strings.TrimSpace(topic) + "-value"
			if prefix == "key." {
				subject = strings.TrimSpace(topic) + "-key"
			}
		}
		conf, err := protobuf.NewConfluent(cl, subject, source, name, s, opts)
		if err != nil {
			return fail(err)
		}
		if subject == "" {
			// Reading needs no subject; writing registers under one.
			c.newDecoder = func() (rowDecoder, error) { return conf, nil }
			c.newEncoder = func() (rowEncoder, error) { return noSubject{o.table, k("subject")}, nil }
			return c, nil
		}
		c.newDecoder = func() (rowDecoder, error) { return conf, nil }
		c.newEncoder = func() (rowEncoder, error) { return conf, nil }
		return c, nil
	}
	md, err := protobufMessage(source, file, name)
	if err != nil {
		return fail(err)
	}
	dec, err := protobuf.NewDecoder(md, s, opts)
	if err != nil {
		return fail(err)
	}
	enc, err := protobuf.NewEncoder(md, s, opts)
	if err != nil {
		return fail(err)
	}
	// Both keep no state between records.
	c.newDecoder = func() (rowDecoder, error) { return dec, nil }
	c.newEncoder = func() (rowEncoder, error) { return enc, nil }
	return c, nil
}

// protobufMessage compiles the schema of a 'protobuf' table.
func protobufMessage(source, file, name string) (protoreflect.MessageDescriptor, error) {
	if source != "" {
		fd, err := protobuf.Parse(source)
		if err != nil {
			return nil, err
		}
		return protobuf.FindMessage(fd, name)
	}
	if strings.HasSuffix(file, ".proto") {
		fd, err := protobuf.CompileFile(context.Background(), file)
		if err != nil {
			return nil, err
		}
		return protobuf.FindMessage(fd, name)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("descriptor file: %w", err)
	}
	files, err := protobuf.FromDescriptorSet(b)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("a descriptor set needs 'message-name' (the message's full name)")
	}
	return protobuf.FindInFiles(files, name)
}

// noSubject is the encoder of a 'protobuf-confluent' table without a
// subject to register its schema under.
type noSubject struct{ table, key string }

func (n noSubject) Append([]byte, row.Row) ([]byte, error) {
	return nil, fmt.Errorf("connector: table %s: writing with 'protobuf-confluent' needs option '%s' (or a single 'topic')", n.table, n.key)
}
