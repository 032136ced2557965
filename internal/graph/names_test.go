package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Nodes sharing a default name are numbered, the first keeping it; names
// the user set are never changed, and a numbered default avoids them. State
// ids keep the default name without the number (as before numbering), so
// savepoints of unnamed operators still restore. Numbering again after a
// rename is stable.
func TestNumberDefaults(t *testing.T) {
	type node struct {
		name     string
		explicit bool
	}
	cases := []struct {
		name   string
		nodes  []node
		want   []string
		states []string
	}{
		{"unique", []node{{"Map", false}, {"Filter", false}}, []string{"Map", "Filter"}, []string{"Map#0", "Filter#1"}},
		{"shared default", []node{{"CEP", false}, {"Map", false}, {"CEP", false}, {"CEP", false}},
			[]string{"CEP", "Map", "CEP-2", "CEP-3"}, []string{"CEP#0", "Map#1", "CEP#2", "CEP#3"}},
		{"explicit duplicates kept", []node{{"parse", true}, {"parse", true}}, []string{"parse", "parse"}, []string{"parse#0", "parse#1"}},
		{"default avoids explicit", []node{{"CEP", false}, {"CEP-2", true}, {"CEP", false}, {"CEP", true}},
			[]string{"CEP-3", "CEP-2", "CEP-4", "CEP"}, []string{"CEP#0", "CEP-2#1", "CEP#2", "CEP#3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var g Graph
			for _, n := range tc.nodes {
				nd := g.AddNode(&Node{Name: n.name, DefaultName: true})
				if n.explicit {
					nd.SetName(n.name)
				}
			}
			for range 2 {
				g.numberDefaults()
				var names, states []string
				for _, n := range g.Nodes {
					names = append(names, n.Name)
					states = append(states, operatorID(n))
				}
				if diff := cmp.Diff(tc.want, names); diff != "" {
					t.Fatalf("names (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.states, states); diff != "" {
					t.Fatalf("state ids (-want +got):\n%s", diff)
				}
			}
		})
	}
	// A numbered node the user renames loses its number and its default.
	var g Graph
	g.AddNode(&Node{Name: "Map", DefaultName: true})
	n := g.AddNode(&Node{Name: "Map", DefaultName: true})
	g.numberDefaults()
	n.SetName("enrich")
	g.numberDefaults()
	if n.Name != "enrich" || operatorID(n) != "enrich#1" {
		t.Fatalf("renamed node: name %q, state id %q", n.Name, operatorID(n))
	}
}
