package sql

import "testing"

// TestParseMemorySize reads Flink's MemorySize spellings and refuses the
// rest; SET refuses a size that is not positive.
func TestParseMemorySize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"10 mb", 10 << 20, true},
		{"10mb", 10 << 20, true},
		{" 1 B ", 1, true},
		{"4096", 4096, true},
		{"3 kibibytes", 3 << 10, true},
		{"2g", 2 << 30, true},
		{"1 TB", 1 << 40, true},
		{"7 bytes", 7, true},
		{"", 0, false},
		{"mb", 0, false},
		{"1.5 mb", 0, false},
		{"-1 mb", 0, false},
		{"10 pb", 0, false},
		{"99999999 tb", 0, false},
	} {
		got, err := ParseMemorySize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseMemorySize(%q) = %d, %v; want %d (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
	c := NewConfig()
	if err := c.Set("table.exec.resource.external-buffer-memory", "0 b"); err == nil {
		t.Error("a budget of 0 bytes was accepted")
	}
	if err := c.Set("table.exec.resource.external-buffer-memory", "ten"); err == nil {
		t.Error("a budget of \"ten\" was accepted")
	}
	if got := c.MemorySize("table.exec.resource.external-buffer-memory"); got != 10<<20 {
		t.Errorf("default budget %d, want Flink's 10 mb", got)
	}
	if err := c.Set("table.exec.resource.external-buffer-memory", "512 kb"); err != nil || c.MemorySize("table.exec.resource.external-buffer-memory") != 512<<10 {
		t.Errorf("512 kb: %v, %d", err, c.MemorySize("table.exec.resource.external-buffer-memory"))
	}
}
