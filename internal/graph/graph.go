// Package graph turns the logical dataflow that the API builds into running
// subtasks: it decides parallelism and operator chaining, creates the
// channels between subtasks and starts one goroutine per subtask.
//
// Nodes and edges are type-erased. The typed API supplies closures that know
// each node's element types; graph only wires what they build. Execution is
// owned by Run: it starts every task, waits for all of them, and cancels the
// rest on the first failure.
package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/errkind"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/internal/statebackend/kv"
)

// Outputs are the typed outputs handed to an operator factory: Main is a
// runtime.Output[T] for the node's output type; Side maps a side-output tag
// to a runtime.Output of that tag's type (absent when nothing consumes it).
type Outputs struct {
	Main any
	Side map[string]any
}

// Instance is one subtask's instance of a node.
type Instance struct {
	// Op is the operator's lifecycle.
	Op runtime.Lifecycle
	// Inputs holds, per logical input, the runtime.Output[T] that receives
	// that input's records (nil for sources).
	Inputs []any
	// Watermarks receives the combined input watermark (the head operator).
	Watermarks runtime.WatermarkHandler
	// Source drives a source node.
	Source runtime.SourceDriver
}

// Node is one operator of the logical dataflow.
type Node struct {
	ID int
	// Name is shown in plans, errors, logs and metrics. While DefaultName
	// is set it is the API's default, which Validate and Explain number
	// when operators share it ("CEP", "CEP-2"); SetName replaces it.
	Name        string
	DefaultName bool
	UID         string
	Parallelism int
	// MaxInputs is the number of logical inputs (0 for sources, 1 or 2).
	NumInputs int
	Inputs    []*Edge
	Outputs   []*Edge
	// NoChain forbids chaining this node to its input.
	NoChain bool
	// New creates the operator for one subtask.
	New func(ctx *runtime.OperatorContext, outs Outputs) (Instance, error)
	// NewDiscard returns a runtime.Output of the node's main output type that
	// drops everything (used when nothing consumes the main output).
	NewDiscard func() any
	// baseName is the default name before numbering: operatorID uses it, so
	// that numbering changes no state id.
	baseName string
}

// SetName gives the node a name of the user's choice (never numbered).
func (n *Node) SetName(name string) {
	n.Name, n.DefaultName, n.baseName = name, false, ""
}

// stateName is the name part of the node's state id: the name it was given,
// without the number added to a shared default name.
func (n *Node) stateName() string {
	if n.DefaultName && n.baseName != "" {
		return n.baseName
	}
	return n.Name
}

// numberDefaults gives nodes with a default name distinct names: the first
// node keeps its default, later ones sharing it are numbered from 2
// ("CEP", "CEP-2"), skipping names that other nodes have. It can run again
// after names changed.
func (g *Graph) numberDefaults() {
	taken := map[string]bool{}
	for _, n := range g.Nodes {
		if !n.DefaultName {
			taken[n.Name] = true
		}
	}
	next := map[string]int{}
	for _, n := range g.Nodes {
		if !n.DefaultName {
			continue
		}
		base := n.stateName()
		name := base
		if next[base] > 0 || taken[name] {
			i := max(next[base], 1)
			for {
				i++
				if name = fmt.Sprintf("%s-%d", base, i); !taken[name] {
					break
				}
			}
			next[base] = i
		} else {
			next[base] = 1
		}
		n.Name, n.baseName = name, base
		taken[name] = true
	}
}

// Edge connects the output (or side output Tag) of From to logical input
// Input of To. Its closures are typed by the element type.
type Edge struct {
	From, To     *Node
	Tag          string
	Input        int
	Partitioning runtime.Partitioning
	// KeyHash maps a record (as any(T) is not used: see NewWriter) — set by
	// the API for Hash edges inside NewWriter.
	// NewWriter creates a writer over chans; for Hash edges it routes by key
	// group using maxPar and the number of consumer subtasks len(chans).
	NewWriter func(chans []*runtime.Channel, done <-chan struct{}, maxPar int) (out any, w runtime.Writer)
	// NewDeliver returns the function that feeds batches of this edge's type
	// into target, a runtime.Output of the same type.
	NewDeliver func(target any) runtime.Deliver
	// NewFanout combines several runtime.Outputs of this edge's type.
	NewFanout func(outs []any) any
}

// Graph is a logical dataflow.
type Graph struct {
	Nodes []*Node
	// errs are mistakes made while the API built the graph; Validate
	// reports the first.
	errs []error
}

// Fail records a mistake in building the graph, for Validate to report:
// the API's builder methods return no errors.
func (g *Graph) Fail(err error) { g.errs = append(g.errs, err) }

// AddNode appends n and assigns its ID.
func (g *Graph) AddNode(n *Node) *Node {
	n.ID = len(g.Nodes)
	g.Nodes = append(g.Nodes, n)
	return n
}

// Connect adds e between e.From and e.To.
func (g *Graph) Connect(e *Edge) {
	e.From.Outputs = append(e.From.Outputs, e)
	e.To.Inputs = append(e.To.Inputs, e)
}

// Options configure execution.
type Options struct {
	Parallelism     int
	MaxParallelism  int
	Chaining        bool
	BatchSize       int
	ChannelCapacity int
	Logger          *slog.Logger
	Clock           runtime.Clock
	// Report, if set, receives each task's metrics periodically.
	Report         func(task *TaskInfo, m *runtime.TaskMetrics)
	ReportInterval time.Duration
	// OpMetrics, if set, is called once per operator instance, to publish
	// its counters when the task reports.
	OpMetrics func(task *TaskInfo, ctx *runtime.OperatorContext)
	// OnCheckpoint, if set, is told of every checkpoint and savepoint that
	// ended (completed or aborted), on the checkpoint driver's goroutine.
	OnCheckpoint func(checkpoint.Event)
	// LatencyInterval, if positive, makes source tasks emit latency
	// markers this often; OnLatency (required then) records each marker
	// that reaches a task whose chain holds sinks (operators without
	// outputs), on that task's goroutine: sinks are their names.
	LatencyInterval time.Duration
	OnLatency       func(task *TaskInfo, sinks []string, m *runtime.LatencyMarker, now int64)
	// Checkpoint, if set, turns checkpointing on.
	Checkpoint *CheckpointOptions
	// Restore, if set, is the checkpoint the job starts from.
	Restore *Restore
	// Savepoints delivers savepoint requests (with Checkpoint set).
	Savepoints <-chan SavepointRequest
	// StateBackend names the keyed state backend ("heap" or "pebble");
	// StateDir is the local directory under which each run of the job
	// makes its operators' working directories.
	StateBackend string
	StateDir     string
	// StateEngine opens Pebble databases (nil: none linked).
	StateEngine kv.Engine
	// PrivateStateDir marks StateDir as the default root under the shared
	// temporary directory (DefaultStateDir): Build creates it 0700, or
	// refuses it when it is not the current user's alone.
	PrivateStateDir bool
	// runDir is this build's directory under StateDir.
	runDir string
}

// MaxMaxParallelism is the largest max parallelism (number of key groups),
// as in Flink.
const MaxMaxParallelism = 32768

// TaskInfo names a running subtask.
type TaskInfo struct {
	Vertex  string
	Subtask int
	par     int
	nodes   []*Node // the chain, head first
}

func (o *Options) fill() {
	if o.Parallelism <= 0 {
		o.Parallelism = 1
	}
	if o.MaxParallelism <= 0 {
		o.MaxParallelism = keygroup.DefaultMaxParallelism
	}
	if o.BatchSize <= 0 {
		o.BatchSize = runtime.DefaultBatchSize
	}
	if o.ChannelCapacity <= 0 {
		o.ChannelCapacity = runtime.DefaultChannelCapacity
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = runtime.WallClock{}
	}
	if o.ReportInterval <= 0 {
		o.ReportInterval = time.Second
	}
}

func (g *Graph) parallelism(n *Node, o *Options) int {
	if n.Parallelism > 0 {
		return n.Parallelism
	}
	return o.Parallelism
}

// chained reports whether e joins its two nodes into one chain.
func (g *Graph) chained(e *Edge, o *Options) bool {
	return o.Chaining && e.Partitioning == runtime.Forward && !e.To.NoChain && len(e.To.Inputs) == 1 &&
		g.parallelism(e.From, o) == g.parallelism(e.To, o)
}

// Validate checks the graph before it runs.
func (g *Graph) Validate(o Options) error {
	o.fill()
	if len(g.errs) > 0 {
		return g.errs[0]
	}
	g.numberDefaults()
	if len(g.Nodes) == 0 {
		return errors.New("weir: the job has no operators")
	}
	if o.MaxParallelism > MaxMaxParallelism {
		return &errkind.OptionError{Prefix: "weir", Option: "MaxParallelism", Reason: fmt.Sprintf("%d is above the limit of %d key groups", o.MaxParallelism, MaxMaxParallelism)}
	}
	uids := map[string]string{}
	for _, n := range g.Nodes {
		p := g.parallelism(n, &o)
		if p > o.MaxParallelism {
			return fmt.Errorf("weir: operator %q: parallelism %d exceeds max parallelism %d", n.Name, p, o.MaxParallelism)
		}
		if n.UID != "" {
			if other, ok := uids[n.UID]; ok {
				return fmt.Errorf("weir: operators %q and %q share uid %q", other, n.Name, n.UID)
			}
			uids[n.UID] = n.Name
		}
	}
	return nil
}

// vertex is a chain of nodes run by one task per subtask.
type vertex struct {
	head  *Node
	nodes []*Node
	par   int
	name  string
	gates []*runtime.Gate // per subtask
	// inEdges are the non-chained edges into the chain's head.
	inEdges []*Edge
}

// Plan describes how a graph is executed; String renders it like EXPLAIN.
type Plan struct {
	vertices []*vertex
	byNode   map[*Node]*vertex
}

// PhysicalPlan is how a graph runs: its vertices (chains of operators run
// together by one task per subtask) and the exchanges between them. It is
// what EXPLAIN prints, and what a UI or a cluster coordinator reads.
type PhysicalPlan struct {
	Vertices []PlanVertex `json:"vertices"`
}

// PlanVertex is one vertex of a PhysicalPlan. Its subtasks are addressed as
// (ID, subtask index), 0 <= subtask < Parallelism.
type PlanVertex struct {
	// ID is the vertex's index in the plan.
	ID int `json:"id"`
	// Name joins the names of its operators with " -> ".
	Name        string `json:"name"`
	Parallelism int    `json:"parallelism"`
	// Operators are the chained operators, head first.
	Operators []PlanOperator `json:"operators"`
	// Inputs are the exchanges feeding the head operator.
	Inputs []PlanInput `json:"inputs,omitempty"`
}

// PlanOperator is one operator of a vertex.
type PlanOperator struct {
	Name string `json:"name"`
	// UID is the operator's stable id, "" if the job set none.
	UID string `json:"uid,omitempty"`
}

// PlanInput is an exchange into a vertex.
type PlanInput struct {
	// From is the producing vertex's ID; Operator the producing operator
	// (the vertex's last one, or one whose side output this is).
	From     int    `json:"from"`
	Operator string `json:"operator"`
	// Partitioning is how records are routed: FORWARD, HASH, REBALANCE or
	// BROADCAST (a forward edge between different parallelisms is shown as
	// the rebalance the writer does).
	Partitioning string `json:"partitioning"`
	// SideOutput is the side-output tag read, "" for the main output.
	SideOutput string `json:"sideOutput,omitempty"`
	// Input is the logical input of the head operator (0, or 1 for the
	// second input of a two-input operator).
	Input int `json:"input"`
}

// Physical returns the graph's physical plan under o.
func (g *Graph) Physical(o Options) PhysicalPlan {
	o.fill()
	g.numberDefaults()
	p := g.plan(&o)
	ids := make(map[*vertex]int, len(p.vertices))
	for i, v := range p.vertices {
		ids[v] = i
	}
	var pp PhysicalPlan
	for i, v := range p.vertices {
		pv := PlanVertex{ID: i, Name: v.name, Parallelism: v.par}
		for _, n := range v.nodes {
			pv.Operators = append(pv.Operators, PlanOperator{Name: n.Name, UID: n.UID})
		}
		for _, e := range v.inEdges {
			part := e.Partitioning
			if part == runtime.Forward && g.parallelism(e.From, &o) != v.par {
				part = runtime.Rebalance // as the writer will do
			}
			pv.Inputs = append(pv.Inputs, PlanInput{From: ids[p.byNode[e.From]], Operator: e.From.Name,
				Partitioning: part.String(), SideOutput: e.Tag, Input: e.Input})
		}
		pp.Vertices = append(pp.Vertices, pv)
	}
	return pp
}

// Explain returns a textual plan: one line per vertex with its chain,
// parallelism and input partitioning.
func (g *Graph) Explain(o Options) string {
	var b strings.Builder
	for _, v := range g.Physical(o).Vertices {
		fmt.Fprintf(&b, "%s [parallelism %d]", v.Name, v.Parallelism)
		for _, in := range v.Inputs {
			fmt.Fprintf(&b, " <- %s from %q", in.Partitioning, in.Operator)
			if in.SideOutput != "" {
				fmt.Fprintf(&b, " side output %q", in.SideOutput)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func (g *Graph) plan(o *Options) *Plan {
	p := &Plan{byNode: map[*Node]*vertex{}}
	for _, n := range g.Nodes {
		if len(n.Inputs) == 1 && g.chained(n.Inputs[0], o) {
			continue
		}
		v := &vertex{head: n, par: g.parallelism(n, o)}
		var collect func(*Node)
		collect = func(x *Node) {
			v.nodes = append(v.nodes, x)
			p.byNode[x] = v
			for _, e := range x.Outputs {
				if g.chained(e, o) {
					collect(e.To)
				}
			}
		}
		collect(n)
		names := make([]string, len(v.nodes))
		for i, x := range v.nodes {
			names[i] = x.Name
		}
		v.name = strings.Join(names, " -> ")
		v.inEdges = n.Inputs
		p.vertices = append(p.vertices, v)
	}
	return p
}

// Job is a built, runnable graph: its tasks and the channels between them.
type Job struct {
	tasks []*runtime.Task
	infos []*TaskInfo
	// stateDir is removed when the job ends; unlock releases its lock.
	stateDir string
	unlock   func()
}

// removeState deletes the job's local state directory.
func (j *Job) removeState() {
	if j.stateDir != "" {
		_ = os.RemoveAll(j.stateDir)
		j.stateDir = ""
	}
	if j.unlock != nil {
		j.unlock()
		j.unlock = nil
	}
}

// Build creates the tasks of the graph. Writers stop blocking when ctx is
// done, and operators pass it to their blocking calls
// (runtime.OperatorContext.Context), so ctx must be the context the job
// runs under, cancelled when the job is cancelled or fails.
func (g *Graph) Build(ctx context.Context, o Options) (*Job, error) {
	o.fill()
	if err := g.Validate(o); err != nil {
		return nil, err
	}
	if err := checkRestore(o.Restore, g, &o); err != nil {
		return nil, err
	}
	var unlock func()
	if o.StateDir != "" && o.PrivateStateDir {
		if err := ensurePrivateDir(o.StateDir); err != nil {
			return nil, err
		}
	}
	if o.StateDir != "" {
		dir, u, err := makeRunDir(o.StateDir, o.Logger)
		if err != nil {
			return nil, err
		}
		o.runDir, unlock = dir, u
	}
	plan := g.plan(&o)
	// Gates and channels: gate per consumer subtask, channel per
	// (edge, producer subtask, consumer subtask) pair that exchanges data.
	for _, v := range plan.vertices {
		v.gates = make([]*runtime.Gate, v.par)
		for i := range v.gates {
			v.gates[i] = runtime.NewGate()
		}
	}
	// chans[edge][producer] = channels that producer writes, by consumer.
	chans := map[*Edge][][]*runtime.Channel{}
	for _, v := range plan.vertices {
		for _, e := range v.inEdges {
			from := plan.byNode[e.From]
			per := make([][]*runtime.Channel, from.par)
			pointwise := e.Partitioning == runtime.Forward && from.par == v.par
			for p := 0; p < from.par; p++ {
				if pointwise {
					per[p] = []*runtime.Channel{v.gates[p].NewChannel(e.Input, o.ChannelCapacity)}
					continue
				}
				per[p] = make([]*runtime.Channel, v.par)
				for c := 0; c < v.par; c++ {
					per[p][c] = v.gates[c].NewChannel(e.Input, o.ChannelCapacity)
				}
			}
			chans[e] = per
		}
	}
	j := &Job{stateDir: o.runDir, unlock: unlock}
	for vi, v := range plan.vertices {
		for i := 0; i < v.par; i++ {
			t, info, err := g.buildTask(ctx, plan, v, i, chans, &o)
			if err != nil {
				j.removeState()
				return nil, err
			}
			if o.Checkpoint != nil {
				t.Checkpoint = &runtime.Checkpointing{Task: taskID(vi, i), Mailbox: make(chan runtime.Mail, 64), ExactlyOnce: !o.Checkpoint.AtLeastOnce}
			}
			j.tasks = append(j.tasks, t)
			j.infos = append(j.infos, info)
		}
	}
	return j, nil
}

// Run executes the graph until every task finished, one failed, or ctx is
// done. It returns the first task error (not the cancellations it caused);
// canceled by ctx, it returns context.Canceled (or ctx's cause).
func (g *Graph) Run(ctx context.Context, o Options) error {
	o.fill()
	ctx, cancelCause := context.WithCancelCause(ctx)
	cancel := func() { cancelCause(nil) }
	defer cancel()
	j, err := g.Build(ctx, o)
	if err != nil {
		return err
	}
	defer j.removeState()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	var driverDone chan struct{}
	if o.Checkpoint != nil {
		d, err := j.newDriver(ctx, &o, 64, cancelCause)
		if err != nil {
			return err
		}
		tick := o.Checkpoint.Interval / 10
		if tick <= 0 || tick > 100*time.Millisecond {
			tick = 100 * time.Millisecond
		}
		if tick < time.Millisecond {
			tick = time.Millisecond
		}
		dctx, dcancel := context.WithCancel(ctx)
		defer dcancel()
		driverDone = make(chan struct{})
		go func() {
			defer close(driverDone)
			d.Run(dctx, tick)
		}()
		defer func() { dcancel(); <-driverDone }()
	}
	for _, t := range j.tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := t.Run(ctx); err != nil {
				mu.Lock()
				if firstErr == nil || (isCancel(firstErr) && !isCancel(err)) {
					firstErr = err
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	cause := context.Cause(ctx)
	if errors.Is(cause, ErrStoppedWithSavepoint) && (firstErr == nil || isCancel(firstErr)) {
		return nil
	}
	if firstErr != nil && isCancel(firstErr) && cause != nil {
		// Every task ended because the job was canceled: its answer is
		// the cause, the checkpoint driver's failure or context.Canceled.
		// Which task noticed first (a blocked exchange answers
		// runtime.ErrCanceled, a task loop context.Canceled) is a race and
		// must not decide what the caller sees.
		return cause
	}
	return firstErr
}

// newDriver creates the checkpoint driver of j (o.Checkpoint set) and
// connects the tasks to it: their reports, and the store of their parts.
// reportsCap is the capacity of the reports channel; fail ends the job.
func (j *Job) newDriver(ctx context.Context, o *Options, reportsCap int, fail context.CancelCauseFunc) (*checkpoint.Driver, error) {
	reports := make(chan runtime.Report, reportsCap)
	d, err := checkpoint.NewDriver(ctx, checkpoint.DriverOptions{Config: o.Checkpoint.Config,
		Storage: o.Checkpoint.Storage, Tasks: j.driverTasks(), Restore: o.Restore,
		MaxParallelism: o.MaxParallelism, Reports: reports, Savepoints: o.Savepoints,
		Fail: fail, Logger: o.Logger, OnEvent: o.OnCheckpoint})
	if err != nil {
		return nil, err
	}
	for _, t := range j.tasks {
		t.Checkpoint.Reports = reports
		t.Checkpoint.Store = d.Parts()
	}
	return d, nil
}

// Close closes every task and returns the first error.
func (j *Job) Close() error {
	var first error
	for _, t := range j.tasks {
		if err := t.Close(); err != nil && first == nil {
			first = err
		}
	}
	j.removeState()
	return first
}

func isCancel(err error) bool {
	return errors.Is(err, runtime.ErrCanceled) || errors.Is(err, context.Canceled) || errors.Is(err, runtime.ErrStopped)
}

func (g *Graph) buildTask(ctx context.Context, plan *Plan, v *vertex, sub int, chans map[*Edge][][]*runtime.Channel, o *Options) (*runtime.Task, *TaskInfo, error) {
	info := &TaskInfo{Vertex: v.name, Subtask: sub, par: v.par, nodes: v.nodes}
	t := &runtime.Task{
		Name:           fmt.Sprintf("%s (%d/%d)", v.name, sub+1, v.par),
		Timers:         runtime.NewTimerQueue(o.Clock),
		ReportInterval: o.ReportInterval,
	}
	if o.Report != nil {
		t.Report = func(m *runtime.TaskMetrics) { o.Report(info, m) }
	}
	done := ctx.Done()
	// The subtask's loggers carry its vertex and index (the job's logger
	// carries the job).
	taskLog := o.Logger.With("vertex", v.name, "subtask", sub)
	insts := map[*Node]Instance{}
	var build func(n *Node) error
	build = func(n *Node) error {
		outs := Outputs{Side: map[string]any{}}
		groups := map[string][]any{}
		var fanout = map[string]func([]any) any{}
		for _, e := range n.Outputs {
			var out any
			if g.chained(e, o) && plan.byNode[e.To] == v {
				if err := build(e.To); err != nil {
					return err
				}
				out = insts[e.To].Inputs[e.Input]
			} else {
				var w runtime.Writer
				out, w = e.NewWriter(chans[e][sub], done, o.MaxParallelism)
				t.Writers = append(t.Writers, w)
			}
			groups[e.Tag] = append(groups[e.Tag], out)
			fanout[e.Tag] = e.NewFanout
		}
		for tag, list := range groups {
			var out any = list[0]
			if len(list) > 1 {
				out = fanout[tag](list)
			}
			if tag == "" {
				outs.Main = out
			} else {
				outs.Side[tag] = out
			}
		}
		if outs.Main == nil && n.NewDiscard != nil {
			outs.Main = n.NewDiscard()
		}
		par := g.parallelism(n, o)
		octx := &runtime.OperatorContext{
			Context: ctx,
			Name:    n.Name, UID: n.UID, Subtask: sub, Parallelism: par,
			MaxParallelism: o.MaxParallelism,
			KeyGroups:      keygroup.RangeFor(o.MaxParallelism, par, sub),
			Time:           t.Timers,
			Logger:         taskLog.With("operator", n.Name),
			Metrics:        &runtime.OperatorMetrics{CurrentWatermark: runtime.MinWatermark},
			Checkpointing:  o.Checkpoint != nil,
			StateBackend:   o.StateBackend,
			StateEngine:    o.StateEngine,
		}
		if o.runDir != "" {
			octx.StateDir = filepath.Join(o.runDir, fmt.Sprintf("op%d-%d", n.ID, sub))
		}
		rs, err := o.Restore.State(operatorID(n), octx.KeyGroups)
		if err != nil {
			return fmt.Errorf("weir: operator %q: restore: %w", n.Name, err)
		}
		octx.Restore = rs
		inst, err := n.New(octx, outs)
		if err != nil {
			return fmt.Errorf("weir: operator %q: %w", n.Name, err)
		}
		insts[n] = inst
		// Chain order is head first: prepend, since build recurses tail first.
		t.Chain = append([]runtime.ChainMember{{Op: inst.Op, Ctx: octx}}, t.Chain...)
		if o.OpMetrics != nil {
			o.OpMetrics(info, octx)
		}
		return nil
	}
	if err := build(v.head); err != nil {
		return nil, nil, err
	}
	// Chain order must be topological from the head: rebuild it by walking.
	t.Chain = orderChain(v, insts, t.Chain)
	// Every operator may post to the task's mailbox; its priority is its
	// chain position, so that a yielding operator runs only the actions of
	// operators downstream of it (runtime.Mailbox).
	t.Mailbox = runtime.NewMailbox()
	for i, m := range t.Chain {
		m.Ctx.Mailbox = t.Mailbox.Executor(i)
	}
	head := insts[v.head]
	if o.LatencyInterval > 0 && o.OnLatency != nil {
		var sinks []string
		for _, n := range v.nodes {
			if len(n.Outputs) == 0 && n.NumInputs > 0 {
				sinks = append(sinks, n.Name)
			}
		}
		if len(sinks) > 0 {
			t.OnLatency = func(m *runtime.LatencyMarker, now int64) { o.OnLatency(info, sinks, m, now) }
		}
		if head.Source != nil {
			t.LatencyInterval, t.LatencySource = o.LatencyInterval, v.head.Name
		}
	}
	if head.Source != nil {
		t.Source = head.Source
	} else {
		t.Gate = v.gates[sub]
		t.Head = head.Watermarks
		t.Deliver = make([]runtime.Deliver, v.head.NumInputs)
		for _, e := range v.inEdges {
			if t.Deliver[e.Input] == nil {
				t.Deliver[e.Input] = e.NewDeliver(head.Inputs[e.Input])
			}
		}
		for i, d := range t.Deliver {
			if d == nil {
				return nil, nil, fmt.Errorf("weir: operator %q: input %d is not connected", v.head.Name, i+1)
			}
		}
	}
	return t, info, nil
}

// orderChain sorts chain members in the order of v.nodes (head first,
// depth-first), so that Finish runs upstream before downstream.
func orderChain(v *vertex, insts map[*Node]Instance, members []runtime.ChainMember) []runtime.ChainMember {
	byOp := map[runtime.Lifecycle]runtime.ChainMember{}
	for _, m := range members {
		byOp[m.Op] = m
	}
	out := make([]runtime.ChainMember, 0, len(members))
	for _, n := range v.nodes {
		out = append(out, byOp[insts[n].Op])
	}
	return out
}
