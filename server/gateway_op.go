package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/parser"
)

// Operation states, as Flink's OperationStatus. A statement runs while
// its call is served, so an operation is FINISHED (or ERROR) when the
// handle is returned; a SELECT is FINISHED once its job runs (as in
// Flink), its rows come with the fetches until EOS.
const (
	opFinished = "FINISHED"
	opError    = "ERROR"
	opCanceled = "CANCELED"
	opClosed   = "CLOSED"
)

// Result kinds, as Flink's ResultKind.
const (
	kindSuccess            = "SUCCESS"
	kindSuccessWithContent = "SUCCESS_WITH_CONTENT"
)

// gwOp is one statement's operation: its status and its result.
type gwOp struct {
	id      string
	isQuery bool
	kind    string
	jobID   string
	schema  row.Schema
	buf     *resultBuffer
	// client is the preview job of a SELECT (nil otherwise).
	client *weir.JobClient
	mu     struct {
		sync.Mutex
		status string
		err    error
	}
}

func (op *gwOp) status() (string, error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.mu.status, op.mu.err
}

// end cancels or closes the operation (status CANCELED or CLOSED): its
// preview job is canceled and its buffer refuses rows. A failed
// operation stays ERROR when canceled.
func (op *gwOp) end(status string) string {
	op.mu.Lock()
	if op.mu.status != opError || status == opClosed {
		op.mu.status = status
	}
	st := op.mu.status
	op.mu.Unlock()
	op.buf.abort()
	if op.client != nil {
		op.client.Cancel()
	}
	return st
}

// fail marks the operation failed, unless it was canceled or closed.
func (op *gwOp) fail(err error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.mu.status == opFinished {
		op.mu.status, op.mu.err = opError, err
	}
}

// errQueryClosed is what a preview job's sink returns once its operation
// was canceled or closed.
var errQueryClosed = errors.New("the query's operation was canceled or closed")

// resultBuffer holds an operation's rows between its producer (a preview
// job's sink) and the fetches. Pending rows are bounded by limit (0: no
// bound, for results computed in full); add blocks while it is reached.
// A fetch of token N+1 hands out every pending row as page N+1 and
// forgets page N; page N+1 is kept so that a retried fetch gets it again.
type resultBuffer struct {
	limit int
	// space has a value when rows left the buffer; stop is closed by abort.
	space    chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	mu       struct {
		sync.Mutex
		pending   []row.Row
		page      []row.Row
		pageToken int64 // -1 before the first fetch
		pageEOS   bool
		ended     bool // no more rows come
	}
}

func newResultBuffer(limit int) *resultBuffer {
	b := &resultBuffer{limit: limit, space: make(chan struct{}, 1), stop: make(chan struct{})}
	b.mu.pageToken = -1
	return b
}

// staticResult is a buffer holding rows that are all there.
func staticResult(rows []row.Row) *resultBuffer {
	b := newResultBuffer(0)
	b.mu.pending = rows
	b.mu.ended = true
	return b
}

// add appends a row, waiting while the buffer is full; it returns
// errQueryClosed once the operation ended.
func (b *resultBuffer) add(r row.Row) error {
	for {
		select {
		case <-b.stop:
			return errQueryClosed
		default:
		}
		b.mu.Lock()
		if b.limit <= 0 || len(b.mu.pending) < b.limit {
			b.mu.pending = append(b.mu.pending, r.Clone())
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		select {
		case <-b.space:
		case <-b.stop:
			return errQueryClosed
		}
	}
}

// finish says no more rows come.
func (b *resultBuffer) finish() {
	b.mu.Lock()
	b.mu.ended = true
	b.mu.Unlock()
}

// abort drops the rows and unblocks the producer for good.
func (b *resultBuffer) abort() {
	b.stopOnce.Do(func() { close(b.stop) })
	b.mu.Lock()
	b.mu.pending, b.mu.page = nil, nil
	b.mu.Unlock()
}

// buffered returns the number of pending rows (not counting the page
// kept for a retry).
func (b *resultBuffer) buffered() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.mu.pending)
}

// fetch returns page token: the kept page again, or the next one; eos
// says the result ended (the page is then empty).
func (b *resultBuffer) fetch(token int64) (rows []row.Row, eos bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case token == b.mu.pageToken:
		return b.mu.page, b.mu.pageEOS, nil
	case token == b.mu.pageToken+1 && b.mu.pageEOS:
		return nil, false, fmt.Errorf("%w: the result ended with token %d (EOS): there is no token %d", errBadRequest, b.mu.pageToken, token)
	case token == b.mu.pageToken+1:
		page := b.mu.pending
		b.mu.pending = nil
		b.mu.page, b.mu.pageToken = page, token
		b.mu.pageEOS = len(page) == 0 && b.mu.ended
		select {
		case b.space <- struct{}{}:
		default:
		}
		return page, b.mu.pageEOS, nil
	case b.mu.pageToken < 0:
		return nil, false, fmt.Errorf("%w: expecting token 0, but token is %d", errBadRequest, token)
	}
	return nil, false, fmt.Errorf("%w: expecting token %d (again) or %d (next), but token is %d: pages before %d are released",
		errBadRequest, b.mu.pageToken, b.mu.pageToken+1, token, b.mu.pageToken)
}

// changesSession reports whether a statement changes the session's
// catalog or options (and so belongs in the script of its INSERTs).
func changesSession(st ast.Statement) bool {
	switch n := st.(type) {
	case *ast.CreateTable, *ast.CreateView, *ast.Drop, *ast.Reset, *ast.CreateFunction,
		*ast.CreateDatabase, *ast.CreateCatalog, *ast.AlterDatabase, *ast.Use,
		*ast.AlterTable, *ast.AlterView, *ast.AlterCatalog, *ast.AlterFunction,
		*ast.LoadModule, *ast.UnloadModule, *ast.UseModules:
		return true
	case *ast.Set:
		return n.Key != nil
	}
	return false
}

// execute runs one statement in the session and returns its operation.
// Errors of the statement are the operation's (status ERROR); the error
// returned is the request's: the session closed, a limit reached.
func (g *gateway) execute(ss *gwSession, text string, execConfig map[string]string) (*gwOp, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.mu.closed {
		return nil, fmt.Errorf("%w: Session '%s' does not exist", errNotFound, ss.id)
	}
	if len(ss.mu.ops) >= g.opts.MaxOperations {
		return nil, fmt.Errorf("%w: session %s holds %d operations, its maximum: close some (DELETE /sessions/{sessionHandle}/operations/{operationHandle}/close)",
			errUnavailable, ss.id, len(ss.mu.ops))
	}
	op, err := g.run(ss, text, execConfig)
	if errors.Is(err, errUnavailable) {
		return nil, err
	}
	if err != nil {
		op = &gwOp{id: newUUID(), buf: staticResult(nil)}
		op.mu.status, op.mu.err = opError, err
	}
	ss.mu.ops[op.id] = op
	return op, nil
}

// run executes the statement; the caller holds ss.mu.
func (g *gateway) run(ss *gwSession, text string, execConfig map[string]string) (*gwOp, error) {
	stmts, err := parser.Parse(text)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, fmt.Errorf("sql: one statement per call, not %d (a statement set is one: EXECUTE STATEMENT SET BEGIN ... END)", len(stmts))
	}
	st := stmts[0]
	sess := ss.mu.sess
	var sets []string
	if len(execConfig) > 0 {
		keys := make([]string, 0, len(execConfig))
		for k := range execConfig {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		restore := configRestorer(sess.Config(), keys)
		defer restore()
		for _, k := range keys {
			if err := sess.Config().Set(k, execConfig[k]); err != nil {
				return nil, fmt.Errorf("executionConfig %q: %w", k, err)
			}
			sets = append(sets, setStatement(k, execConfig[k]))
		}
	}
	res, job, err := sess.Execute(st)
	if err != nil {
		return nil, err
	}
	op := &gwOp{id: newUUID()}
	op.mu.status = opFinished
	if res != nil {
		if changesSession(st) {
			ss.mu.script = append(ss.mu.script, statementText(text))
		}
		op.kind, op.schema, op.buf = staticRows(res)
		return op, nil
	}
	if job.IsQuery() {
		return g.startQuery(ss, op, job)
	}
	// An INSERT or a statement set: a durable job of the registry, with
	// the session's statements before it so that it can resume alone.
	script := slices.Concat(ss.mu.script, sets, []string{statementText(text)})
	rec := Record{Kind: kindSQL, SQL: strings.Join(script, ";\n") + ";\n", Name: sess.JobName(st, "sql")}
	id, err := g.s.submit(rec)
	if err != nil {
		if errors.Is(err, errBadRequest) {
			err = errors.New(strings.TrimPrefix(err.Error(), errBadRequest.Error()+": "))
		}
		return nil, err
	}
	op.kind, op.jobID = kindSuccessWithContent, id
	op.schema = row.NewSchema(row.Col("job id", row.String().NotNull()))
	op.buf = staticResult([]row.Row{row.Of(row.Str(id))})
	g.s.log.Info("server: SQL session submitted a job", "session", ss.id, "job", id)
	return op, nil
}

// startQuery runs a SELECT as a preview job whose rows go to op's
// buffer.
func (g *gateway) startQuery(ss *gwSession, op *gwOp, job *sql.Job) (*gwOp, error) {
	if err := g.reserveQuery(); err != nil {
		return nil, err
	}
	op.isQuery, op.kind, op.jobID = true, kindSuccessWithContent, newID()
	op.schema = job.Schema()
	op.buf = newResultBuffer(g.opts.ResultBuffer)
	jo := job.Options()
	env := weir.NewEnvironment(weir.Options{
		Parallelism:  max(jo.Parallelism, 1),
		StateBackend: jo.StateBackend,
		Pebble:       g.s.opts.Pebble,
		StateDir:     filepath.Join(g.s.opts.Dir, "previews"),
		Logger:       g.s.log.With("sql-session", ss.id, "query", op.jobID),
	})
	if err := job.Build(env, op.buf.add); err != nil {
		g.releaseQuery()
		return nil, err
	}
	client, err := env.Start(context.Background())
	if err != nil {
		g.releaseQuery()
		return nil, err
	}
	op.client = client
	g.s.wg.Add(1)
	go func() {
		defer g.s.wg.Done()
		defer g.releaseQuery()
		<-client.Done()
		if err := client.Wait(); err != nil {
			op.fail(fmt.Errorf("the query's job %s failed: %w", op.jobID, err))
		}
		op.buf.finish()
	}()
	return op, nil
}

// configRestorer returns a function that puts keys back to their
// current values.
func configRestorer(cfg *sql.Config, keys []string) func() {
	present := map[string]bool{}
	for _, kv := range cfg.Entries() {
		present[kv[0]] = true
	}
	old := make([]string, len(keys))
	for i, k := range keys {
		old[i] = cfg.Get(k)
	}
	return func() {
		for i, k := range keys {
			if !present[k] {
				cfg.Reset(k)
			} else {
				_ = cfg.Set(k, old[i]) // it was accepted before
			}
		}
	}
}

// statementText is a statement as a script line: without its final ';'.
func statementText(text string) string {
	t := strings.TrimSpace(text)
	for strings.HasSuffix(t, ";") {
		t = strings.TrimSpace(strings.TrimSuffix(t, ";"))
	}
	// A trailing line comment would swallow the ';' the script adds.
	return t + "\n"
}

// staticRows turns the result of a statement that runs no job into the
// rows Flink's gateway returns: OK for DDL and SET, a table for SHOW,
// DESCRIBE and SET;, one "result" row for EXPLAIN and SHOW CREATE.
func staticRows(res *sql.Result) (string, row.Schema, *resultBuffer) {
	result := row.NewSchema(row.Col("result", row.String()))
	switch {
	case len(res.Schema.Columns) > 0:
		rows := make([]row.Row, len(res.Rows))
		for i, r := range res.Rows {
			rows[i] = r.WithKind(row.Insert)
		}
		return kindSuccessWithContent, res.Schema, staticResult(rows)
	case res.Text != "":
		return kindSuccessWithContent, result, staticResult([]row.Row{row.Of(row.Str(res.Text))})
	}
	return kindSuccess, result, staticResult([]row.Row{row.Of(row.Str("OK"))})
}

// configure runs a statement that changes the session (DDL, SET, RESET)
// without an operation: Flink's configure-session.
func (g *gateway) configure(ss *gwSession, text string) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.mu.closed {
		return fmt.Errorf("%w: Session '%s' does not exist", errNotFound, ss.id)
	}
	stmts, err := parser.Parse(text)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadRequest, err)
	}
	if len(stmts) != 1 {
		return fmt.Errorf("%w: one statement per call, not %d", errBadRequest, len(stmts))
	}
	if !changesSession(stmts[0]) {
		return fmt.Errorf("%w: configure-session takes CREATE, DROP, SET 'key' = 'value' and RESET statements; run others with POST /sessions/{sessionHandle}/statements", errBadRequest)
	}
	if _, _, err := ss.mu.sess.Execute(stmts[0]); err != nil {
		return fmt.Errorf("%w: %w", errBadRequest, err)
	}
	ss.mu.script = append(ss.mu.script, statementText(text))
	return nil
}
