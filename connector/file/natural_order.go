package file

import (
	"slices"
	"strings"
)

// sortNumeric orders paths comparing runs of digits by their value
// (part-0-2 before part-0-10), the rest byte by byte (SourceOptions.
// NumericOrder).
func sortNumeric(paths []string) {
	slices.SortStableFunc(paths, compareNumeric)
}

// compareNumeric compares a and b with runs of ASCII digits taken as
// numbers: a shorter run (without leading zeros) is smaller; equal values
// with more leading zeros come after, so that distinct names never
// compare equal.
func compareNumeric(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			ei, ej := digitsEnd(a, i), digitsEnd(b, j)
			da := strings.TrimLeft(a[i:ei], "0")
			db := strings.TrimLeft(b[j:ej], "0")
			if len(da) != len(db) {
				return len(da) - len(db)
			}
			if c := strings.Compare(da, db); c != 0 {
				return c
			}
			if c := (ei - i) - (ej - j); c != 0 {
				return c
			}
			i, j = ei, ej
			continue
		}
		if a[i] != b[j] {
			return int(a[i]) - int(b[j])
		}
		i++
		j++
	}
	return (len(a) - i) - (len(b) - j)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}
