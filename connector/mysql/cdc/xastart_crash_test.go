package cdc

import "testing"

// TestXAPreparedBeforeStartCrash is TestXACrashRestore with the two XA
// transactions prepared before the crash job's fresh start (snapshot): the
// first run holds them from its start and checkpoints them; SIGKILLed,
// they are committed and rolled back while it is down: the committed
// output has the committed one's changes once, in order, never the rolled
// back one's, and replays to the table.
func TestXAPreparedBeforeStartCrash(t *testing.T) { testXACrash(t, true) }
