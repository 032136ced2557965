package connector

import (
	"testing"

	"github.com/weirstream/weir"
)

// TestOverwriteTokenStable: the staging token of an INSERT OVERWRITE sink
// is the same when the job is built again with the same job id (a
// restore from its checkpoint must find the staged data), and differs
// between jobs and between the sinks of one job.
func TestOverwriteTokenStable(t *testing.T) {
	tok := func(job, prefix string) string {
		t.Helper()
		s, err := overwriteToken(BuildContext{Env: weir.NewEnvironment(weir.Options{JobID: job}), Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := tok("job-1", "Sink-a")
	if b := tok("job-1", "Sink-a"); a != b {
		t.Fatalf("built again: token %q, first %q", b, a)
	}
	seen := map[string]string{a: "job-1/Sink-a"}
	for _, c := range [][2]string{{"job-2", "Sink-a"}, {"job-1", "Sink-b"}} {
		s := tok(c[0], c[1])
		if prev, ok := seen[s]; ok {
			t.Fatalf("%s/%s has the token of %s: %q", c[0], c[1], prev, s)
		}
		seen[s] = c[0] + "/" + c[1]
	}
	// Random job ids (the default) give different tokens.
	r1, err := overwriteToken(BuildContext{Env: weir.NewEnvironment(weir.Options{}), Prefix: "Sink-a"})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := overwriteToken(BuildContext{Env: weir.NewEnvironment(weir.Options{}), Prefix: "Sink-a"})
	if err != nil {
		t.Fatal(err)
	}
	if r1 == r2 {
		t.Fatalf("two jobs with default ids share the token %q", r1)
	}
}
