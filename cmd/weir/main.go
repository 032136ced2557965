// Command weir is Weir's command-line tool: run the fraud detection demo,
// run a built-in job with checkpoints, restore and savepoints, run the
// throughput benchmarks, print the version.
//
//	weir demo [--events N] [--rate R] [--parallelism P] [--seed S] [--metrics-addr 127.0.0.1:9249]
//	weir run sums|demo|nexmark [--checkpoint-dir DIR] [--restore latest|PATH] [--savepoint-dir DIR] [job flags]
//	weir server --dir DIR [--addr 127.0.0.1:8081] [--token T]
//	weir job list|submit|status|savepoint|stop|cancel|rescale [--server URL]
//	weir bench [a|b|c|d|all] [--records N] [--parallelism P] [--no-chaining]
//	weir version
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "weir:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "weir",
		Short:         "Weir: a stateful stream processor with Flink's semantics in one Go binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDemoCmd(), withBenchNexmark(newBenchCmd()), newVersionCmd(), newNexmarkCmd(), newDevCmd(), newRunCmd(notifySignals), newSQLCmd(notifySignals),
		newServerCmd(notifySignals), newJobCmd())
	return root
}
