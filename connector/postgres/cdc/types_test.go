package cdc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/postgres/cdc"
	"github.com/weirstream/weir/format/debezium"
	"github.com/weirstream/weir/row"
)

// TestTypesIdentityDefaultAndDeadLetters reads a table of the common
// column types with REPLICA IDENTITY DEFAULT: values decode to the
// documented Go types in the snapshot and the stream; an update carries no
// old row (+U only) and a delete the old key; rows with a value that does
// not decode (an infinite date) go to the dead-letter output naming the
// table, position and column; the slot's confirmed position does not move
// before a checkpoint completes.
func TestTypesIdentityDefaultAndDeadLetters(t *testing.T) {
	c := connect(t)
	name := names(t, c)
	exec(t, c, `CREATE TABLE `+name+` (id int4 PRIMARY KEY, s int2, b int8, n numeric(12,3), f4 float4, f8 float8,
		ok bool, tx text, vc varchar(10), d date, ts timestamp, tz timestamptz, by bytea, j json, jb jsonb, u uuid, iv interval)`)
	ins := `INSERT INTO ` + name + ` VALUES ($1, 2, 3000000000, 12.345, 1.5, 2.25, true, 'text', 'vc', $2::date,
		'2024-02-29 12:34:56.789', '2024-02-29 12:34:56.789+02', '\xdeadbeef', '{"a": 1}', '{"b": [2]}',
		'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 02:00:00')`
	exec(t, c, ins, 1, "2024-02-29")
	exec(t, c, ins, 2, "infinity")

	dead := weir.NewOutputTag[weir.DeadLetter]("dead")
	opts := baseOpts(name)
	opts.ErrorPolicy = weir.DeadLetterTo(dead)
	env := weir.NewEnvironment(weir.Options{Parallelism: 1})
	src := weir.FromSource[cdc.Change](env, cdc.NewSource(opts), weir.NoWatermarks[cdc.Change](), "cdc").SetParallelism(1)
	got := weir.Collect(src)
	letters := weir.Collect(weir.SideOutput(src, dead))
	job, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer job.Cancel()
	waitFor(t, "the snapshot", 20*time.Second, func() error {
		if err := jobFailed(job); err != nil {
			t.Fatal(err)
		}
		if len(got.Values()) < 1 || len(letters.Values()) < 1 {
			return errors.New("not yet")
		}
		return nil
	})
	start := slotConfirmedLSN(t, name)
	exec(t, c, ins, 3, "2024-02-29")
	exec(t, c, ins, 4, "-infinity")
	exec(t, c, `UPDATE `+name+` SET tx = 'new' WHERE id = 3`)
	exec(t, c, `UPDATE `+name+` SET id = 5 WHERE id = 3`)
	exec(t, c, `DELETE FROM `+name+` WHERE id = 5`)
	waitFor(t, "the changes", 20*time.Second, func() error {
		if err := jobFailed(job); err != nil {
			t.Fatal(err)
		}
		if len(got.Values()) < 5 || len(letters.Values()) < 2 {
			return fmt.Errorf("%d changes, %d dead letters", len(got.Values()), len(letters.Values()))
		}
		return nil
	})
	chs := got.Values()
	want := map[string]any{
		"id": int64(1), "s": int64(2), "b": int64(3000000000), "n": "12.345", "f4": 1.5, "f8": 2.25, "ok": true,
		"tx": "text", "vc": "vc", "d": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		"ts": time.Date(2024, 2, 29, 12, 34, 56, 789e6, time.UTC), "tz": time.Date(2024, 2, 29, 10, 34, 56, 789e6, time.UTC),
		"by": []byte{0xde, 0xad, 0xbe, 0xef}, "j": json.RawMessage(`{"a": 1}`), "jb": json.RawMessage(`{"b": [2]}`),
		"u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "iv": "1 day 02:00:00",
	}
	for i, ch := range chs[:2] {
		if i == 1 {
			want["id"] = int64(3)
		}
		for col, w := range want {
			if v, _ := ch.Value(col); !reflect.DeepEqual(v, w) {
				t.Errorf("change %d (%s) column %s = %#v, want %#v", i, ch.Op, col, v, w)
			}
		}
	}
	ops := []string{}
	for _, ch := range chs {
		k := []string{}
		for _, kind := range ch.Kinds() {
			k = append(k, kind.String())
		}
		ops = append(ops, ch.Op.String()+strings.Join(k, ""))
	}
	if w := []string{"r+I", "c+I", "u+U", "u-D+I", "d-D"}; !slices.Equal(ops, w) {
		t.Fatalf("changes %v, want %v", ops, w)
	}
	if u := chs[2]; u.Before != nil {
		t.Errorf("update under REPLICA IDENTITY DEFAULT has a before image %v", u.Before)
	}
	if d := chs[4]; !d.BeforeKeyOnly || d.Before[0] != int64(5) || d.Before[1] != (cdc.Unavailable{}) {
		t.Errorf("delete's before image %v (key only %v), want the key 5 only", d.Before, d.BeforeKeyOnly)
	}
	if chs[1].LSN == 0 || chs[1].XID == 0 || chs[1].CommitTime.IsZero() || chs[0].LSN == 0 {
		t.Errorf("positions missing: %+v / %+v", chs[0], chs[1])
	}
	dls := letters.Values()
	if !strings.Contains(dls[0].Source, "table public."+name+" snapshot key (2)") || dls[0].Field != "d" || string(dls[0].Raw) != "infinity" {
		t.Errorf("snapshot dead letter %+v", dls[0])
	}
	if !strings.Contains(dls[1].Source, "table public."+name+" lsn ") || dls[1].Field != "d" || string(dls[1].Raw) != "-infinity" {
		t.Errorf("stream dead letter %+v", dls[1])
	}
	// Without checkpoints nothing is confirmed: the slot keeps the WAL.
	if now := slotConfirmedLSN(t, name); now != start {
		t.Errorf("slot confirmed %s, moved from %s without a checkpoint", now, start)
	}

	// The Debezium event of the insert decodes back through format/debezium.
	ev := cdc.AppendDebezium(nil, &chs[1])
	s := row.NewSchema(row.Col("id", row.IntType()), row.Col("n", row.DecimalType(12, 3)), row.Col("d", row.DateType()),
		row.Col("tz", row.TimestampLTZType(3)), row.Col("jb", row.String()))
	dec, err := debezium.NewDecoder(s, debezium.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := dec.Decode(nil, ev)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%s: %v %v", ev, rows, err)
	}
	if f := row.FormatRow(rows[0], []row.Type{s.Columns[0].Type, s.Columns[1].Type, s.Columns[2].Type, s.Columns[3].Type, s.Columns[4].Type}); !strings.Contains(f, "3, 12.345, 2024-02-29, 2024-02-29 10:34:56.789") {
		t.Errorf("debezium event %s decoded to %s", ev, f)
	}
}

// slotConfirmedLSN returns the slot's confirmed_flush_lsn (0 if there is
// no such slot).
func slotConfirmedLSN(t testing.TB, slot string) pglogrepl.LSN {
	t.Helper()
	c := connect(t)
	var s *string
	err := c.QueryRow(context.Background(), `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&s)
	if err != nil || s == nil {
		return 0
	}
	lsn, err := pglogrepl.ParseLSN(*s)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}

// TestConfirmAfterCheckpoint: with checkpoints, the slot's confirmed
// position advances past the changes once a checkpoint covering them
// completed.
func TestConfirmAfterCheckpoint(t *testing.T) {
	c := connect(t)
	name := names(t, c)
	w := newWorkload(name, 10, 4)
	w.createTable(t, c, false, 10)
	exec(t, c, `CREATE TABLE `+name+`_hb (at timestamptz)`)
	opts := baseOpts(name)
	opts.HeartbeatQuery = `INSERT INTO ` + name + `_hb VALUES (now())`
	dir := t.TempDir()
	job := startJob(t, dir, func(env *weir.Environment) { pipeline(env, opts, filepath.Join(dir, "out"), nil) })
	defer stopJob(t, job)
	waitFor(t, "the slot", 20*time.Second, func() error {
		if slotConfirmedLSN(t, name) == 0 {
			return errors.New("no slot")
		}
		return nil
	})
	for range 5 {
		if err := w.step(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	var curText string
	if err := c.QueryRow(context.Background(), `SELECT pg_current_wal_lsn()::text`).Scan(&curText); err != nil {
		t.Fatal(err)
	}
	cur, _ := pglogrepl.ParseLSN(curText)
	waitFor(t, "the slot's confirmed position past the changes", 20*time.Second, func() error {
		if err := jobFailed(job); err != nil {
			t.Fatal(err)
		}
		if got := slotConfirmedLSN(t, name); got < cur {
			return fmt.Errorf("confirmed %s, WAL at %s", got, cur)
		}
		return nil
	})
	waitFor(t, "heartbeats", 20*time.Second, func() error {
		var n int
		if err := c.QueryRow(context.Background(), `SELECT count(*) FROM `+name+`_hb`).Scan(&n); err != nil || n < 2 {
			return fmt.Errorf("%d heartbeats (%v)", n, err)
		}
		return nil
	})
	// WAL of tables not captured: keepalives carry the server's position,
	// so the idle slot advances past it too and does not hold the WAL.
	exec(t, c, `CREATE TABLE `+name+`_b (x int)`)
	exec(t, c, `INSERT INTO `+name+`_b SELECT generate_series(1, 1000)`)
	if err := c.QueryRow(context.Background(), `SELECT pg_current_wal_lsn()::text`).Scan(&curText); err != nil {
		t.Fatal(err)
	}
	cur, _ = pglogrepl.ParseLSN(curText)
	waitFor(t, "the idle slot's confirmed position past other tables' WAL", 20*time.Second, func() error {
		if err := jobFailed(job); err != nil {
			t.Fatal(err)
		}
		if got := slotConfirmedLSN(t, name); got < cur {
			return fmt.Errorf("confirmed %s, WAL at %s", got, cur)
		}
		return nil
	})
}

// TestFailsForGood: errors that retrying cannot fix fail the job at once
// with a message naming the cause.
func TestFailsForGood(t *testing.T) {
	c := connect(t)
	name := names(t, c)
	exec(t, c, `CREATE TABLE `+name+` (x int)`) // no primary key
	for _, tc := range []struct {
		table, want string
	}{
		{name + "_missing", "does not exist"},
		{name, "has no primary key"},
	} {
		opts := baseOpts(name)
		opts.Tables = []string{tc.table}
		env := weir.NewEnvironment(weir.Options{Parallelism: 1})
		weir.Collect(weir.FromSource[cdc.Change](env, cdc.NewSource(opts), weir.NoWatermarks[cdc.Change](), "cdc").SetParallelism(1))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := env.Execute(ctx)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("table %s: %v, want an error saying %q", tc.table, err, tc.want)
		}
	}
}
