package plan

import (
	"slices"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// CreateTable resolves a CREATE TABLE statement into a catalog table (not
// yet added to the catalog). LIKE merges the source table's columns,
// watermark and options as Flink's default INCLUDING ALL OVERWRITING
// OPTIONS does, honouring EXCLUDING options.
func (b *Binder) CreateTable(ct *ast.CreateTable) (*Table, error) {
	if ct.AsQuery != nil {
		// The session turns CTAS into a table and an INSERT (sql/ctas.go).
		return nil, errAt(ct, "CREATE TABLE ... AS SELECT is run by the session, not bound as a table")
	}
	for _, c := range ct.Columns {
		if c.Kind == ast.PhysicalColumn && c.Type == nil {
			return nil, errAt(c, "Column '%s' has no data type: a column name alone is allowed only in CREATE TABLE ... AS SELECT", c.Name.Name)
		}
	}
	id, err := b.qualify(ct.Name)
	if err != nil {
		return nil, err
	}
	name := id.Name
	cols := append([]*ast.ColumnDef(nil), ct.Columns...)
	wms := ct.Watermarks
	pk := ct.PrimaryKey
	parts := ct.PartitionedBy
	opts := map[string]string{}
	if ct.Like != nil {
		srcID, err := b.qualify(ct.Like.Source)
		if err != nil {
			return nil, err
		}
		src := srcID.Name
		st, ok := b.cat.TableAt(srcID)
		if !ok {
			return nil, errAt(ct.Like, "Source table '%s' of the LIKE clause not found", src)
		}
		exclude := map[string]bool{}
		for _, o := range ct.Like.Options {
			if o.Strategy == "EXCLUDING" {
				exclude[o.Feature] = true
			}
		}
		if !exclude["ALL"] {
			var inherited []*ast.ColumnDef
			for _, c := range st.DDL.Columns {
				switch {
				case c.Kind == ast.ComputedColumn && exclude["GENERATED"]:
				case c.Kind == ast.MetadataColumn && exclude["METADATA"]:
				default:
					inherited = append(inherited, c)
				}
			}
			cols = append(inherited, cols...)
			if len(wms) == 0 && !exclude["WATERMARKS"] {
				wms = st.DDL.Watermarks
			}
			if pk == nil && !exclude["CONSTRAINTS"] {
				pk = st.DDL.PrimaryKey
			}
			if len(st.DDL.PartitionedBy) > 0 && !exclude["PARTITIONS"] {
				if len(parts) > 0 {
					return nil, errAt(ct.Like, "The base table already has partitions defined. You might want to specify EXCLUDING PARTITIONS.")
				}
				parts = st.DDL.PartitionedBy
			}
			if !exclude["OPTIONS"] {
				for k, v := range st.Options {
					opts[k] = v
				}
			}
		}
	}
	for _, o := range ct.Options {
		opts[o.Key] = o.Value
	}
	t := &Table{Name: name, Rowtime: -1, Options: opts, Temporary: ct.Temporary, DDL: ct,
		Catalog: id.Catalog, Database: id.Database}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c.Name.Name] {
			return nil, errAt(c, "A column named '%s' already exists in the table", c.Name.Name)
		}
		seen[c.Name.Name] = true
	}
	// Physical and metadata columns first (they make the source row), then
	// computed columns over that row.
	srcScope := &scope{}
	types := make([]row.Type, len(cols))
	for i, c := range cols {
		if c.Kind == ast.ComputedColumn {
			continue
		}
		ty, err := ResolveType(c.Type)
		if err != nil {
			return nil, err
		}
		types[i] = ty
	}
	for _, k := range []ast.ColumnKind{ast.PhysicalColumn, ast.MetadataColumn} {
		for i, c := range cols {
			if c.Kind == k {
				srcScope.cols = append(srcScope.cols, scopeCol{Name: c.Name.Name, Index: len(srcScope.cols), Type: types[i]})
			}
		}
	}
	// Computed columns and the watermark may call user-defined scalar
	// functions, as in Flink; they are bound now, so a function dropped
	// later stays in the table's definition.
	eb := &exprBinder{sc: srcScope, fns: b.Funcs}
	for i, c := range cols {
		var kind ColumnKind
		var comp expr.Expr
		var key string
		ty := types[i]
		switch c.Kind {
		case ast.PhysicalColumn:
			kind = Physical
		case ast.MetadataColumn:
			kind = Metadata
			key = c.Name.Name
			if c.MetadataKey != nil {
				key = *c.MetadataKey
			}
		case ast.ComputedColumn:
			kind = Computed
			if containsAgg(c.Expr, b.Funcs) {
				return nil, errAt(c, "aggregates are not allowed in computed column %s", c.Name.Name)
			}
			e, err := eb.bind(c.Expr)
			if err != nil {
				return nil, err
			}
			comp = e
			ty = stripTimeAttr(e)
			if isProctime(e) {
				ty.TimeAttr = row.Proctime // PROCTIME() declares a processing-time attribute
			}
		}
		t.Columns = append(t.Columns, Column{Name: c.Name.Name, Type: ty})
		t.Kinds = append(t.Kinds, kind)
		t.Computed = append(t.Computed, comp)
		t.MetadataKeys = append(t.MetadataKeys, key)
		t.Virtual = append(t.Virtual, c.Virtual)
		if c.PrimaryKey != nil {
			if pk != nil {
				return nil, errAt(c, "Duplicate primary key definition")
			}
			pk = &ast.PrimaryKey{Pos: c.PrimaryKey.Pos, Columns: []*ast.Ident{c.Name}, NotEnforced: c.PrimaryKey.NotEnforced}
		}
	}
	if pk != nil {
		if !pk.NotEnforced {
			return nil, errAt(pk, "Flink doesn't support ENFORCED mode for PRIMARY KEY constraint. ENFORCED/NOT ENFORCED controls if the constraint checks are performed on the incoming/outgoing data. Flink does not own the data therefore the only supported mode is the NOT ENFORCED mode")
		}
		for _, pc := range pk.Columns {
			i := columnIndex(t.Columns, pc.Name)
			if i < 0 {
				return nil, errAt(pc, "Primary key column '%s' is not defined in the schema", pc.Name)
			}
			if t.Kinds[i] != Physical {
				return nil, errAt(pc, "Could not create a PRIMARY KEY with column '%s': only physical columns can be primary key columns", pc.Name)
			}
			t.PrimaryKey = append(t.PrimaryKey, i)
			t.Columns[i].Type = t.Columns[i].Type.NotNull()
		}
	}
	for _, pc := range parts {
		i := columnIndex(t.Columns, pc.Name)
		if i < 0 {
			var names []string
			for _, c := range t.Columns {
				names = append(names, c.Name)
			}
			return nil, errAt(pc, "Partition column '%s' not defined in the table schema. Available columns: [%s]", pc.Name, strings.Join(names, ", "))
		}
		if t.Kinds[i] != Physical {
			return nil, errAt(pc, "Partition column '%s' is not a physical column: only physical columns can be partition keys", pc.Name)
		}
		if slices.Contains(t.PartitionKeys, i) {
			return nil, errAt(pc, "Partition column '%s' is listed twice", pc.Name)
		}
		t.PartitionKeys = append(t.PartitionKeys, i)
	}
	if len(wms) > 1 {
		return nil, errAt(wms[1], "Multiple watermark definitions are not supported yet")
	}
	if len(wms) == 1 {
		wm := wms[0]
		if len(wm.Column.Parts) != 1 {
			return nil, errAt(wm, "a watermark on a nested field is not supported")
		}
		i := columnIndex(t.Columns, wm.Column.Parts[0].Name)
		if i < 0 {
			return nil, errAt(wm, "The rowtime attribute field '%s' is not defined in the table schema, at line %d column %d", wm.Column, wm.Pos.Line, wm.Pos.Column)
		}
		ct := t.Columns[i].Type
		if !ct.IsTimestamp() || ct.Precision > 3 {
			return nil, errAt(wm, "Invalid data type of time field for watermark definition. The field must be of type TIMESTAMP(p) or TIMESTAMP_LTZ(p), the supported precision 'p' is from 0 to 3, but the time field type is %s", ct)
		}
		all := scopeOf(&Scan{Table: t}, "")
		e, err := (&exprBinder{sc: all, fns: b.Funcs}).bind(wm.Expr)
		if err != nil {
			return nil, err
		}
		if !e.Type().IsTimestamp() {
			return nil, errAt(wm, "Invalid data type of expression for watermark definition. The field must be of type TIMESTAMP(p) or TIMESTAMP_LTZ(p), the supported precision 'p' is from 0 to 3, but the watermark expression type is %s", e.Type())
		}
		t.Rowtime = i
		t.Watermark = e
		t.Columns[i].Type.TimeAttr = row.Rowtime
	}
	t.Expanded = expandDDL(ct, cols, wms, pk, parts, opts) // alter.go
	return t, nil
}

func columnIndex(cols []Column, name string) int {
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// CreateView resolves CREATE VIEW, checking that its query binds.
func (b *Binder) CreateView(cv *ast.CreateView) (*View, error) {
	id, err := b.qualify(cv.Name)
	if err != nil {
		return nil, err
	}
	name := id.Name
	r, err := b.Query(cv.Query)
	if err != nil {
		return nil, err
	}
	scope := b.cat.Current()
	if b.scope != nil {
		scope = *b.scope
	}
	v := &View{Name: name, Query: cv.Query, Temporary: cv.Temporary, DDL: cv,
		Catalog: id.Catalog, Database: id.Database, Scope: scope}
	if len(cv.Columns) > 0 {
		if len(cv.Columns) != len(r.Columns()) {
			return nil, errAt(cv, "view %s names %d columns, its query has %d", name, len(cv.Columns), len(r.Columns()))
		}
		for _, c := range cv.Columns {
			v.Columns = append(v.Columns, c.Name)
		}
	}
	return v, nil
}

// Insert binds INSERT INTO: the query's columns are matched to the target
// table's writable columns (physical and non-virtual metadata) by
// position, or to the listed columns (others get NULL), with Flink's
// implicit casts.
func (b *Binder) Insert(ins *ast.Insert) (*Sink, error) {
	if ins.Overwrite && !b.Batch {
		// Flink's batch mode overwrites the table or the written
		// partitions of a filesystem sink (the sql package checks the
		// sink's SupportsOverwrite).
		return nil, errAt(ins, "INSERT OVERWRITE is not supported in streaming mode")
	}
	id, err := b.qualify(ins.Table)
	if err != nil {
		return nil, err
	}
	t, ok := b.cat.TableAt(id)
	if !ok {
		return nil, errAt(ins.Table, "Object '%s' not found", ins.Table)
	}
	q, err := b.Query(ins.Query)
	if err != nil {
		return nil, err
	}
	sk, err := b.insertInto(ins, t, q)
	if err != nil {
		return nil, err
	}
	sk.Overwrite = ins.Overwrite
	return sk, nil
}

// InsertBound binds INSERT INTO with its query already bound (q), as
// CREATE OR REPLACE TABLE ... AS SELECT needs: its query is bound
// against the catalog before the table is replaced.
func (b *Binder) InsertBound(ins *ast.Insert, q Rel) (*Sink, error) {
	id, err := b.qualify(ins.Table)
	if err != nil {
		return nil, err
	}
	t, ok := b.cat.TableAt(id)
	if !ok {
		return nil, errAt(ins.Table, "Object '%s' not found", ins.Table)
	}
	return b.insertInto(ins, t, q)
}

// insertInto matches the bound query q to the target table t.
func (b *Binder) insertInto(ins *ast.Insert, t *Table, q Rel) (*Sink, error) {
	name := t.Name
	var target []int
	for i := range t.Columns {
		if t.Kinds[i] == Physical || (t.Kinds[i] == Metadata && !t.Virtual[i]) {
			target = append(target, i)
		}
	}
	// Static partitions (INSERT INTO t PARTITION (k = 'v') ...): the
	// query gives the other columns, as in Flink.
	static := map[int]expr.Expr{}
	for _, o := range ins.Partition {
		i := columnIndex(t.Columns, o.Key)
		if len(t.PartitionKeys) == 0 {
			return nil, errAt(o, "Table '%s' is not partitioned: a PARTITION clause is not allowed", strings.Join(t.Path(), "."))
		}
		if i < 0 || !slices.Contains(t.PartitionKeys, i) {
			return nil, errAt(o, "Column '%s' is not a partition column of table '%s'", o.Key, strings.Join(t.Path(), "."))
		}
		if _, dup := static[i]; dup {
			return nil, errAt(o, "Partition column '%s' is given twice", o.Key)
		}
		var v expr.Expr = expr.Lit(row.Str(o.Value), row.Char(len(o.Value)).NotNull())
		if o.ValueLit != nil {
			e, err := (&exprBinder{sc: &scope{}}).bind(o.ValueLit)
			if err != nil {
				return nil, err
			}
			v = e
		}
		want := t.Columns[i].Type
		want.TimeAttr = row.NoTimeAttr
		if !v.Type().WithNullable(true).Equal(want.WithNullable(true)) {
			c, err := expr.NewCast(v, want.WithNullable(v.Type().Nullable))
			if err != nil {
				return nil, errAt(o, "Partition value of column '%s': %v", o.Key, err)
			}
			v = c
		}
		static[i] = v
	}
	dynamic := target
	if len(static) > 0 {
		dynamic = slices.DeleteFunc(slices.Clone(target), func(i int) bool { _, ok := static[i]; return ok })
	}
	src := make([]int, len(dynamic)) // query column per dynamic target column, -1 = NULL
	for i := range src {
		src[i] = i
	}
	qc := q.Columns()
	if len(ins.Columns) > 0 {
		for i := range src {
			src[i] = -1
		}
		if len(ins.Columns) != len(qc) {
			return nil, errAt(ins, "INSERT INTO %s lists %d columns, the query produces %d", name, len(ins.Columns), len(qc))
		}
		for j, c := range ins.Columns {
			i := columnIndex(t.Columns, c.Name)
			if _, ok := static[i]; ok {
				return nil, errAt(c, "Column '%s' is a static partition column: it takes the PARTITION clause's value", c.Name)
			}
			k := -1
			for x, tgt := range dynamic {
				if tgt == i {
					k = x
				}
			}
			if k < 0 {
				return nil, errAt(c, "Unknown target column '%s'", c.Name)
			}
			src[k] = j
		}
	} else if len(qc) != len(dynamic) {
		return nil, errAt(ins, "Column types of query result and sink for '%s' do not match.\nCause: Different number of columns.\n\nQuery schema: %s\nSink schema:  %s",
			strings.Join(t.Path(), "."), colsString(qc), colsString(pick(t.Columns, dynamic)))
	}
	// srcOf maps each target column to its query column (-1 NULL, -2
	// static).
	srcOf := make([]int, len(target))
	for k, ti := range target {
		if _, ok := static[ti]; ok {
			srcOf[k] = -2
			continue
		}
		srcOf[k] = src[slices.Index(dynamic, ti)]
	}
	src = srcOf
	projs := make([]expr.Expr, len(target))
	cols := make([]Column, len(target))
	for k, ti := range target {
		want := t.Columns[ti].Type
		want.TimeAttr = row.NoTimeAttr
		cols[k] = Column{Name: t.Columns[ti].Name, Type: want}
		if src[k] == -2 {
			projs[k] = static[ti]
			continue
		}
		if src[k] < 0 {
			if !want.Nullable {
				return nil, errAt(ins, "Column '%s' has no default value and does not allow NULLs", t.Columns[ti].Name)
			}
			projs[k] = expr.Lit(row.Null(), want)
			continue
		}
		var e expr.Expr = expr.Ref(src[k], qc[src[k]].Type)
		got := qc[src[k]].Type
		got.TimeAttr = row.NoTimeAttr
		if !got.WithNullable(true).Equal(want.WithNullable(true)) {
			c, err := expr.NewCast(e, want.WithNullable(got.Nullable))
			if err != nil {
				return nil, errAt(ins, "Column types of query result and sink for '%s' do not match.\nCause: Incompatible types for sink column '%s' at position %d: %v",
					strings.Join(t.Path(), "."), t.Columns[ti].Name, k, err)
			}
			e = c
		}
		projs[k] = e
	}
	sk := &Sink{In: &Calc{In: q, Projects: projs, Cols: cols}, Table: t}
	if len(static) > 0 {
		sk.Static = static
	}
	return sk, nil
}

func pick(cols []Column, idx []int) []Column {
	out := make([]Column, len(idx))
	for i, j := range idx {
		out[i] = cols[j]
	}
	return out
}

func colsString(cols []Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "[" + c.Name + ": " + c.Type.String() + "]"
	}
	return strings.Join(parts, ", ")
}

// bindWindowTVF binds TUMBLE, HOP, CUMULATE and SESSION in FROM.
func (b *Binder) bindWindowTVF(tf *ast.TableFunc) (Rel, error) {
	if tf.Lateral {
		return nil, errAt(tf, "LATERAL TABLE(...) table functions are not supported yet")
	}
	fn := strings.ToUpper(tf.Call.Name.Last().Name)
	var params []string
	var kind WindowKind
	switch fn {
	case "TUMBLE":
		kind, params = Tumble, []string{"DATA", "TIMECOL", "SIZE", "OFFSET"}
	case "HOP":
		kind, params = Hop, []string{"DATA", "TIMECOL", "SLIDE", "SIZE", "OFFSET"}
	case "CUMULATE":
		kind, params = Cumulate, []string{"DATA", "TIMECOL", "STEP", "SIZE", "OFFSET"}
	case "SESSION":
		kind, params = Session, []string{"DATA", "TIMECOL", "GAP"}
	default:
		return nil, errAt(tf, "table function %s is not supported yet (window functions are TUMBLE, HOP, CUMULATE and SESSION)", fn)
	}
	args := map[string]ast.Expr{}
	// OFFSET is the optional parameter: DEFAULT (by name or position)
	// leaves it out. A parameter given twice (by name, or by name and
	// position) is an error, as Calcite's "Duplicate argument name"
	// (the later one replaced the earlier, a DEFAULT was lost).
	given := map[string]bool{}
	setArg := func(p string, a ast.Expr) error {
		if given[p] {
			return errAt(a, "Duplicate argument name '%s' in the call of %s", p, fn)
		}
		given[p] = true
		if _, ok := a.(*ast.DefaultArg); ok {
			if p != "OFFSET" {
				return errAt(a, errDefaultNotOptional)
			}
			return nil
		}
		args[p] = a
		return nil
	}
	for i, a := range tf.Call.Args {
		if na, ok := a.(*ast.NamedArg); ok {
			p := strings.ToUpper(na.Name.Name)
			if !contains(params, p) {
				return nil, errAt(na, "%s has no parameter %s (parameters: %s)", fn, p, strings.Join(params, ", "))
			}
			if err := setArg(p, na.Value); err != nil {
				return nil, err
			}
			continue
		}
		if i >= len(params) {
			return nil, errAt(a, "too many arguments for %s", fn)
		}
		if err := setArg(params[i], a); err != nil {
			return nil, err
		}
	}
	data, ok := args["DATA"].(*ast.TableArg)
	if !ok {
		return nil, errAt(tf, "%s needs a table argument (TABLE name)", fn)
	}
	in, _, err := b.namedTable(data.Name)
	if err != nil {
		return nil, err
	}
	desc, ok := args["TIMECOL"].(*ast.Descriptor)
	if !ok || len(desc.Columns) != 1 {
		return nil, errAt(tf, "%s needs the time column as DESCRIPTOR(column)", fn)
	}
	cols := in.Columns()
	tc := columnIndex(cols, desc.Columns[0].Name)
	if tc < 0 {
		return nil, errAt(desc, "Column '%s' not found in the table of %s", desc.Columns[0].Name, fn)
	}
	if cols[tc].Type.TimeAttr == row.NoTimeAttr {
		return nil, errAt(desc, "The window function %s(TABLE table_name, DESCRIPTOR(timecol), ...) requires the timecol to be a time attribute type, but is %s.", fn, cols[tc].Type)
	}
	w := Window{Kind: kind, TimeCol: tc}
	interval := func(p string, required bool) (int64, error) {
		a, ok := args[p]
		if !ok {
			if required {
				return 0, errAt(tf, "%s needs the %s argument", fn, p)
			}
			return 0, nil
		}
		e, err := (&exprBinder{sc: &scope{}}).bind(a)
		if err != nil {
			return 0, err
		}
		if e, err = expr.Fold(e); err != nil {
			return 0, errAt(a, "%v", err)
		}
		l, ok := e.(*expr.Literal)
		if !ok || l.T.Root != row.TypeIntervalDayTime || l.Value.IsNull() {
			return 0, errAt(a, "%s of %s must be a constant INTERVAL ... (DAY TO SECOND), not %s", p, fn, e)
		}
		return l.Value.Int(), nil
	}
	switch kind {
	case Tumble:
		if w.Size, err = interval("SIZE", true); err == nil {
			w.Offset, err = interval("OFFSET", false)
		}
	case Hop:
		if w.Slide, err = interval("SLIDE", true); err == nil {
			if w.Size, err = interval("SIZE", true); err == nil {
				w.Offset, err = interval("OFFSET", false)
			}
		}
	case Cumulate:
		if w.Step, err = interval("STEP", true); err == nil {
			if w.Size, err = interval("SIZE", true); err == nil {
				w.Offset, err = interval("OFFSET", false)
			}
		}
	case Session:
		w.Gap, err = interval("GAP", true)
		sc := scopeOf(in, "")
		for _, p := range data.PartitionBy {
			e, err := (&exprBinder{sc: sc}).bind(p)
			if err != nil {
				return nil, err
			}
			r, ok := e.(*expr.InputRef)
			if !ok {
				return nil, errAt(p, "SESSION partition keys must be columns")
			}
			w.PartitionKeys = append(w.PartitionKeys, r.Index)
		}
	}
	if err != nil {
		return nil, err
	}
	switch {
	case kind != Session && w.Size <= 0, kind == Hop && w.Slide <= 0, kind == Cumulate && w.Step <= 0, kind == Session && w.Gap <= 0:
		return nil, errAt(tf, "%s window sizes must be positive", fn)
	case kind == Hop && w.Size%w.Slide != 0:
		return nil, errAt(tf, "HOP table function based aggregate requires size must be an integral multiple of slide, but got size %d ms and slide %d ms", w.Size, w.Slide)
	case kind == Cumulate && w.Size%w.Step != 0:
		return nil, errAt(tf, "CUMULATE table function based aggregate requires maxSize must be an integral multiple of step, but got maxSize %d ms and step %d ms", w.Size, w.Step)
	}
	wt, wtime := windowColumnTypes(&w, cols[tc].Type)
	out := append([]Column(nil), cols...)
	out = append(out, Column{Name: "window_start", Type: wt}, Column{Name: "window_end", Type: wt}, Column{Name: "window_time", Type: wtime})
	return &WindowTVF{In: in, Window: w, Cols: out}, nil
}

// windowColumnTypes returns the types of window_start/window_end and of
// window_time for a window over a time attribute of type t, as Flink's:
// window_start and window_end are TIMESTAMP(3) NOT NULL (over a
// TIMESTAMP_LTZ or processing-time attribute the session zone's wall
// clock: w.LocalTime is set), window_time has the attribute's type
// (TIMESTAMP(3) or TIMESTAMP_LTZ(3)) and time attribute.
func windowColumnTypes(w *Window, t row.Type) (wt, wtime row.Type) {
	wt = row.TimestampType(3).NotNull()
	wtime = wt
	if t.Root == row.TypeTimestampLTZ || t.TimeAttr == row.Proctime {
		w.LocalTime = true
		wtime = row.TimestampLTZType(3).NotNull()
	}
	wtime.TimeAttr = t.TimeAttr
	return wt, wtime
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
