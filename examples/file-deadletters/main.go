// Command file-deadletters reads a CSV file with event-time windows and a
// dead-letter output: hourly totals per account from a file of payments,
// where lines that do not parse go to a dead-letter file naming the file,
// line, field and reason (FailOnMissingField makes an empty amount or time
// such a line, instead of a zero value), and payments later than their window go to a
// "late" file. Nothing is dropped without a trace.
//
//	go run ./examples/file-deadletters                       # the bundled sample (payments.csv)
//	go run ./examples/file-deadletters -input my.csv -out out
//
// The input has a header line `account,amount,time` (time in RFC 3339).
// Results are JSON lines in -out: totals/, dead-letters/ and late/, one
// part file per subtask.
//
// Event time on files: a source reads a whole file faster than a periodic
// watermark (every 200 ms by default) comes, so which records are late
// would depend on read speed. This job reads one line per poll and emits a
// watermark after every record (LinesPerPoll 1, AutoWatermarkInterval -1),
// so the same file gives the same late records on every run. The source
// runs as one subtask: a second one would hold no split, and until it
// finished the windows' watermark (the minimum over their inputs) would wait
// for it, so a late payment could land in its window if that subtask started
// slowly. The windows still run at -parallelism.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/window"
)

//go:embed payments.csv
var sample []byte

// Payment is a line of the input.
type Payment struct {
	Account string    `csv:"account"`
	Amount  float64   `csv:"amount"`
	Time    time.Time `csv:"time"`
}

// Total is an account's payments in one hour.
type Total struct {
	Account  string
	Hour     time.Time
	Payments int64
	Amount   float64
}

// Result counts what the job wrote.
type Result struct {
	Totals      []Total
	DeadLetters []weir.DeadLetter
	Late        []Payment
}

type sum struct{}

func (sum) CreateAccumulator() Total { return Total{} }
func (sum) Add(t Total, p Payment) (Total, error) {
	return Total{Account: p.Account, Payments: t.Payments + 1, Amount: t.Amount + p.Amount}, nil
}
func (sum) Result(t Total) (Total, error) { return t, nil }
func (sum) Merge(a, b Total) (Total, error) {
	return Total{Account: a.Account, Payments: a.Payments + b.Payments, Amount: a.Amount + b.Amount}, nil
}

// Run reads input and writes the three outputs under out.
func Run(ctx context.Context, input, out string, parallelism int) (Result, error) {
	env := weir.NewEnvironment(weir.Options{Parallelism: parallelism, AutoWatermarkInterval: -1})
	bad := weir.NewOutputTag[weir.DeadLetter]("dead-letters")
	late := weir.NewOutputTag[Payment]("late")
	src := file.CSVSource[Payment](input, file.SourceOptions{OnError: weir.DeadLetterTo(bad), LinesPerPoll: 1, FailOnMissingField: true})
	payments := weir.FromSource(env, src,
		weir.ForBoundedOutOfOrderness[Payment](10*time.Minute).WithTimestamps(func(p Payment) int64 { return p.Time.UnixMilli() }),
		"payments").SetParallelism(1)
	hourly := weir.WindowAggregateResult(
		weir.Window(weir.KeyBy(payments, func(p Payment) string { return p.Account }),
			window.TumblingEventTime[Payment](time.Hour)).SideOutputLateData(late),
		sum{},
		func(ctx *weir.WindowContext[string, Total, window.TimeWindow], _ string, t Total) error {
			t.Hour = time.UnixMilli(ctx.Window().Start).UTC()
			t.Amount = math.Round(t.Amount*100) / 100
			ctx.Collect(t)
			return nil
		})
	deadLetters := weir.SideOutput(payments, bad)
	latePayments := weir.SideOutput(hourly, late)
	hourly.SinkTo(file.JSONSink[Total](filepath.Join(out, "totals"), file.SinkOptions{}))
	deadLetters.SinkTo(file.JSONSink[weir.DeadLetter](filepath.Join(out, "dead-letters"), file.SinkOptions{}))
	latePayments.SinkTo(file.JSONSink[Payment](filepath.Join(out, "late"), file.SinkOptions{}))
	totals, dead, lateOnes := weir.Collect(hourly), weir.Collect(deadLetters), weir.Collect(latePayments)
	if err := env.Execute(ctx); err != nil {
		return Result{}, err
	}
	return Result{Totals: totals.Values(), DeadLetters: dead.Values(), Late: lateOnes.Values()}, nil
}

func main() {
	input := flag.String("input", "", "CSV file of payments (default: the bundled sample)")
	out := flag.String("out", "file-deadletters-out", "output directory")
	parallelism := flag.Int("parallelism", 2, "subtasks per operator")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *input, *out, *parallelism); err != nil {
		fmt.Fprintln(os.Stderr, "file-deadletters:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, input, out string, parallelism int) error {
	if input == "" {
		dir, err := os.MkdirTemp("", "weir-payments")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		input = filepath.Join(dir, "payments.csv")
		if err := os.WriteFile(input, sample, 0o644); err != nil {
			return err
		}
	}
	res, err := Run(ctx, input, out, parallelism)
	if err != nil {
		return err
	}
	for _, d := range res.DeadLetters {
		fmt.Println("dead letter:", d)
	}
	for _, p := range res.Late {
		fmt.Printf("late: %s %.2f at %s\n", p.Account, p.Amount, p.Time.Format(time.RFC3339))
	}
	fmt.Printf("%d hourly totals, %d dead letters, %d late payments; written to %s\n",
		len(res.Totals), len(res.DeadLetters), len(res.Late), out)
	return nil
}
