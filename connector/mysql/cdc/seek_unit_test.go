package cdc

import (
	"testing"
	"time"
)

func TestSeekTimeoutDefaults(t *testing.T) {
	o, err := Options{Tables: []string{"a.b"}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.SeekTimeout != DefaultSeekTimeout {
		t.Fatalf("SeekTimeout %v, want %v", o.SeekTimeout, DefaultSeekTimeout)
	}
	o, err = Options{Tables: []string{"a.b"}, ReadTimeout: time.Hour, SeekTimeout: time.Minute}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.SeekTimeout != time.Hour {
		t.Fatalf("SeekTimeout %v below ReadTimeout %v", o.SeekTimeout, o.ReadTimeout)
	}
}

// TestResumeByPositionChoice: file and offset on a reconnection to the
// server they were read from, GTID after a restore or on another server.
func TestResumeByPositionChoice(t *testing.T) {
	for _, c := range []struct {
		name              string
		file              string
		byPos             bool
		server, posServer string
		want              bool
	}{
		{"same server", "bin.000001", false, "1", "1", true},
		{"other server", "bin.000001", false, "2", "1", false},
		{"restored (server unknown)", "bin.000001", false, "1", "", false},
		{"option", "bin.000001", true, "1", "", true},
		{"no file", "", true, "1", "1", false},
	} {
		g := &streamer{opts: Options{ResumeByPosition: c.byPos}, nextFile: c.file, server: c.server, posServer: c.posServer}
		if got := g.resumeByPosition(); got != c.want {
			t.Errorf("%s: resumeByPosition %v, want %v", c.name, got, c.want)
		}
	}
}
