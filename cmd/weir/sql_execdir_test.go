package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSQLDirsWithoutInterval: as in Flink, execution.checkpointing.dir
// and execution.checkpointing.savepoint-dir name where checkpoints and
// savepoints go but do not turn checkpointing on (only
// execution.checkpointing.interval does). Before, the checkpoint
// directory alone turned on checkpoints every second (the flag's default
// interval), and the savepoint directory alone failed the job with
// "--savepoint-dir needs checkpointing", naming flags the user never gave.
func TestSQLDirsWithoutInterval(t *testing.T) {
	dir := t.TempDir()
	chk, sp := filepath.Join(dir, "chk"), filepath.Join(dir, "sp")
	job := `CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence',
  'fields.id.start' = '1', 'fields.id.end' = '20');
CREATE TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO dst SELECT id FROM src;
`
	for i, set := range []string{
		"SET 'execution.checkpointing.savepoint-dir' = '" + sp + "';\n",
		"SET 'execution.checkpointing.dir' = '" + chk + "';\nSET 'execution.checkpointing.savepoint-dir' = '" + sp + "';\n",
	} {
		file := filepath.Join(dir, "job.sql")
		if err := os.WriteFile(file, []byte(set+job), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, stderr, err := runSQL(t, "", "-f", file, "--parallelism", "1"); err != nil {
			t.Fatalf("job %d: %v\n%s", i, err, stderr)
		}
		if _, err := os.Stat(chk); err == nil {
			t.Fatalf("job %d took checkpoints into %s although execution.checkpointing.interval is not set", i, chk)
		}
	}
}
