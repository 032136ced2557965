package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/result"
)

// sqlFlags are the flags of `weir sql` beside those of `weir run`.
type sqlFlags struct {
	file, init, output string
}

func newSQLCmd(signals signalFunc) *cobra.Command {
	f := &runFlags{}
	sf := &sqlFlags{}
	cmd := &cobra.Command{
		Use:   "sql [-f job.sql] [flags]",
		Short: "Run Flink SQL: an interactive client, or a job file with -f",
		Long: `Runs Flink SQL statements on Weir, as Flink's SQL client does.

Without -f it reads statements from stdin, each ended by ';' (a statement
may span lines; BEGIN STATEMENT SET; ... END; groups INSERTs into one job).
With -f it runs the file's statements in order: CREATE TABLE/VIEW, SET and
friends change the session, and each INSERT INTO, statement set or SELECT
runs as a job until it ends (bounded sources) or is stopped.

Query results are printed as set by 'sql-client.execution.result-mode':
tableau (a table growing as rows arrive, with each row's change kind),
changelog (+I[...] lines) or table (the materialised result: on a terminal
a full-screen view refreshed while the query runs, keys + - N P F L, Q
quits; otherwise printed when the query ends); --output json prints one
JSON object per row instead. On a terminal, lines are edited in place and
the up and down keys recall earlier statements (~/.weir_sql_history).
A job takes the checkpoint, restore and savepoint flags of 'weir run';
Ctrl-C stops a running job (with a savepoint when --savepoint-dir is set).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if sf.output != "" && sf.output != "json" && sf.output != "text" {
				return fmt.Errorf("sql: --output must be text or json, not %q", sf.output)
			}
			// The nexmark connector and functions: Nexmark's SQL
			// (nexmark/sql) runs as written, and generated auction data
			// is at hand without setup.
			sess, err := nexmark.SQLSession(sql.SessionOptions{})
			if err != nil {
				return err
			}
			jobs := &localJobs{} // sql_jobs.go
			sess.SetJobManager(jobs)
			c := &sqlClient{cmd: cmd, flags: f, sf: sf, signals: signals, sess: sess, jobs: jobs, out: cmd.OutOrStdout()}
			if sf.init != "" {
				b, err := os.ReadFile(sf.init)
				if err != nil {
					return fmt.Errorf("sql: %w", err)
				}
				if err := c.runScript(string(b)); err != nil {
					return err
				}
			}
			if sf.file != "" {
				b, err := os.ReadFile(sf.file)
				if err != nil {
					return fmt.Errorf("sql: %w", err)
				}
				return c.runScript(string(b))
			}
			return c.repl(cmd.InOrStdin())
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVarP(&sf.file, "file", "f", "", "run the statements of this file and exit")
	cmd.Flags().StringVarP(&sf.init, "init", "i", "", "run this file's statements first (DDL, SET)")
	cmd.Flags().StringVar(&sf.output, "output", "text", "how query rows are printed: text (the result mode) or json (one object per row)")
	return cmd
}

// sqlClient runs statements of one session.
type sqlClient struct {
	cmd     *cobra.Command
	flags   *runFlags
	sf      *sqlFlags
	signals signalFunc
	sess    *sql.Session
	// jobs are the jobs the session ran (SHOW JOBS).
	jobs *localJobs
	out  io.Writer
	// tty is set when the interactive client runs on a terminal (input
	// and output): table-mode queries then show the live view.
	tty *tty
}

// runScript parses a script and runs its statements in order.
func (c *sqlClient) runScript(script string) error {
	stmts, err := parser.Parse(script)
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if err := c.run(st); err != nil {
			return err
		}
	}
	return nil
}

// run executes one statement and prints its outcome.
func (c *sqlClient) run(st ast.Statement) error {
	res, job, err := c.sess.Execute(st)
	if err != nil {
		return err
	}
	if res != nil {
		return c.printResult(res)
	}
	return c.runJob(job, c.sess.JobName(st, "collect"))
}

func (c *sqlClient) printResult(res *sql.Result) error {
	switch {
	case res.Text != "":
		_, err := fmt.Fprintln(c.out, strings.TrimRight(res.Text, "\n"))
		return err
	case len(res.Schema.Columns) > 0:
		return result.PrintTableau(c.out, res.Schema, res.Rows)
	case res.Message != "":
		_, err := fmt.Fprintln(c.out, res.Message)
		return err
	}
	return nil
}

// runJob runs an INSERT, statement set or query with the run flags, as
// job name of the session's jobs.
func (c *sqlClient) runJob(job *sql.Job, name string) error {
	lj := c.jobs.add(name)
	defer c.jobs.ended(lj)
	f := *c.flags
	if !c.cmd.Flags().Changed("parallelism") {
		f.parallelism = max(c.sess.Config().Int("parallelism.default"), 1)
	}
	if !c.cmd.Flags().Changed("checkpoint-interval") {
		if iv := c.sess.Config().Duration("execution.checkpointing.interval"); iv > 0 {
			f.checkpointInterval = iv
		}
	}
	jo := c.sessionOptions(job, &f)
	var collect func(row.Row) error
	var done func(error)
	var p *printer
	if job.IsQuery() {
		var err error
		if p, err = c.newPrinter(job); err != nil {
			return err
		}
		collect, done = p.row, p.done
	} else {
		fmt.Fprintf(c.cmd.ErrOrStderr(), "[INFO] Running the INSERT job %s (Ctrl-C stops it)...\n", lj.info.ID)
	}
	rj := runJob{
		name:    "sql",
		id:      lj.info.ID,
		build:   func(env *weir.Environment) error { return job.Build(env, collect) },
		done:    done,
		started: func(client *weir.JobClient) { c.jobs.started(lj, client) },
		options: func(o *weir.Options) {
			jo(o)
			// Flink's job name ('pipeline.name', insert-into_<sinks>,
			// collect): connectors derive from it what must differ
			// between jobs (the jdbc sink's default transaction prefix).
			o.JobName = name
		},
	}
	if p != nil && p.live != nil {
		return c.runLive(p.live, func(ctx context.Context) error {
			rj.ctx = ctx
			return executeJob(c.cmd, &f, c.signals, rj)
		})
	}
	return executeJob(c.cmd, &f, c.signals, rj)
}

// printer prints a query's rows in the session's result mode.
type printer struct {
	mu      sync.Mutex
	out     io.Writer
	mode    string
	schema  row.Schema
	tableau *result.Tableau
	table   *result.Table
	live    *liveTable // table mode on a terminal
	started bool
	err     error
}

func (c *sqlClient) newPrinter(job *sql.Job) (*printer, error) {
	mode := c.sess.Config().Enum("sql-client.execution.result-mode")
	if c.sf.output == "json" {
		mode = "json"
	}
	if job.Batch() && mode != "json" {
		// Flink's client shows a batch result as a table without the op
		// column, when the query ends.
		mode = "table"
	}
	p := &printer{out: c.out, mode: mode, schema: job.Schema()}
	switch mode {
	case "tableau":
		p.tableau = result.NewStreamingTableau(c.out, p.schema)
	case "table":
		if c.tty != nil && !job.Batch() {
			p.live = newLiveTable(p.schema)
		} else {
			p.table = result.NewTable(p.schema.Types(), nil)
		}
	}
	return p, nil
}

func (p *printer) row(r row.Row) error {
	if p.live != nil {
		return p.live.apply(r)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case "tableau":
		if !p.started {
			p.started = true
			if err := p.tableau.Header(); err != nil {
				return err
			}
		}
		return p.tableau.Row(r)
	case "changelog":
		_, err := fmt.Fprintln(p.out, row.FormatRow(r, p.schema.Types()))
		return err
	case "json":
		obj := make(map[string]any, len(r.Fields)+1)
		obj["op"] = r.Kind.String()
		for i, c := range p.schema.Columns {
			if r.Fields[i].IsNull() {
				obj[c.Name] = nil
			} else {
				obj[c.Name] = row.Format(r.Fields[i], c.Type)
			}
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(p.out, string(b))
		return err
	}
	return p.table.Apply(r)
}

func (p *printer) done(err error) {
	if p.live != nil {
		p.live.finish(err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case "tableau":
		if !p.started {
			fmt.Fprintln(p.out, "Empty set")
			return
		}
		p.tableau.Footer()
	case "table":
		result.PrintTableau(p.out, p.schema, p.table.Rows())
	}
}

// repl reads statements from in until EOF or QUIT. On a terminal the
// lines are edited in place with the statements' history (the up and down
// keys recall earlier statements, kept in ~/.weir_sql_history), Ctrl-C
// drops the statement being typed and Ctrl-D on an empty line leaves.
func (c *sqlClient) repl(in io.Reader) error {
	hist := historyFile()
	lines := c.lineReader(in, hist)
	var buf strings.Builder
	for {
		prompt := "Weir SQL> "
		if buf.Len() > 0 {
			prompt = "> "
		}
		line, err := lines.readLine(prompt)
		if errors.Is(err, errInterrupted) {
			buf.Reset()
			continue
		}
		if errors.Is(err, errLineTooLong) {
			buf.Reset()
			fmt.Fprintf(c.cmd.ErrOrStderr(), "[ERROR] %v\n", err)
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("sql: reading statements: %w", err)
		}
		if buf.Len() == 0 {
			switch strings.ToUpper(strings.TrimSuffix(strings.TrimSpace(line), ";")) {
			case "QUIT", "EXIT":
				return nil
			case "HELP":
				fmt.Fprintln(c.out, replHelp)
				continue
			case "":
				continue
			}
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		text := buf.String()
		if !statementComplete(text) {
			continue
		}
		buf.Reset()
		lines.remember(text)
		appendHistory(hist, text)
		if err := c.runScript(text); err != nil {
			fmt.Fprintf(c.cmd.ErrOrStderr(), "[ERROR] Could not execute SQL statement. Reason:\n%v\n", err)
		}
	}
	if strings.TrimSpace(buf.String()) != "" {
		return errors.New("sql: the input ended inside a statement (missing ';')")
	}
	return nil
}

const replHelp = `Statements end with ';' and may span lines. Examples:
  CREATE TABLE t (a INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
  SET 'sql-client.execution.result-mode' = 'tableau';
  SELECT a, COUNT(*) FROM t GROUP BY a;
  SHOW TABLES;  DESCRIBE t;  EXPLAIN SELECT ...;  RESET;
QUIT or EXIT leaves; Ctrl-C stops a running query.`

// statementComplete reports whether text ends with a ';' outside strings,
// quoted identifiers and comments, and outside an open statement set.
func statementComplete(text string) bool {
	inStr, inIdent, lineComment, blockComment := false, false, false, false
	last := byte(0)
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch {
		case lineComment:
			if ch == '\n' {
				lineComment = false
			}
			continue
		case blockComment:
			if ch == '*' && i+1 < len(text) && text[i+1] == '/' {
				blockComment = false
				i++
			}
			continue
		case inStr:
			if ch == '\'' {
				inStr = false
			}
		case inIdent:
			if ch == '`' {
				inIdent = false
			}
		case ch == '\'':
			inStr = true
		case ch == '`':
			inIdent = true
		case ch == '-' && i+1 < len(text) && text[i+1] == '-':
			lineComment = true
			continue
		case ch == '/' && i+1 < len(text) && text[i+1] == '*':
			blockComment = true
			i++
			continue
		}
		if ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' {
			last = ch
		}
	}
	if inStr || inIdent || blockComment || last != ';' {
		return false
	}
	up := strings.ToUpper(text)
	if strings.Contains(up, "STATEMENT SET") {
		t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(up), ";"))
		return strings.HasSuffix(t, "END")
	}
	return true
}

func historyFile() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".weir_sql_history")
}

// appendHistory keeps the statements typed, as the SQL client's history.
func appendHistory(path, stmt string) {
	entry := historyEntry(stmt)
	if path == "" || entry == "" {
		return
	}
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer fh.Close()
	fmt.Fprint(fh, entry+"\n")
}

// sessionOptions applies the session's Flink execution keys to the run
// flags the command line did not set (execution.checkpointing.dir,
// savepoint-dir, num-retained, execution.state-recovery.path and
// ignore-unclaimed-state), and returns what adjusts the job's options for
// the keys no flag has (checkpoint mode, timeout, min-pause, tolerable
// failures, restart strategy): flags given on the command line win.
func (c *sqlClient) sessionOptions(job *sql.Job, f *runFlags) func(*weir.Options) {
	cfg := c.sess.Config()
	changed := c.cmd.Flags().Changed
	jo := job.Options()
	// As in Flink, only an interval turns checkpointing on: the
	// directories alone say where checkpoints and savepoints would go.
	on := changed("checkpoint-interval") || cfg.Duration("execution.checkpointing.interval") > 0
	if on && !changed("checkpoint-dir") && f.checkpointDir == "" {
		d := cfg.Get("execution.checkpointing.dir")
		if d == "" {
			d = cfg.Get("state.checkpoints.dir")
		}
		f.checkpointDir = d
	}
	if f.checkpointDir != "" && !changed("savepoint-dir") && f.savepointDir == "" {
		d := cfg.Get("execution.checkpointing.savepoint-dir")
		if d == "" {
			d = cfg.Get("state.savepoints.dir")
		}
		f.savepointDir = d
	}
	if !changed("retained") && (cfg.IsSet("execution.checkpointing.num-retained") || cfg.IsSet("state.checkpoints.num-retained")) && jo.Checkpoints.Retained > 0 {
		f.retained = jo.Checkpoints.Retained
	}
	if !changed("restore") && jo.Restore != "" {
		f.restore = jo.Restore
	}
	if !changed("allow-non-restored-state") && jo.AllowNonRestoredState {
		f.allowNonRestoredState = true
	}
	return func(o *weir.Options) {
		if o.Checkpoints.Interval > 0 {
			o.Checkpoints.Timeout = jo.Checkpoints.Timeout
			o.Checkpoints.MinPause = jo.Checkpoints.MinPause
			o.Checkpoints.TolerableFailures = jo.Checkpoints.TolerableFailures
			o.Checkpoints.AtLeastOnce = jo.Checkpoints.AtLeastOnce
		}
		if jo.Restart != nil {
			o.Restart = jo.Restart
			o.RepeatedFailureLimit = jo.RepeatedFailureLimit
		}
	}
}
