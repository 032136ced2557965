package datagen

import "testing"

func TestLimiter(t *testing.T) {
	// 2 records per second: one at once, then one every 500 ms.
	l := newLimiter(2)
	steps := []struct {
		now          int64
		take         int64 // taken after asking
		wantAllowed  int64
		wantNextAtGE int64 // nextAt(now) after the take
	}{
		{now: 1000, wantAllowed: 1, take: 1, wantNextAtGE: 1500},
		{now: 1200, wantAllowed: 0, wantNextAtGE: 1500},
		{now: 1500, wantAllowed: 1, take: 1, wantNextAtGE: 2000},
		{now: 1999, wantAllowed: 0, wantNextAtGE: 2000},
		{now: 3000, wantAllowed: 3, take: 3, wantNextAtGE: 3500}, // 2000 and 2500 were missed
		{now: 3000, wantAllowed: 0, wantNextAtGE: 3500},
		{now: 900, wantAllowed: -4, wantNextAtGE: 3500}, // clock went back: nothing allowed
	}
	for i, s := range steps {
		if got := l.allowed(s.now); got != s.wantAllowed {
			t.Fatalf("step %d: allowed(%d) = %d, want %d", i, s.now, got, s.wantAllowed)
		}
		l.take(s.take)
		if got := l.nextAt(s.now); got != s.wantNextAtGE {
			t.Fatalf("step %d: nextAt(%d) = %d, want %d", i, s.now, got, s.wantNextAtGE)
		}
	}
}

func TestLimiterNextAtNeverInPast(t *testing.T) {
	l := newLimiter(3) // 1/3 ms per record: rounding is inexact
	now := int64(0)
	for i := 0; i < 1000; i++ {
		if a := l.allowed(now); a > 0 {
			l.take(a)
		}
		at := l.nextAt(now)
		if at <= now {
			t.Fatalf("nextAt(%d) = %d, not after now", now, at)
		}
		now = at
		if l.allowed(now) <= 0 && l.nextAt(now) <= now {
			t.Fatalf("at %d nothing allowed and no later wake-up", now)
		}
	}
	// Woken exactly when allowed, the limiter kept the pace: 3 records
	// per second plus the first one, give or take rounding.
	if want := now*3/1000 + 1; l.taken < want-1 || l.taken > want+1 {
		t.Fatalf("%d records taken by %d ms, want about %d", l.taken, now, want)
	}
}
