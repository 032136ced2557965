//go:build !race

package crashtest

// raceEnabled: see race.go.
const raceEnabled = false
