package parser

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir/sql/ast"
)

// TestMutatedInputs complements FuzzParse with token-level mutations, which reach far more of
// the grammar than byte mutations: the inputs of the testdata scripts are split into tokens,
// and tokens are deleted, duplicated, swapped or replaced by tokens from other inputs. Every
// result must either fail with an *Error or round-trip through its canonical text. The seed
// is fixed so that a failure reproduces (MUTATE_SEED overrides it to explore further).
func TestMutatedInputs(t *testing.T) {
	var inputs [][]string
	var pool []string
	files, _ := filepath.Glob("testdata/*")
	for _, path := range files {
		if fi, err := os.Stat(path); err != nil || fi.IsDir() {
			continue
		}
		datadriven.RunTestAny(t, path, func(_ testing.TB, d *datadriven.TestData) string {
			toks, err := lex(d.Input)
			if err == nil {
				var words []string
				for _, tk := range toks[:len(toks)-1] {
					words = append(words, d.Input[tk.pos.Offset:tk.end])
				}
				inputs = append(inputs, words)
				pool = append(pool, words...)
			}
			return d.Expected
		})
	}
	if len(inputs) == 0 {
		t.Fatal("no inputs")
	}
	n := 30000
	if testing.Short() {
		n = 3000
	}
	seed := int64(1)
	if s := os.Getenv("MUTATE_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	rng := rand.New(rand.NewSource(seed))
	ok := 0
	for i := 0; i < n; i++ {
		words := append([]string(nil), inputs[rng.Intn(len(inputs))]...)
		for m := 1 + rng.Intn(3); m > 0 && len(words) > 0; m-- {
			j := rng.Intn(len(words))
			switch rng.Intn(4) {
			case 0:
				words = append(words[:j], words[j+1:]...)
			case 1:
				words = append(words[:j+1], words[j:]...)
			case 2:
				k := rng.Intn(len(words))
				words[j], words[k] = words[k], words[j]
			case 3:
				words[j] = pool[rng.Intn(len(pool))]
			}
		}
		if checkInvariants(t, strings.Join(words, " ")) {
			ok++
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d of %d mutated inputs parsed", ok, n)
}

// checkInvariants is the property FuzzParse checks: no panic, errors are *Error, and a
// successful parse round-trips to an equal tree and a fixpoint text.
func checkInvariants(t *testing.T, sql string) (parsed bool) {
	t.Helper()
	stmts, err := Parse(sql)
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error %T is not *Error: %v", err, err)
		}
		return false
	}
	text := ast.FormatScript(stmts)
	again, err := Parse(text)
	if err != nil {
		t.Fatalf("canonical text does not re-parse: %v\ninput: %q\ncanonical: %s", err, sql, text)
	}
	if text2 := ast.FormatScript(again); text2 != text {
		t.Fatalf("not a fixpoint\ninput: %q\nfirst:  %s\nsecond: %s", sql, text, text2)
	}
	if diff := cmp.Diff(stmts, again, ignorePos); diff != "" {
		t.Fatalf("re-parsed tree differs\ninput: %q\ncanonical: %s\n%s", sql, text, diff)
	}
	return true
}
