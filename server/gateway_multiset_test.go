package server

import (
	"encoding/json"
	"testing"

	"github.com/weirstream/weir/row"
)

// TestFlinkTypeMultiset checks that the SQL gateway describes a MULTISET
// column as Flink's LogicalType JSON does: type MULTISET with its
// elementType.
func TestFlinkTypeMultiset(t *testing.T) {
	b, err := json.Marshal(flinkType(row.MultisetType(row.String().NotNull()).NotNull()))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type        string `json:"type"`
		Nullable    bool   `json:"nullable"`
		ElementType *struct {
			Type     string `json:"type"`
			Nullable bool   `json:"nullable"`
		} `json:"elementType"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "MULTISET" || got.Nullable || got.ElementType == nil || got.ElementType.Type != "VARCHAR" || got.ElementType.Nullable {
		t.Fatalf("MULTISET<STRING NOT NULL> NOT NULL as %s", b)
	}
}
