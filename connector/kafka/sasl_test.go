package kafka

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/weirstream/weir"
)

// TestSASL writes through the exactly-once sink and reads through the
// source on clusters that require SASL PLAIN or SCRAM, with the
// credentials passed as client options; without them the job fails.
func TestSASL(t *testing.T) {
	for _, tc := range []struct {
		method string
		mech   sasl.Mechanism
	}{
		{"PLAIN", plain.Auth{User: "weir", Pass: "secret"}.AsMechanism()},
		{"SCRAM-SHA-256", scram.Auth{User: "weir", Pass: "secret"}.AsSha256Mechanism()},
		{"SCRAM-SHA-512", scram.Auth{User: "weir", Pass: "secret"}.AsSha512Mechanism()},
	} {
		t.Run(tc.method, func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(tc.method, "weir", "secret"),
				kfake.SeedTopics(1, "in", "out"))
			must(t, err)
			defer c.Close()
			seeds := c.ListenAddrs()
			auth := []kgo.Opt{kgo.SASL(tc.mech)}

			env := weir.NewEnvironment(weir.Options{})
			weir.FromSlice(env, []string{"a", "b", "c"}).SinkTo(NewSink(SinkOptions[string]{
				Brokers: seeds, Topic: "in", Serializer: StringSerde{}, Guarantee: ExactlyOnce,
				TransactionalIDPrefix: "sasl", ClientOptions: auth,
			}))
			must(t, env.Execute(context.Background()))

			env = weir.NewEnvironment(weir.Options{})
			g := newGather[string](3)
			weir.FromSource[string](env, NewSource(SourceOptions[string]{
				Brokers: seeds, Topics: []string{"in"}, Deserializer: StringSerde{}, ClientOptions: auth,
			}), weir.NoWatermarks[string](), "kafka").SinkTo(weir.SinkFunc[string](func(_ context.Context, v string, _ int64) error { g.add(v); return nil }))
			job, err := env.Start(context.Background())
			must(t, err)
			g.wait(t, job)
			stop(t, job)

			env = weir.NewEnvironment(weir.Options{})
			weir.FromSlice(env, []string{"x"}).SinkTo(NewSink(SinkOptions[string]{
				Brokers: seeds, Topic: "out", Serializer: StringSerde{}, Guarantee: ExactlyOnce, TransactionalIDPrefix: "anon",
			}))
			if err := env.Execute(context.Background()); err == nil {
				t.Fatal("unauthenticated sink succeeded")
			}
		})
	}
}

// TestSASLWrongCredentials fails a source and a sink whose SASL password
// is wrong with an authentication error, rather than retrying forever.
//
// kfake closes the connection on a wrong password; Kafka answers
// SaslAuthenticate with SASL_AUTHENTICATION_FAILED first (and only that
// tells a wrong password from a network failure), so the cluster is made
// to answer as Kafka does.
func TestSASLWrongCredentials(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("PLAIN", "weir", "secret"),
		kfake.SeedTopics(1, "in", "out"))
	must(t, err)
	defer c.Close()
	c.ControlKey(int16(kmsg.SASLAuthenticate), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kr.(*kmsg.SASLAuthenticateRequest)
		if parts := bytes.Split(req.SASLAuthBytes, []byte{0}); len(parts) == 3 && string(parts[2]) == "secret" {
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := "Authentication failed: Invalid username or password"
		resp.ErrorMessage = &msg
		return resp, nil, true
	})
	seeds := c.ListenAddrs()
	wrong := []kgo.Opt{kgo.SASL(plain.Auth{User: "weir", Pass: "wrong"}.AsMechanism())}

	env := weir.NewEnvironment(weir.Options{})
	weir.FromSource[string](env, NewSource(SourceOptions[string]{
		Brokers: seeds, Topics: []string{"in"}, Deserializer: StringSerde{}, ClientOptions: wrong,
	}), weir.NoWatermarks[string](), "kafka").SinkTo(weir.SinkFunc[string](func(context.Context, string, int64) error { return nil }))
	job, err := env.Start(context.Background())
	must(t, err)
	select {
	case <-job.Done():
	case <-time.After(30 * time.Second):
		job.Cancel()
		t.Fatal("source with a wrong password still running after 30s")
	}
	err = job.Wait()
	if !errors.Is(err, ErrAuthentication) || !weir.IsAuthentication(err) || !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("source with a wrong password: %v, want an authentication error", err)
	}

	env = weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, []string{"x"}).SinkTo(NewSink(SinkOptions[string]{
		Brokers: seeds, Topic: "out", Serializer: StringSerde{}, Guarantee: ExactlyOnce,
		TransactionalIDPrefix: "wrong", ClientOptions: wrong,
	}))
	if err := env.Execute(context.Background()); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("sink with a wrong password: %v, want an authentication error", err)
	}
}

// TestACLDenied fails a source whose user may not read its topic with an
// authorization error, rather than waiting for the topic to appear.
func TestACLDenied(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("PLAIN", "weir", "secret"), kfake.User("PLAIN", "reader", "pw"), kfake.SeedTopics(1, "in"))
	must(t, err)
	defer c.Close()
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSource[string](env, NewSource(SourceOptions[string]{
		Brokers: c.ListenAddrs(), Topics: []string{"in"}, Deserializer: StringSerde{},
		ClientOptions: []kgo.Opt{kgo.SASL(plain.Auth{User: "reader", Pass: "pw"}.AsMechanism())},
	}), weir.NoWatermarks[string](), "kafka").SinkTo(weir.SinkFunc[string](func(context.Context, string, int64) error { return nil }))
	job, err := env.Start(context.Background())
	must(t, err)
	select {
	case <-job.Done():
	case <-time.After(30 * time.Second):
		job.Cancel()
		t.Fatal("source without read access still running after 30s")
	}
	if err := job.Wait(); !errors.Is(err, ErrAuthentication) || !IsAuthError(err) {
		t.Fatalf("source without read access: %v, want an authorization error", err)
	}
}
