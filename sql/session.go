package sql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/plan"
)

// SessionOptions configure a Session.
type SessionOptions struct {
	// Connectors are the table connectors CREATE TABLE may name; nil
	// means connector.Default().
	Connectors *connector.Registry
	// Logger receives the session's logs; nil discards them.
	Logger *slog.Logger
}

// Session is a SQL session as Flink's TableEnvironment: a catalog of
// tables and views, the options set with SET, and statements turned into
// jobs. A Session is not safe for concurrent use.
type Session struct {
	cfg *Config
	cat *plan.Catalog
	reg *connector.Registry
	log *slog.Logger
	// funcs are the user-defined functions (functions.go).
	funcs sessionFuncs
	// jobs runs the job statements (jobs.go); nil refuses them.
	jobs JobManager
}

// NewSession returns an empty session.
func NewSession(opts SessionOptions) *Session {
	reg := opts.Connectors
	if reg == nil {
		reg = connector.Default()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Session{cfg: NewConfig(), cat: plan.NewCatalog(), reg: reg, log: log}
	s.funcs.names.Current = s.cat.Current
	return s
}

// Config returns the session's options.
func (s *Session) Config() *Config { return s.cfg }

// Catalog returns the session's catalog.
func (s *Session) Catalog() *plan.Catalog { return s.cat }

// Result is the outcome of a statement that runs no job: a message, a
// table of rows (SHOW, DESCRIBE, SET), or text (EXPLAIN).
type Result struct {
	Message string
	Schema  row.Schema
	Rows    []row.Row
	Text    string
}

func (s *Session) binder() *plan.Binder {
	var b *plan.Binder
	b = plan.NewBinder(s.cat, func(fn string, distinct bool, args []row.Type) (row.Type, error) {
		// b.Funcs resolves in the namespace of the view being bound.
		if t, user, err := userAggType(b.Funcs, fn, args); user {
			return t, err
		}
		f, err := exec.ParseFunc(fn, len(args))
		if err != nil {
			return row.Type{}, err
		}
		return exec.ResultType(f, distinct, args)
	})
	b.Funcs = &s.funcs.names
	b.Batch = s.cfg.Enum("execution.runtime-mode") == "batch"
	return b
}

// Execute runs one statement. Statements that change the session (DDL,
// SET) or only read it (SHOW, DESCRIBE, EXPLAIN) return a Result; INSERT,
// statement sets and queries return a Job to run.
func (s *Session) Execute(stmt ast.Statement) (*Result, *Job, error) {
	b := s.binder()
	switch n := stmt.(type) {
	case *ast.CreateTable:
		if n.AsQuery != nil {
			return s.createTableAs(n) // ctas.go
		}
		t, err := b.CreateTable(n)
		if err != nil {
			return nil, nil, err
		}
		if err := s.checkConnector(t); err != nil {
			return nil, nil, err
		}
		if err := s.cat.AddTable(t, n.IfNotExists); err != nil {
			return nil, nil, err
		}
		return ok(), nil, nil
	case *ast.CreateView:
		v, err := b.CreateView(n)
		if err != nil {
			return nil, nil, err
		}
		if err := s.cat.AddView(v, n.IfNotExists); err != nil {
			return nil, nil, err
		}
		return ok(), nil, nil
	case *ast.Drop:
		switch n.Object {
		case "TABLE", "VIEW":
			id, err := s.cat.Qualify(n.Name)
			if err != nil {
				return nil, nil, err
			}
			// As Flink's CatalogManager: DROP TEMPORARY drops the
			// temporary object, DROP the permanent one, not while a
			// temporary one of its kind shadows it.
			if n.Temporary {
				return okOr(s.cat.DropTemporaryAt(id, n.Object == "VIEW", n.IfExists))
			}
			return okOr(s.cat.DropPermanentAt(id, n.Object == "VIEW", n.IfExists))
		case "FUNCTION":
			return s.dropFunction(n)
		case "DATABASE":
			return okOr(s.cat.DropDatabase(n, s.catalogFunctions))
		case "CATALOG":
			return okOr(s.cat.DropCatalog(n))
		}
		return nil, nil, fmt.Errorf("sql: DROP %s is not supported", n.Object)
	case *ast.Set:
		if n.Key == nil {
			return s.showConfig(), nil, nil
		}
		if err := s.cfg.Set(*n.Key, n.Value); err != nil {
			return nil, nil, err
		}
		return &Result{Message: "[INFO] Execute statement succeeded."}, nil, nil
	case *ast.Reset:
		key := ""
		if n.Key != nil {
			key = *n.Key
		}
		s.cfg.Reset(key)
		return &Result{Message: "[INFO] Execute statement succeeded."}, nil, nil
	case *ast.CreateFunction:
		return s.createFunctionStmt(n)
	case *ast.CreateDatabase:
		return okOr(s.cat.CreateDatabase(n))
	case *ast.CreateCatalog:
		return okOr(s.cat.CreateCatalog(n))
	case *ast.Use:
		if n.Catalog {
			if len(n.Name.Parts) != 1 {
				return nil, nil, fmt.Errorf("sql: USE CATALOG %s: a catalog name has one part", n.Name)
			}
			return okOr(s.cat.UseCatalog(n.Name.Parts[0].Name))
		}
		return okOr(s.cat.UseDatabase(n.Name))
	case *ast.Show:
		if n.Object == "FUNCTIONS" {
			return s.showFunctions(n)
		}
		return s.show(n)
	case *ast.Describe:
		return s.describe(n)
	case *ast.AlterTable, *ast.AlterView, *ast.AlterDatabase, *ast.AlterCatalog, *ast.AlterFunction:
		return s.alter(n) // alter.go
	case *ast.Explain:
		return s.explain(n)
	case *ast.ShowJobs, *ast.StopJob, *ast.DescribeJob:
		return s.jobStatement(n) // jobs.go
	case *ast.LoadModule, *ast.UnloadModule, *ast.UseModules:
		return s.moduleStatement(n) // modules.go
	case *ast.Insert, *ast.StatementSet, *ast.QueryStmt, ast.QueryExpr:
		j, err := s.plan(stmt)
		if err != nil {
			return nil, nil, err
		}
		return nil, j, nil
	}
	return nil, nil, fmt.Errorf("sql: %T statements are not supported yet", stmt)
}

func ok() *Result { return &Result{Message: "[INFO] Execute statement succeeded."} }

func okOr(err error) (*Result, *Job, error) {
	if err != nil {
		return nil, nil, err
	}
	return ok(), nil, nil
}

// checkConnector validates a new table's connector options now, as Flink
// does at CREATE TABLE time only for the 'connector' key; the full check
// runs when a job uses the table. Weir checks early: the options are
// validated against the source factory, or the sink factory when the
// connector has no source.
func (s *Session) checkConnector(t *plan.Table) error {
	id, okID := t.Options["connector"]
	if !okID {
		return fmt.Errorf("sql: table %s: Table options do not contain an option key 'connector' for discovering a connector", t.Name)
	}
	if _, found := s.reg.Lookup(id); !found {
		return fmt.Errorf("sql: table %s: Could not find any factory for identifier '%s'. Available factory identifiers are: %s", t.Name, id, strings.Join(s.reg.Identifiers(), ", "))
	}
	s.setSourceMode(t)
	return nil
}

// plan binds an INSERT, statement set or query into a Job.
func (s *Session) plan(stmt ast.Statement) (*Job, error) {
	b := s.binder()
	j := &Job{sess: s, cfg: s.cfg.Clone()}
	switch n := stmt.(type) {
	case *ast.Insert:
		sk, err := b.Insert(n)
		if err != nil {
			return nil, err
		}
		if err := s.checkSink(sk); err != nil {
			return nil, err
		}
		j.sinks = []*plan.Sink{sk}
	case *ast.StatementSet:
		for _, ins := range n.Inserts {
			sk, err := b.Insert(ins)
			if err != nil {
				return nil, err
			}
			if err := s.checkSink(sk); err != nil {
				return nil, err
			}
			j.sinks = append(j.sinks, sk)
		}
	case *ast.QueryStmt:
		r, err := b.Query(n.Query)
		if err != nil {
			return nil, err
		}
		j.query = r
	case ast.QueryExpr:
		r, err := b.Query(n)
		if err != nil {
			return nil, err
		}
		j.query = r
	default:
		return nil, fmt.Errorf("sql: EXPLAIN of %T is not supported", stmt)
	}
	if err := j.checkUpdatingInputs(); err != nil {
		return nil, err
	}
	if err := j.optimize(); err != nil {
		return nil, err
	}
	if err := j.checkMiniBatch(); err != nil {
		return nil, err
	}
	return j, nil
}

// checkSink creates an INSERT's sink (validating its options) and checks
// at planning time that it takes the query's changelog, as Flink's planner
// does; the error names the node that produces the updates.
func (s *Session) checkSink(sk *plan.Sink) error {
	t := &translator{reg: s.reg, cfg: s.cfg}
	sink, err := s.reg.CreateSink(t.connectorContext(sk.Table))
	if err != nil {
		return err
	}
	if err := applyOverwrite(sink, sk); err != nil { // overwrite.go
		return err
	}
	mode := connector.InsertOnly
	if sk.In.Mode() == plan.Updating && !t.batch() {
		mode = connector.All
	}
	if _, err := sink.ChangelogMode(mode); err != nil {
		var ioe *connector.InsertOnlyError
		if mode != connector.InsertOnly && errors.As(err, &ioe) {
			if cerr := plan.ConsumeError("Table sink '"+strings.Join(sk.Table.Path(), ".")+"'", sk.In); cerr != nil {
				return fmt.Errorf("sql: %w: %w", cerr, err)
			}
		}
		return fmt.Errorf("sql: INSERT INTO %s: %w", sk.Table.Name, err)
	}
	return nil
}

// optimize applies the planner's rules (plan.SplitDistinctAggregates
// when table.optimizer.distinct-agg.split.enabled, then plan.Optimize) to
// the job's plans.
func (j *Job) optimize() error {
	rule := func(r plan.Rel) plan.Rel { return plan.Optimize(r) }
	if j.cfg.Bool("table.optimizer.distinct-agg.split.enabled") && !j.Batch() {
		n := j.cfg.Int("table.optimizer.distinct-agg.split.bucket-num")
		if n <= 0 {
			return fmt.Errorf("sql: table.optimizer.distinct-agg.split.bucket-num must be > 0, is %d", n)
		}
		aggType := j.sess.binder().AggType
		rule = func(r plan.Rel) plan.Rel {
			return plan.Optimize(plan.SplitDistinctAggregates(r, n, aggType))
		}
	}
	for i, sk := range j.sinks {
		if o, ok := rule(sk).(*plan.Sink); ok {
			j.sinks[i] = o
		}
	}
	if j.query != nil {
		j.query = rule(j.query)
	}
	j.pushDownSources() // source_pushdown.go
	j.reuseScans()
	return nil
}

func (s *Session) showConfig() *Result {
	res := &Result{Schema: row.NewSchema(row.Col("key", row.String().NotNull()), row.Col("value", row.String().NotNull()))}
	for _, kv := range s.cfg.Entries() {
		res.Rows = append(res.Rows, row.Of(row.Str(kv[0]), row.Str(kv[1])))
	}
	return res
}

func nameList(col string, names []string) *Result {
	res := &Result{Schema: row.NewSchema(row.Col(col, row.String().NotNull()))}
	for _, n := range names {
		res.Rows = append(res.Rows, row.Of(row.Str(n)))
	}
	return res
}

func (s *Session) show(n *ast.Show) (*Result, *Job, error) {
	switch n.Object {
	case "TABLES":
		ns, err := s.showFrom(n)
		if err != nil {
			return nil, nil, err
		}
		return nameList("table name", filterNames(n, s.cat.TableNamesIn(ns, true))), nil, nil
	case "VIEWS":
		ns, err := s.showFrom(n)
		if err != nil {
			return nil, nil, err
		}
		return nameList("view name", filterNames(n, s.cat.ViewNamesIn(ns))), nil, nil
	case "CATALOGS":
		return nameList("catalog name", filterNames(n, s.cat.CatalogNames())), nil, nil
	case "DATABASES":
		catalog := s.cat.Current().Catalog
		if n.From != nil {
			if len(n.From.Parts) != 1 {
				return nil, nil, fmt.Errorf("sql: Catalog %s does not exist", strings.Join(quotedParts(n.From.Parts), "."))
			}
			catalog = n.From.Parts[0].Name
		}
		names, err := s.cat.DatabaseNames(catalog)
		if err != nil {
			return nil, nil, err
		}
		return nameList("database name", filterNames(n, names)), nil, nil
	case "COLUMNS":
		return s.showColumns(n) // show_create.go
	case "CURRENT CATALOG":
		return nameList("current catalog name", []string{s.cat.Current().Catalog}), nil, nil
	case "CURRENT DATABASE":
		return nameList("current database name", []string{s.cat.Current().Database}), nil, nil
	case "CREATE CATALOG":
		return s.showCreateCatalog(n) // catalogs.go
	case "MODULES", "FULL MODULES":
		return showModules(n.Object == "FULL MODULES"), nil, nil // modules.go
	case "JARS":
		// Flink lists the jars ADD JAR added; Weir runs Go functions and
		// adds no jars.
		return nameList("jars", nil), nil, nil
	case "CONNECTORS":
		return nameList("connector", s.reg.Identifiers()), nil, nil
	case "CREATE TABLE", "CREATE VIEW":
		// show_create.go: Flink's ShowCreateUtil text and messages.
		id, err := s.cat.Qualify(n.Name)
		if err != nil {
			return nil, nil, err
		}
		name := id.Name
		t, isTable := s.cat.TableAt(id)
		v, isView := s.cat.ViewAt(id)
		switch {
		case isTable && n.Object == "CREATE TABLE":
			return &Result{Text: showCreateTable(t)}, nil, nil
		case isView && n.Object == "CREATE VIEW":
			cols := v.Columns
			if len(cols) == 0 {
				r, err := s.viewQuery(v)
				if err != nil {
					return nil, nil, err
				}
				for _, c := range r.Columns() {
					cols = append(cols, c.Name)
				}
			}
			return &Result{Text: showCreateView(v, cols)}, nil, nil
		case isView:
			return nil, nil, fmt.Errorf("sql: SHOW CREATE TABLE is only supported for tables, but %s is a view. Please use SHOW CREATE VIEW instead.", id)
		case isTable:
			return nil, nil, fmt.Errorf("sql: SHOW CREATE VIEW is only supported for views, but %s is a table. Please use SHOW CREATE TABLE instead.", id)
		}
		return nil, nil, fmt.Errorf("sql: %s %s does not exist", strings.TrimPrefix(n.Object, "CREATE "), name)
	}
	return nil, nil, fmt.Errorf("sql: SHOW %s is not supported", n.Object)
}

// describe prints a table's or view's columns as Flink's DESCRIBE: name,
// type, null, key, extras (computed expression, metadata), watermark.
func (s *Session) describe(n *ast.Describe) (*Result, *Job, error) {
	switch n.Object {
	case "CATALOG":
		return s.describeCatalog(n) // catalogs.go
	case "DATABASE":
		return nil, nil, fmt.Errorf("sql: DESCRIBE DATABASE is not supported: Flink's parser accepts it, but Flink has no operation that runs it")
	}
	id, err := s.cat.Qualify(n.Name)
	if err != nil {
		return nil, nil, err
	}
	schema := row.NewSchema(
		row.Col("name", row.String().NotNull()), row.Col("type", row.String().NotNull()),
		row.Col("null", row.Boolean().NotNull()), row.Col("key", row.String()),
		row.Col("extras", row.String()), row.Col("watermark", row.String()))
	res := &Result{Schema: schema}
	if t, found := s.cat.TableAt(id); found {
		pk := map[int]bool{}
		for _, k := range t.PrimaryKey {
			pk[k] = true
		}
		for i, c := range t.Columns {
			ty := c.Type
			ty.Nullable = true
			key, extras, wm := row.Null(), row.Null(), row.Null()
			if pk[i] {
				key = row.Str(fmt.Sprintf("PRI(%s)", pkNames(t)))
			}
			switch t.Kinds[i] {
			case plan.Computed:
				extras = row.Str("AS " + computedText(t, i))
			case plan.Metadata:
				// Flink's explainExtras: FROM only for a key the DDL names.
				e := "METADATA"
				for _, d := range tableDef(t).Columns {
					if d.Name.Name == c.Name && d.MetadataKey != nil {
						e += " FROM " + ast.QuoteString(*d.MetadataKey)
					}
				}
				if t.Virtual[i] {
					e += " VIRTUAL"
				}
				extras = row.Str(e)
			}
			if i == t.Rowtime {
				wm = row.Str(ast.FormatQuoted(tableDef(t).Watermarks[0].Expr))
			}
			typ := strings.TrimSuffix(ty.String(), " NOT NULL")
			res.Rows = append(res.Rows, row.Of(row.Str(c.Name), row.Str(typ), row.Bool(c.Type.Nullable), key, extras, wm))
		}
		return res, nil, nil
	}
	if v, found := s.cat.ViewAt(id); found {
		r, err := s.viewQuery(v)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range r.Columns() {
			typ := strings.TrimSuffix(c.Type.WithNullable(true).String(), " NOT NULL")
			res.Rows = append(res.Rows, row.Of(row.Str(c.Name), row.Str(typ), row.Bool(c.Type.Nullable), row.Null(), row.Null(), row.Null()))
		}
		return res, nil, nil
	}
	return nil, nil, fmt.Errorf("sql: Tables or views with the identifier '%s' doesn't exist", id.Summary())
}

func pkNames(t *plan.Table) string {
	var n []string
	for _, k := range t.PrimaryKey {
		n = append(n, t.Columns[k].Name)
	}
	return strings.Join(n, ", ")
}

func computedText(t *plan.Table, i int) string {
	for _, c := range tableDef(t).Columns {
		if c.Name.Name == t.Columns[i].Name && c.Expr != nil {
			return ast.FormatQuoted(c.Expr) // Flink's explainExtras: identifiers back-quoted
		}
	}
	return t.Computed[i].String()
}

// Job is a planned INSERT, statement set or query, ready to be added to a
// weir.Environment.
type Job struct {
	sess  *Session
	cfg   *Config
	sinks []*plan.Sink
	query plan.Rel
	// retractTopN plans every Top-N over an updating input as
	// RetractStrategy (tests: a plan made before UpdateFastStrategy).
	retractTopN bool
}

// IsQuery reports whether the job is a SELECT whose rows go back to the
// caller.
func (j *Job) IsQuery() bool { return j.query != nil }

// Schema is a query's result schema.
func (j *Job) Schema() row.Schema {
	if j.query == nil {
		return row.Schema{}
	}
	return plan.Schema(j.query)
}

// Updating reports whether a query's result is an updating changelog (in
// the batch mode a query's result is its final table: never updating).
func (j *Job) Updating() bool {
	return j.query != nil && j.query.Mode() == plan.Updating && !j.Batch()
}

// Batch reports whether the job runs in the batch execution mode
// (execution.runtime-mode = batch): bounded sources only, final results.
func (j *Job) Batch() bool { return j.cfg.Enum("execution.runtime-mode") == "batch" }

// Explain prints the job's plan with changelog modes.
func (j *Job) Explain() string {
	var b strings.Builder
	b.WriteString("== Optimized Physical Plan ==\n")
	if j.query != nil {
		b.WriteString(plan.Explain(j.query))
	}
	for _, s := range j.sinks {
		b.WriteString(plan.Explain(s))
	}
	return b.String()
}

// Options returns the environment options the session's configuration
// asks for: parallelism, checkpointing (interval, directory, mode,
// timeout, min-pause, tolerable failures, retained), state backend, the
// savepoint to start from (execution.state-recovery.path) and the restart
// strategy (restart-strategy.type; nil when not set).
func (j *Job) Options() weir.Options {
	o := weir.Options{Parallelism: j.cfg.Int("parallelism.default")}
	if iv := j.cfg.Duration("execution.checkpointing.interval"); iv > 0 {
		o.Checkpoints.Interval = iv
		o.Checkpoints.Dir = j.cfg.Get("execution.checkpointing.dir")
		if o.Checkpoints.Dir == "" {
			// Flink's older key, still read by Flink 2.
			o.Checkpoints.Dir = j.cfg.Get("state.checkpoints.dir")
		}
	}
	switch j.cfg.Enum("state.backend.type") {
	case "pebble", "rocksdb":
		o.StateBackend = weir.StatePebble
	}
	executionOptions(j.cfg, &o)
	return o
}

// Build adds the job's operators to env. A query's rows (with their
// kinds) are handed to collect, which is called from the sink's goroutine
// (parallelism 1, in order).
func (j *Job) Build(env *weir.Environment, collect func(row.Row) error) error {
	loc, err := time.LoadLocation(j.cfg.Get("table.local-time-zone"))
	if err != nil {
		return fmt.Errorf("sql: table.local-time-zone: %w", err)
	}
	t := &translator{env: env, cfg: j.cfg, reg: j.sess.reg, loc: loc, uids: map[string]int{}}
	return j.build(t, collect)
}

func (j *Job) build(t *translator, collect func(row.Row) error) error {
	if !j.Batch() {
		t.modes = j.changelogs(true) // changelog.go
		t.unshared = j.unshared()    // translate_changelog.go
	}
	for _, s := range j.sinks {
		if _, err := t.sink(s); err != nil {
			return err
		}
	}
	if j.query != nil {
		if collect == nil {
			return fmt.Errorf("sql: a query needs a collector for its rows")
		}
		st, err := t.root(j.query)
		if err != nil {
			return err
		}
		sk := st.SinkTo(weir.SinkFunc[row.Row](func(_ context.Context, r row.Row, _ int64) error {
			return collect(r)
		})).Name("Collect").SetParallelism(1)
		if t.locals > 0 {
			// The sink has no uid: its state is named by its position,
			// which the stateless LocalGroupAggregates before it moved.
			// It keeps the one-phase plan's name, so that a snapshot of
			// either plan restores into the other.
			sk.UID(fmt.Sprintf("Collect#%d", sk.ID()-t.locals))
		}
	}
	return nil
}

// ExecuteScript runs a script of statements: DDL and SET apply in order;
// each INSERT, statement set or query becomes a job, returned in order
// (Flink's SQL client runs them one after another; sql -f does too).
func (s *Session) ExecuteScript(script string) ([]*Result, []*Job, error) {
	stmts, err := parser.Parse(script)
	if err != nil {
		return nil, nil, err
	}
	var results []*Result
	var jobs []*Job
	for _, st := range stmts {
		res, job, err := s.Execute(st)
		if err != nil {
			return results, jobs, err
		}
		if res != nil {
			results = append(results, res)
		}
		if job != nil {
			jobs = append(jobs, job)
		}
	}
	return results, jobs, nil
}
