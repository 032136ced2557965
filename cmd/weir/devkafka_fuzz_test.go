package main

import (
	"maps"
	"math"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseTopics checks the --topics parser: no panic; an accepted list
// names legal Kafka topics, each with 1 to MaxInt32 partitions as written
// (not wrapped into int32); and the list written back as name:partitions
// parses to the same topics.
func FuzzParseTopics(f *testing.F) {
	for _, s := range [][2]string{{"in:4", " out "}, {"a:4294967297", "b"}, {"a:2", "a:3"}, {"a b", "c"}, {"..", "x:-1"}, {"é", "t:+5"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got, err := parseTopics([]string{a, b})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dev kafka: ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			return
		}
		var specs []string
		for name, n := range got {
			if !validTopic(name) || n < 1 {
				t.Fatalf("%q %q: topic %q with %d partitions", a, b, name, n)
			}
			for _, s := range []string{a, b} {
				if _, p, ok := strings.Cut(strings.TrimSpace(s), ":"); ok && strings.HasPrefix(strings.TrimSpace(s), name+":") {
					if want, err := strconv.ParseInt(p, 10, 64); err != nil || want != int64(n) || want > math.MaxInt32 {
						t.Fatalf("%q: %d partitions", s, n)
					}
				}
			}
			specs = append(specs, name+":"+strconv.Itoa(int(n)))
		}
		again, err := parseTopics(specs)
		if err != nil || !maps.Equal(again, got) {
			t.Fatalf("%v written as %q parses as %v (%v)", got, specs, again, err)
		}
	})
}
