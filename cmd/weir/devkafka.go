package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"
)

// newDevCmd groups local services for development.
func newDevCmd() *cobra.Command {
	dev := &cobra.Command{
		Use:   "dev",
		Short: "Local services for trying Weir (development and tests only)",
		Args:  cobra.NoArgs,
	}
	dev.AddCommand(newDevKafkaCmd())
	return dev
}

type devKafkaFlags struct {
	host    string
	port    int
	brokers int
	dataDir string
	topics  []string
	sync    bool
}

func newDevKafkaCmd() *cobra.Command {
	var f devKafkaFlags
	cmd := &cobra.Command{
		Use:   "kafka",
		Short: "Run an embedded Kafka-compatible broker (for development and tests, not production)",
		Long: `Runs franz-go's kfake, an in-memory Kafka-compatible cluster, so that Kafka
pipelines can be tried without installing Kafka. Any Kafka client can connect
to it; it supports topics, consumer groups, idempotent and transactional
producers (exactly-once) and read_committed consumers.

It is for development and tests, NOT for production: there is no replication
across machines, no security by default, and its persistence (--data-dir) is
a convenience, not a durable store.

Brokers listen on --host, ports --port, --port+1, ... (one per broker).
With --data-dir the cluster's topics, records, offsets and transactions are
written to that directory and reloaded at the next start; without it,
everything is lost when the command stops. Stops on Ctrl-C or SIGTERM.

After a stop with Ctrl-C or SIGTERM, open transactions stay open and can
still be committed. After a crash (kill -9, a machine crash) the broker
aborts the transactions that were open, writing their ABORT markers before
it listens (Kafka would keep them open): read_committed consumers never see
their records, and everything committed before the crash stays committed.
A process crash loses nothing that was acknowledged. Without --sync, a
machine crash may lose records and commits of its last moments (the OS had
not written them yet); with --sync only the entry of a segment file created
just before it (kfake does not sync directories).

  weir dev kafka --topics input:4,output:4 --data-dir /tmp/weir-kafka`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDevKafka(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.host, "host", "127.0.0.1", "address to listen on")
	fl.IntVar(&f.port, "port", 9092, "port of the first broker (0: random ports)")
	fl.IntVar(&f.brokers, "brokers", 1, "number of brokers")
	fl.StringVar(&f.dataDir, "data-dir", "", "persist the cluster to this directory and reload it from there (empty: in memory only)")
	fl.StringSliceVar(&f.topics, "topics", nil, "topics to create, as name or name:partitions (default 1 partition), comma-separated")
	fl.BoolVar(&f.sync, "sync", false, "with --data-dir: fsync every produced batch (segment and index) and every producer, transaction and group log entry before answering (slower), so that acknowledged writes survive a machine crash (the directory entries of new segment files are not synced); transactions open at a crash are aborted either way")
	return cmd
}

// cleanStopFile, in a data directory, says that the last run of weir dev
// kafka on it stopped cleanly: its open transactions were saved, and no
// recovery is needed at the next start.
const cleanStopFile = "weir-clean-stop"

// parseTopics parses name[:partitions] specifications.
func parseTopics(specs []string) (map[string]int32, error) {
	out := map[string]int32{}
	for _, s := range specs {
		name, parts, found := strings.Cut(strings.TrimSpace(s), ":")
		n := 1
		if found {
			var err error
			if n, err = strconv.Atoi(parts); err != nil || n < 1 || n > math.MaxInt32 {
				return nil, fmt.Errorf("dev kafka: topic %q: partitions must be a positive number", s)
			}
		}
		if name == "" {
			return nil, fmt.Errorf("dev kafka: topic %q has no name", s)
		}
		if !validTopic(name) {
			return nil, fmt.Errorf("dev kafka: topic %q: a name has at most 249 of a-z, A-Z, 0-9, '.', '_', '-' and is not . or ..", s)
		}
		if m, ok := out[name]; ok && m != int32(n) {
			return nil, fmt.Errorf("dev kafka: topic %q given with %d and %d partitions", name, m, n)
		}
		out[name] = int32(n)
	}
	return out, nil
}

// validTopic reports whether name is a legal Kafka topic name.
func validTopic(name string) bool {
	if name == "" || len(name) > 249 || name == "." || name == ".." {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// devKafkaOpts turns the flags into kfake options.
func devKafkaOpts(f devKafkaFlags) ([]kfake.Opt, error) {
	if f.brokers < 1 {
		return nil, errors.New("dev kafka: --brokers must be at least 1")
	}
	if f.port < 0 || f.port+f.brokers-1 > 65535 {
		return nil, fmt.Errorf("dev kafka: --port %d does not leave room for %d brokers", f.port, f.brokers)
	}
	topics, err := parseTopics(f.topics)
	if err != nil {
		return nil, err
	}
	opts := []kfake.Opt{kfake.NumBrokers(f.brokers), kfake.AllowAutoTopicCreation()}
	if f.port > 0 {
		ports := make([]int, f.brokers)
		for i := range ports {
			ports[i] = f.port + i
		}
		opts = append(opts, kfake.Ports(ports...))
	}
	if f.host != "127.0.0.1" {
		host := f.host
		opts = append(opts, kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return net.Listen(network, net.JoinHostPort(host, port))
		}))
	}
	if f.dataDir != "" {
		opts = append(opts, kfake.DataDir(f.dataDir))
		if f.sync {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	for name, n := range topics {
		opts = append(opts, kfake.SeedTopics(n, name))
	}
	return opts, nil
}

func runDevKafka(cmd *cobra.Command, f devKafkaFlags) error {
	opts, err := devKafkaOpts(f)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	var aborted []openTxn
	if f.dataDir != "" {
		// A data directory the last run did not stop cleanly (or that
		// another program wrote) may hold transactions left open.
		clean := filepath.Join(f.dataDir, cleanStopFile)
		switch err := os.Remove(clean); {
		case errors.Is(err, fs.ErrNotExist):
			if aborted, err = recoverOpenTransactions(cmd.Context(), f); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("dev kafka: %w", err)
		}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("dev kafka: %w", err)
	}
	defer func() {
		c.Close()
		if f.dataDir != "" {
			if err := os.WriteFile(filepath.Join(f.dataDir, cleanStopFile), nil, 0o644); err != nil {
				fmt.Fprintf(out, "weir dev kafka: %v\n", err)
			}
		}
	}()
	fmt.Fprintf(out, "weir dev kafka: %d broker(s) listening on %s (development and tests only, not production)\n",
		f.brokers, strings.Join(c.ListenAddrs(), ","))
	if f.dataDir != "" {
		fmt.Fprintf(out, "weir dev kafka: persisting to %s\n", f.dataDir)
	}
	for _, o := range aborted {
		fmt.Fprintf(out, "weir dev kafka: aborted a transaction left open by a crash: producer %d in %s-%d from offset %d\n",
			o.producerID, o.topic, o.partition, o.firstOffset)
	}
	<-cmd.Context().Done()
	fmt.Fprintln(out, "weir dev kafka: stopping")
	return nil
}
