package server

import "testing"

// TestSQLGatewayUseIsPerSession checks that CREATE DATABASE and USE in one
// session change neither the current database nor the databases of
// another session (each gateway session has its own catalog manager, as
// in Flink's SQL gateway).
func TestSQLGatewayUseIsPerSession(t *testing.T) {
	leakCheck(t)
	ts := newTestServer(t, Options{})
	a, b := ts.openSession(nil), ts.openSession(nil)
	ts.runStatic(a, `CREATE DATABASE revcat_db`)
	ts.runStatic(a, `USE revcat_db`)
	current := func(sh string) string {
		f := ts.runStatic(sh, `SHOW CURRENT DATABASE`)
		if len(f.Results.Data) != 1 {
			t.Fatalf("SHOW CURRENT DATABASE: %+v", f.Results.Data)
		}
		s, _ := f.Results.Data[0].Fields[0].(string)
		return s
	}
	if got := current(a); got != "revcat_db" {
		t.Errorf("session a: current database %q, want revcat_db", got)
	}
	if got := current(b); got != "default_database" {
		t.Errorf("session b: current database %q, want default_database", got)
	}
	f := ts.runStatic(b, `SHOW DATABASES`)
	for _, d := range f.Results.Data {
		if d.Fields[0] == "revcat_db" {
			t.Errorf("session b sees session a's database revcat_db: %+v", f.Results.Data)
		}
	}
	// session b can create its own revcat_db: the name is free there.
	ts.runStatic(b, `CREATE DATABASE revcat_db`)
}
