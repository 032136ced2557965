package checkpoint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
)

// nextMail returns the next mail of kind from box, failing the test if none
// comes.
func nextMail(t *testing.T, box <-chan runtime.Mail, kind runtime.MailKind) runtime.Mail {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m := <-box:
			if m.Kind == kind {
				return m
			}
		case <-timeout:
			t.Fatalf("no mail of kind %d", kind)
		}
	}
}

// TestDriverListsTaskParts drives a checkpoint through the Driver: the
// tasks (here two goroutines) write their parts themselves, concurrently,
// and acknowledge with handles; the driver writes only the metadata, which
// names each part by (vertex, subtask). The checkpoint then restores at a
// higher parallelism by key group.
func TestDriverListsTaskParts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := &Storage{Dir: t.TempDir()}
	const maxPar = 12
	ops := []OperatorInfo{{UID: "map#1", Name: "Map", Parallelism: 2}, {UID: "sums", Name: "KeyedProcess", Parallelism: 2}}
	reports := make(chan runtime.Report, 8)
	var tasks []DriverTask
	boxes := map[runtime.TaskID]chan runtime.Mail{}
	for sub := range 2 {
		id := runtime.TaskID{Vertex: 2, Subtask: sub}
		boxes[id] = make(chan runtime.Mail, 16)
		tasks = append(tasks, DriverTask{ID: id, Name: fmt.Sprintf("sums (%d/2)", sub+1), Mailbox: boxes[id], Source: true, Operators: ops})
	}
	d, driverDone := runDriver(t, ctx, DriverOptions{Config: Config{Interval: time.Millisecond}, Storage: store, Tasks: tasks,
		MaxParallelism: maxPar, Reports: reports})

	var id int64
	var tw sync.WaitGroup
	for _, task := range tasks {
		m := nextMail(t, boxes[task.ID], runtime.MailTrigger)
		id = m.ID
		// Each subtask's snapshot: the key groups it owns at parallelism 2,
		// and an operator-state item.
		r := keygroup.RangeFor(maxPar, 2, task.ID.Subtask)
		var snap runtime.TaskSnapshot
		snap.Ops = map[int]runtime.OperatorSnapshot{1: {Items: [][]byte{[]byte(fmt.Sprintf("item-%d", task.ID.Subtask))}}}
		os := snap.Ops[1]
		for kg := r.Start; kg < r.End; kg++ {
			os.Keyed = append(os.Keyed, runtime.KeyGroupState{KeyGroup: kg, Data: []byte(fmt.Sprintf("kg-%d", kg))})
		}
		snap.Ops[1] = os
		tw.Add(1)
		go func() {
			defer tw.Done()
			h, err := d.Parts().WritePart(ctx, m.ID, task.ID, snap, false)
			if err != nil {
				t.Error(err)
				return
			}
			reports <- runtime.Report{Kind: runtime.ReportAck, Task: task.ID, ID: m.ID, Handle: h}
		}()
	}
	tw.Wait()
	for _, task := range tasks {
		if m := nextMail(t, boxes[task.ID], runtime.MailComplete); m.ID != id {
			t.Fatalf("checkpoint %d completed, want %d", m.ID, id)
		}
	}
	cancel()
	<-driverDone

	m, files, err := store.Read(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != FormatVersion || len(m.Operators) != 1 || m.Operators[0].UID != "sums" {
		t.Fatalf("metadata %+v, want version %d with operator sums only", m, FormatVersion)
	}
	var names []string
	for sub, st := range m.Operators[0].Subtasks {
		if st.Vertex != 2 || st.Subtask != sub || st.File != fmt.Sprintf("task-2-%d.bin", sub) {
			t.Fatalf("subtask %d is %+v, want vertex 2, subtask %d, file task-2-%d.bin", sub, st, sub, sub)
		}
		names = append(names, st.File)
	}
	var listed []string
	for name := range m.Files {
		listed = append(listed, name)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, names) {
		t.Fatalf("metadata lists files %v, want %v", listed, names)
	}
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(store.ChkDir(id), name)); err != nil {
			t.Fatal(err)
		}
	}

	// Restore at parallelism 3: each new subtask gets exactly its key
	// groups, from whichever old subtask's part holds them, and every item.
	rs := &Restore{Meta: m, Files: files, Store: store}
	for sub := range 3 {
		r := keygroup.RangeFor(maxPar, 3, sub)
		st, err := rs.State("sums", r)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Keyed) != r.End-r.Start {
			t.Fatalf("subtask %d of 3 got key groups %v, want [%d,%d)", sub, st.Keyed, r.Start, r.End)
		}
		for kg := r.Start; kg < r.End; kg++ {
			if got, want := string(st.Keyed[kg]), fmt.Sprintf("kg-%d", kg); got != want {
				t.Fatalf("subtask %d of 3, key group %d: %q, want %q", sub, kg, got, want)
			}
		}
		if len(st.Items) != 2 || string(st.Items[0]) != "item-0" || string(st.Items[1]) != "item-1" {
			t.Fatalf("subtask %d of 3 got items %q, want both old subtasks'", sub, st.Items)
		}
	}
	if st, err := rs.State("map#1", keygroup.RangeFor(maxPar, 1, 0)); err != nil || st != nil {
		t.Fatalf("stateless operator restores %+v, %v; want nothing", st, err)
	}
}

// TestPartRefusedWhenNotOpen: a part for a checkpoint the driver did not
// open (or closed: aborted, completed) is refused, not written.
func TestPartRefusedWhenNotOpen(t *testing.T) {
	store := &Storage{Dir: t.TempDir()}
	id := runtime.TaskID{Vertex: 0, Subtask: 1}
	p := NewParts(store, map[runtime.TaskID][]OperatorInfo{id: {{UID: "u"}}})
	snap := runtime.TaskSnapshot{Ops: map[int]runtime.OperatorSnapshot{0: {Items: [][]byte{[]byte("x")}}}}
	if _, err := p.WritePart(context.Background(), 4, id, snap, false); err == nil {
		t.Fatal("wrote a part of a checkpoint that is not open")
	}
	p.begin(4, store.ChkDir(4), false)
	h, err := p.WritePart(context.Background(), 4, id, snap, false)
	if err != nil {
		t.Fatal(err)
	}
	ph := h.(*PartHandle)
	if ph.File != "task-0-1.bin" || ph.Size != 1 || len(ph.Files) != 1 || ph.StoredBytes() != 1 {
		t.Fatalf("handle %+v", ph)
	}
	p.end(4)
	if _, err := p.WritePart(context.Background(), 4, id, snap, false); err == nil {
		t.Fatal("wrote a part of a closed checkpoint")
	}
}

// TestReadsVersion1Metadata: a checkpoint written before parts were named
// by (vertex, subtask) still restores; an unknown version is refused with a
// clear error.
func TestReadsVersion1Metadata(t *testing.T) {
	dir := t.TempDir()
	sum, err := WriteFileIn(dir, "task-3.bin", []byte("abc"))
	if err != nil {
		t.Fatal(err)
	}
	m := &Metadata{ID: 1, MaxParallelism: 4, Files: map[string]uint32{"task-3.bin": sum},
		Operators: []OperatorMeta{{UID: "u", Parallelism: 1, Subtasks: []SubtaskMeta{{File: "task-3.bin",
			KeyGroups: []BlockMeta{{KeyGroup: 2, Offset: 0, Length: 3}}}}}}}
	b, err := EncodeMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	v1 := func(version int) []byte {
		body, _, _ := cutLastLine(b)
		s := string(body)
		s = strings.Replace(s, fmt.Sprintf(`"version": %d`, FormatVersion), fmt.Sprintf(`"version": %d`, version), 1)
		s = strings.Replace(s, `"vertex": 0,`, "", -1)
		return appendChecksum([]byte(s))
	}
	got, err := DecodeMetadata(v1(1))
	if err != nil {
		t.Fatalf("version 1: %v", err)
	}
	rs := &Restore{Meta: got, Files: map[string][]byte{"task-3.bin": []byte("abc")}}
	st, err := rs.State("u", keygroup.Range{Start: 0, End: 4})
	if err != nil || string(st.Keyed[2]) != "abc" {
		t.Fatalf("version 1 restores %+v, %v", st, err)
	}
	if _, err := DecodeMetadata(v1(FormatVersion + 1)); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("metadata version %d", FormatVersion+1)) {
		t.Fatalf("a newer version decodes: %v", err)
	}
}
