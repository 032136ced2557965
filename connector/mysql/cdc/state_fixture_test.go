package cdc

import (
	"os"
	"path/filepath"
	"testing"
)

// stateV1Fixture holds positions as the source encoded them in checkpoints
// and savepoints at 0d98c66 (state version 1, before prepared XA
// transactions were kept), one a line, encoding stateV1FixtureStates. It
// was written by running this file's test on that commit:
//
//	git worktree add /tmp/main0 0d98c66
//	cp state_fixture_test.go /tmp/main0/connector/mysql/cdc/
//	cd /tmp/main0 && WEIR_WRITE_MYSQL_STATE_FIXTURE=$PWD/connector/mysql/cdc/testdata \
//	    go test ./connector/mysql/cdc -run TestWriteStateV1Fixture
//
// and copying the file here. TestRestoreStateV1 restores it.
const stateV1Fixture = "testdata/state-v1-0d98c66.jsonl"

// stateV1FixtureStates are the positions of the fixture: a fresh start,
// inside the snapshot (signed and unsigned bounds), inside a transaction
// with a MariaDB GTID position, after the snapshot with a MySQL GTID set.
var stateV1FixtureStates = []state{
	{Fresh: true, Tables: []string{"shop.orders"}},
	{File: "mariadb-bin.000007", Pos: 1234, GTID: "0-1-77", Table: 0, Bound: int64(-42), Tables: []string{"shop.orders", "shop.items"}},
	{File: "mariadb-bin.000007", Pos: 5678, GTID: "0-1-80,1-2-3", Table: 1, Bound: uint64(1<<63 + 5), Tables: []string{"shop.orders", "shop.items"}},
	{File: "mariadb-bin.000008", Pos: 330, GTID: "0-1-81", Skip: 250, Table: 2, Tables: []string{"shop.orders", "shop.items"}},
	{File: "binlog.000003", Pos: 157, GTID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-23", Table: 1, Tables: []string{"shop.orders"}},
}

// TestWriteStateV1Fixture writes stateV1Fixture where
// WEIR_WRITE_MYSQL_STATE_FIXTURE says (a testdata directory), with the
// encoding of the commit it runs on.
func TestWriteStateV1Fixture(t *testing.T) {
	dir := os.Getenv("WEIR_WRITE_MYSQL_STATE_FIXTURE")
	if dir == "" {
		t.Skip("set WEIR_WRITE_MYSQL_STATE_FIXTURE to a testdata directory to write the fixture")
	}
	var b []byte
	for _, st := range stateV1FixtureStates {
		enc, err := st.encode()
		if err != nil {
			t.Fatal(err)
		}
		b = append(append(b, enc...), '\n')
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.Base(stateV1Fixture))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}
