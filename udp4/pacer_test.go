package udp4

import (
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	const delay = 100 * time.Microsecond
	t0 := time.Unix(1000, 0)
	us := time.Microsecond

	t.Run("off", func(t *testing.T) {
		p := NewPacer(0, 16)
		for i := range 100 {
			if p.Read(t0.Add(time.Duration(i)*us), 1) {
				t.Fatal("paused with no delay set")
			}
		}
	})

	t.Run("busy: pauses once the mean gap is under the delay", func(t *testing.T) {
		p := NewPacer(delay, 16)
		now := t0
		paused := -1
		for i := range 200 {
			now = now.Add(40 * us) // 2 datagrams per read: one every 20 µs
			if p.Read(now, 2) {
				paused = i
				break
			}
		}
		// From the 10 ms start, the mean falls under 100 µs after about
		// 40 reads (7/8 per read).
		if paused < 20 || paused > 60 {
			t.Fatalf("first pause after read %d, want from 20 to 60", paused)
		}
		for range 50 {
			now = now.Add(40 * us)
			if !p.Read(now, 2) {
				t.Fatal("stopped pausing at a steady 50,000 datagrams/s")
			}
		}
		now = now.Add(40 * us)
		if p.Read(now, 16) {
			t.Error("paused after a full read")
		}
		if p.Read(now, 0) {
			t.Error("paused after an empty read")
		}
	})

	t.Run("slow: never pauses", func(t *testing.T) {
		p := NewPacer(delay, 16)
		now := t0
		for range 1000 {
			now = now.Add(500 * us) // 2,000 datagrams/s
			if p.Read(now, 1) {
				t.Fatal("paused for datagrams that come alone")
			}
		}
	})

	t.Run("a quiet spell ends the pauses at once", func(t *testing.T) {
		p := NewPacer(delay, 16)
		now := t0
		for range 200 {
			now = now.Add(10 * us)
			p.Read(now, 1)
		}
		now = now.Add(5 * time.Second)
		if p.Read(now, 1) {
			t.Error("paused on the first datagram after five quiet seconds")
		}
	})

	t.Run("a clock going back is a gap of zero", func(t *testing.T) {
		p := NewPacer(delay, 16)
		p.Read(t0, 1)
		p.Read(t0.Add(-time.Hour), 1)
		if p.gap < 0 || p.gap > pacerMaxGap {
			t.Errorf("mean gap %v after the clock went back", p.gap)
		}
	})
}

func TestPauseSleepsAtLeastTheDelay(t *testing.T) {
	const d = 2 * time.Millisecond
	start := time.Now()
	Pause(d)
	if got := time.Since(start); got < d {
		t.Errorf("paused %v, want at least %v", got, d)
	}
}
