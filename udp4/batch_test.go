package udp4

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestBatchQueue(t *testing.T) {
	b := NewBatch(2, 64)
	to := netip.MustParseAddrPort("198.18.0.9:68")
	buf := append(b.Buf(), "first"...)
	b.Push(buf, to, 3)
	b.Push([]byte("second"), netip.MustParseAddrPort("198.18.0.10:67"), 0)
	if !b.Full() || b.Len() != 2 || b.Cap() != 2 {
		t.Fatalf("a batch of 2 holding 2 datagrams: full %v, len %d, cap %d", b.Full(), b.Len(), b.Cap())
	}
	if got := b.Dest(0); got != to {
		t.Errorf("Dest(0) = %v, want %v", got, to)
	}
	if got := b.IfIndex(0); got != 3 {
		t.Errorf("IfIndex(0) = %d, want 3", got)
	}
	if got := b.IfIndex(1); got != 0 {
		t.Errorf("IfIndex(1) = %d, want 0 (routed)", got)
	}
	if !bytes.Equal(b.Bytes(1), []byte("second")) {
		t.Errorf("second datagram = %q", b.Bytes(1))
	}

	dst := NewBatch(3, 64)
	dst.Push([]byte("zero"), to, 0)
	if !dst.MoveFrom(b) {
		t.Fatal("MoveFrom refused 2 datagrams with room for 2")
	}
	if b.Len() != 0 || dst.Len() != 3 {
		t.Fatalf("after MoveFrom: source holds %d, destination %d", b.Len(), dst.Len())
	}
	if !bytes.Equal(dst.Bytes(1), []byte("first")) || dst.IfIndex(1) != 3 ||
		dst.Dest(2) != netip.MustParseAddrPort("198.18.0.10:67") {
		t.Errorf("moved datagrams differ: %q %d %v", dst.Bytes(1), dst.IfIndex(1), dst.Dest(2))
	}
	b.Push([]byte("more"), to, 0)
	if dst.MoveFrom(b) || b.Len() != 1 {
		t.Fatal("MoveFrom into a full batch must refuse and leave the source as it was")
	}
	dst.Reset()
	if dst.Len() != 0 || len(dst.Buf()) != 0 {
		t.Fatalf("after Reset: %d datagrams, free buffer of %d bytes", dst.Len(), len(dst.Buf()))
	}
}

func TestSendToHardwareFallsBackToBroadcast(t *testing.T) {
	src := netip.MustParseAddrPort("198.18.0.1:67")
	dst := netip.MustParseAddrPort("198.18.0.10:68")
	want := netip.MustParseAddrPort("255.255.255.255:68")
	mac := []byte{2, 0, 0, 0, 0, 1}
	for _, tc := range []struct {
		name string
		h    Hardware
	}{
		{"RFC2131 4.1 no packet socket -> broadcast", Hardware{IfIndex: 1, Type: 1, Addr: mac}},
		{"RFC2131 4.1 hardware not Ethernet -> broadcast", Hardware{IfIndex: 1, Type: 6, Addr: mac}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l *LinkSender // no packet socket
			_, bcast, err := l.SendToHardware(nil, tc.h, src, dst, []byte("reply"))
			if bcast != want || err != nil {
				t.Errorf("broadcast %v, err %v; want %v, nil", bcast, err, want)
			}
		})
	}
}
