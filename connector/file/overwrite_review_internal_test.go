package file

import (
	"context"
	"errors"
	"testing"
)

// TestOverwriteResumeKeepsOtherFile: after a crash between the delete and
// the move phase, the directory holds no part file, so a writer appending
// to it (INSERT INTO: an ExactlyOnceSink numbers its part files above
// those in the directory) names its file part-0-0.csv, the name of a
// staged file still to move. Completing the overwrite must not replace
// that file: its rows would be lost without a trace. Either both files'
// rows end up in the directory or the resume fails, keeping the manifest.
func TestOverwriteResumeKeepsOtherFile(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	writeTree(t, root, map[string]string{"part-0-0.csv": "old", ".overwrite-t/data/part-0-0.csv": "new"})
	opts := OverwriteOptions{Token: "t", afterPhase: func(p string) error {
		if p == "delete" {
			return errCrash
		}
		return nil
	}}
	if err := commitOverwrite(ctx, root, []string{"data"}, opts); !errors.Is(err, errCrash) {
		t.Fatal(err)
	}
	writeTree(t, root, map[string]string{"part-0-0.csv": "appended"})
	_, err := resumeOverwrite(ctx, root, "t", nil)
	got := readTree(t, root)
	if err != nil {
		if got["part-0-0.csv"] != "appended" || PendingOverwrite(root) == nil {
			t.Fatalf("resume failed (%v) but files %v / manifest gone", err, got)
		}
		return
	}
	var contents []string
	for p, c := range got {
		if !hidden(p) {
			contents = append(contents, c)
		}
	}
	n := map[string]int{}
	for _, c := range contents {
		n[c]++
	}
	if n["appended"] != 1 || n["new"] != 1 || len(contents) != 2 {
		t.Fatalf("after the resume the directory holds %v, want the appended and the new file", got)
	}
}
