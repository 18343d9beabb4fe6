package netio

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"leased/dhcpv4"
)

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
