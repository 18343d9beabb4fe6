package udp4

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// loopbackPair returns a socket opened by Listen on 127.0.0.1 and a plain
// one sending to it.
func loopbackPair(t *testing.T) (rx, tx *net.UDPConn) {
	t.Helper()
	rx, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	tx, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close(); tx.Close() })
	return rx, tx
}

func TestWriterAndReader(t *testing.T) {
	rx, tx := loopbackPair(t)
	if err := SetReceiveBuffer(rx, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := SetSendBuffer(tx, 1<<20); err != nil {
		t.Fatal(err)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface: %v", err)
	}
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	w, err := NewWriter(tx)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBatch(5, 64)
	b.Push([]byte("ok1"), to, 0)
	b.Push(make([]byte, 70000), to, 0) // too long: EMSGSIZE for this one only
	b.Push([]byte("ok2"), to, lo.Index)
	var sent, failed int
	for off := 0; off < b.Len(); {
		n, err := w.Write(b, off, b.Len())
		if err != nil {
			var errno syscall.Errno
			if !errors.As(err, &errno) {
				t.Fatalf("write: %v", err)
			}
			failed++
			off++
			continue
		}
		sent += n
		off += n
	}
	if sent != 2 || failed != 1 {
		t.Fatalf("sent %d, failed %d; want 2 and 1", sent, failed)
	}

	r, err := NewReader(rx, 4, 1500)
	if err != nil {
		t.Fatal(err)
	}
	rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []string
	for len(got) < 2 {
		ds, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			got = append(got, string(d.Data))
			if d.Src != tx.LocalAddr().(*net.UDPAddr).AddrPort() {
				t.Errorf("source %v, want %v", d.Src, tx.LocalAddr())
			}
			if d.IfIndex != lo.Index || d.Dst != to.Addr() {
				t.Errorf("IP_PKTINFO: interface %d, destination %v; want %d, %v", d.IfIndex, d.Dst, lo.Index, to.Addr())
			}
		}
	}
	if got[0] != "ok1" || got[1] != "ok2" {
		t.Errorf("read %q, want ok1 and ok2", got)
	}
	rx.Close()
	if _, err := r.Read(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close: %v, want net.ErrClosed", err)
	}
	if _, err := w.Write(b, 0, 1); err != nil {
		t.Errorf("the writer's socket is still open: %v", err)
	}
	tx.Close()
	if _, err := w.Write(b, 0, 1); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v, want net.ErrClosed", err)
	}
}

func TestWriteAndReadAllocateNothing(t *testing.T) {
	rx, tx := loopbackPair(t)
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	w, err := NewWriter(tx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(rx, 16, 1500)
	if err != nil {
		t.Fatal(err)
	}
	rx.SetReadDeadline(time.Now().Add(time.Minute))
	b := NewBatch(16, 64)
	msg := []byte("datagram")
	allocs := testing.AllocsPerRun(200, func() {
		b.Reset()
		for range 4 {
			b.Push(msg, to, 1)
		}
		for off := 0; off < b.Len(); {
			n, err := w.Write(b, off, b.Len())
			if err != nil {
				t.Fatal(err)
			}
			off += n
		}
		for read := 0; read < 4; {
			ds, err := r.Read()
			if err != nil {
				t.Fatal(err)
			}
			read += len(ds)
		}
	})
	if allocs != 0 {
		t.Fatalf("writing and reading 4 datagrams costs %v allocations", allocs)
	}
}
