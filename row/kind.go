package row

import "fmt"

// Kind is the change a row describes in a changelog (Flink's RowKind).
type Kind uint8

// The four kinds of change, in Flink's byte order.
const (
	// Insert (+I) adds a row.
	Insert Kind = iota
	// UpdateBefore (-U) retracts the previous version of an updated row.
	UpdateBefore
	// UpdateAfter (+U) adds the new version of an updated row.
	UpdateAfter
	// Delete (-D) removes a row.
	Delete
)

// String returns Flink's short form: +I, -U, +U or -D.
func (k Kind) String() string {
	switch k {
	case Insert:
		return "+I"
	case UpdateBefore:
		return "-U"
	case UpdateAfter:
		return "+U"
	case Delete:
		return "-D"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// IsAccumulate reports whether the kind adds a row (+I or +U).
func (k Kind) IsAccumulate() bool { return k == Insert || k == UpdateAfter }

// IsRetract reports whether the kind removes a row (-U or -D).
func (k Kind) IsRetract() bool { return k == UpdateBefore || k == Delete }

// ParseKind parses +I, -U, +U or -D.
func ParseKind(s string) (Kind, error) {
	switch s {
	case "+I":
		return Insert, nil
	case "-U":
		return UpdateBefore, nil
	case "+U":
		return UpdateAfter, nil
	case "-D":
		return Delete, nil
	}
	return 0, fmt.Errorf("row: unknown row kind %q (want +I, -U, +U or -D)", s)
}
