package netio

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"leased/dhcpv4"
)

func TestReceivePacer(t *testing.T) {
	const delay = 100 * time.Microsecond
	t0 := time.Unix(1000, 0)
	us := time.Microsecond

	t.Run("off", func(t *testing.T) {
		p := newReceivePacer(0, 16)
		for i := range 100 {
			if p.read(t0.Add(time.Duration(i)*us), 1) {
				t.Fatal("paused with no delay set")
			}
		}
	})

	t.Run("busy: pauses once the mean gap is under the delay", func(t *testing.T) {
		p := newReceivePacer(delay, 16)
		now := t0
		paused := -1
		for i := range 200 {
			now = now.Add(40 * us) // 2 datagrams per read: one every 20 µs
			if p.read(now, 2) {
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
			if !p.read(now, 2) {
				t.Fatal("stopped pausing at a steady 50,000 datagrams/s")
			}
		}
		now = now.Add(40 * us)
		if p.read(now, 16) {
			t.Error("paused after a full read")
		}
		if p.read(now, 0) {
			t.Error("paused after an empty read")
		}
	})

	t.Run("slow: never pauses", func(t *testing.T) {
		p := newReceivePacer(delay, 16)
		now := t0
		for range 1000 {
			now = now.Add(500 * us) // 2,000 datagrams/s
			if p.read(now, 1) {
				t.Fatal("paused for datagrams that come alone")
			}
		}
	})

	t.Run("a quiet spell ends the pauses at once", func(t *testing.T) {
		p := newReceivePacer(delay, 16)
		now := t0
		for range 200 {
			now = now.Add(10 * us)
			p.read(now, 1)
		}
		now = now.Add(5 * time.Second)
		if p.read(now, 1) {
			t.Error("paused on the first datagram after five quiet seconds")
		}
	})

	t.Run("a clock going back is a gap of zero", func(t *testing.T) {
		p := newReceivePacer(delay, 16)
		p.read(t0, 1)
		p.read(t0.Add(-time.Hour), 1)
		if p.gap < 0 || p.gap > pacerMaxGap {
			t.Errorf("mean gap %v after the clock went back", p.gap)
		}
	})
}

func TestPauseSleepsAtLeastTheDelay(t *testing.T) {
	const d = 2 * time.Millisecond
	start := time.Now()
	pause(d)
	if got := time.Since(start); got < d {
		t.Errorf("paused %v, want at least %v", got, d)
	}
}

// TestServeWithReceiveDelay answers every request of a client that waits
// for each reply while the readers pause after each read: with a clock
// that hardly moves, every request looks like part of a flood.
func TestServeWithReceiveDelay(t *testing.T) {
	relay, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	var ticks atomic.Int64
	clock := func() time.Time { return time.Unix(1000, ticks.Add(1000)) } // 1 µs per call
	srv, _ := loopbackServerWith(t, uint16(relay.LocalAddr().(*net.UDPAddr).Port), func(o *Options) {
		o.ReceiveDelay = 500 * time.Microsecond
		o.Clock = clock
	})
	to := srv.LocalAddr()
	const n = 100
	for i := range n {
		offer := exchange(t, relay, to, relayedRequest(t, dhcpv4.Discover, byte(i%8), nil))
		if offer.MessageType() != dhcpv4.Offer {
			t.Fatalf("request %d: got %v", i, offer)
		}
	}
	st := srv.Stats()
	if st.Received != n {
		t.Errorf("received %d, want %d", st.Received, n)
	}
	// The pacer's mean starts at 10 ms and falls by 1/8 a read: the
	// readers pause from about their 35th read on.
	if st.Pauses == 0 {
		t.Error("no pause counted")
	}
}
