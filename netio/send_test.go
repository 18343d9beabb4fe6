package netio

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"leased/dhcpv4"
	"leased/udp4"
)

func TestSendBatchQueue(t *testing.T) {
	b := newSendBatch(2)
	to := netip.MustParseAddrPort("198.18.0.9:68")
	buf := append(b.Buf(), "first"...)
	b.push(buf, to, 3, dhcpv4.Offer)
	b.push([]byte("second"), netip.MustParseAddrPort("198.18.0.10:67"), 0, dhcpv4.Ack)
	if !b.Full() {
		t.Fatal("a batch of 2 holding 2 replies is not full")
	}
	if got := b.Dest(0); got != to {
		t.Errorf("dest(0) = %v, want %v", got, to)
	}
	if got := b.IfIndex(0); got != 3 {
		t.Errorf("ifIndex(0) = %d, want 3", got)
	}
	if got := b.IfIndex(1); got != 0 {
		t.Errorf("ifIndex(1) = %d, want 0 (routed)", got)
	}
	if !bytes.Equal(b.Bytes(1), []byte("second")) {
		t.Errorf("second reply = %q", b.Bytes(1))
	}

	dst := newSendBatch(3)
	dst.push([]byte("zero"), to, 0, dhcpv4.Nak)
	if !dst.moveFrom(b) {
		t.Fatal("moveFrom refused 2 replies with room for 2")
	}
	if b.Len() != 0 || dst.Len() != 3 {
		t.Fatalf("after moveFrom: source holds %d, destination %d", b.Len(), dst.Len())
	}
	if !bytes.Equal(dst.Bytes(1), []byte("first")) || dst.IfIndex(1) != 3 || dst.types[2] != dhcpv4.Ack ||
		dst.Dest(2) != netip.MustParseAddrPort("198.18.0.10:67") {
		t.Errorf("moved replies differ: %q %d %v %v", dst.Bytes(1), dst.IfIndex(1), dst.types[2], dst.Dest(2))
	}
	b.push([]byte("more"), to, 0, dhcpv4.Ack)
	if dst.moveFrom(b) || b.Len() != 1 {
		t.Fatal("moveFrom into a full batch must refuse and leave the source as it was")
	}
}

// udpPair returns a sending server on loopback and a socket receiving
// what it sends.
func udpPair(t *testing.T) (*Server, *net.UDPConn) {
	t.Helper()
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close(); tx.Close() })
	w, err := udp4.NewWriter(tx)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{ep: &udp4.Endpoint{Conn: tx, Writer: w}, log: slog.New(slog.DiscardHandler)}, rx
}

func TestFlushBatchSendsEveryReply(t *testing.T) {
	s, rx := udpPair(t)
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	b := newSendBatch(8)
	for i := range 5 {
		b.push([]byte{byte(i), 'x'}, to, 0, dhcpv4.Ack)
	}
	s.flushBatch(b)
	if b.Len() != 0 {
		t.Fatalf("flushBatch left %d replies", b.Len())
	}
	rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	for i := range 5 {
		n, err := rx.Read(buf)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if n != 2 || buf[0] != byte(i) {
			t.Fatalf("reply %d arrived as % x", i, buf[:n])
		}
	}
	if st := s.Stats(); st.Replies != 5 || st.SentByType[dhcpv4.Ack] != 5 || st.SendErrors != 0 {
		t.Fatalf("stats: %d replies, %d ACKs, %d errors", st.Replies, st.SentByType[dhcpv4.Ack], st.SendErrors)
	}
}

func TestFlushBatchSkipsAFailedReply(t *testing.T) {
	s, rx := udpPair(t)
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	b := newSendBatch(4)
	b.push([]byte("ok1"), to, 0, dhcpv4.Ack)
	// Too long for a UDP datagram: EMSGSIZE for this one only.
	b.push(make([]byte, 70000), to, 0, dhcpv4.Ack)
	b.push([]byte("ok2"), to, 0, dhcpv4.Ack)
	s.flushBatch(b)
	if st := s.Stats(); st.Replies != 2 || st.SendErrors != 1 {
		t.Fatalf("stats: %d replies, %d errors; want 2 and 1", st.Replies, st.SendErrors)
	}
	rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	for _, want := range []string{"ok1", "ok2"} {
		n, err := rx.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("got %q, %v; want %q", buf[:n], err, want)
		}
	}
}

func TestFlushBatchAllocatesNothing(t *testing.T) {
	s, rx := udpPair(t)
	go func() { // drain
		buf := make([]byte, 64)
		for {
			if _, err := rx.Read(buf); err != nil {
				return
			}
		}
	}()
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	b := newSendBatch(16)
	reply := []byte("reply")
	allocs := testing.AllocsPerRun(200, func() {
		for range 16 {
			b.push(reply, to, 1, dhcpv4.Ack)
		}
		s.flushBatch(b)
	})
	if allocs != 0 {
		t.Fatalf("a batch of 16 replies costs %v allocations", allocs)
	}
}

func TestOutbox(t *testing.T) {
	s, rx := udpPair(t)
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	o := newOutbox(4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.sender(o)
	}()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newSendBatch(1)
			b.push([]byte{byte(i)}, to, 0, dhcpv4.Ack)
			for !o.post(b) {
				time.Sleep(time.Millisecond) // full: the sender is behind
			}
		}()
	}
	wg.Wait()
	o.close()
	<-done
	b := newSendBatch(1)
	b.push([]byte("late"), to, 0, dhcpv4.Ack)
	if o.post(b) || b.Len() != 1 {
		t.Fatal("a closed outbox took a reply")
	}
	if st := s.Stats(); st.Replies != 3 {
		t.Fatalf("the sender sent %d replies, want 3", st.Replies)
	}
	rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	seen := map[byte]bool{}
	buf := make([]byte, 8)
	for range 3 {
		n, err := rx.Read(buf)
		if err != nil || n != 1 {
			t.Fatalf("read: %d bytes, %v", n, err)
		}
		seen[buf[0]] = true
	}
	if len(seen) != 3 {
		t.Fatalf("replies received: %v", seen)
	}
}

func TestFlushPacedSendsABurstInOrder(t *testing.T) {
	s, rx := udpPair(t)
	if err := rx.SetReadBuffer(1 << 20); err != nil {
		t.Fatal(err)
	}
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	const n = 2*paceBurst + 7 // three parts
	b := newSendBatch(n)
	for i := range n {
		b.push([]byte{byte(i)}, to, 0, dhcpv4.Ack)
	}
	s.flushPaced(b)
	if b.Len() != 0 {
		t.Fatalf("flushPaced left %d replies", b.Len())
	}
	if st := s.Stats(); st.Replies != n || st.SendErrors != 0 {
		t.Fatalf("stats: %d replies, %d errors; want %d, 0", st.Replies, st.SendErrors, n)
	}
	rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 8)
	for i := range n {
		k, err := rx.Read(buf)
		if err != nil || k != 1 || buf[0] != byte(i) {
			t.Fatalf("reply %d: got % x, %v", i, buf[:k], err)
		}
	}
}
