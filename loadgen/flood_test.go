package loadgen

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"leased/dhcpv4"
)

// TestFloodSendsDiscoversFromNewAddresses floods a socket that answers
// each DISCOVER with an OFFER, and checks the flood: Count DISCOVERs,
// relayed, each from a hardware address of its own, unicast and locally
// administered, and the OFFERs counted.
func TestFloodSendsDiscoversFromNewAddresses(t *testing.T) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer sink.Close()
	const count = 1000
	macs := make(map[[6]byte]bool)
	bad := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		var p, reply dhcpv4.Packet
		for len(macs)+bad < count {
			sink.SetReadDeadline(time.Now().Add(testTimeout))
			n, from, err := sink.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if dhcpv4.Parse(buf[:n], &p) != nil || p.MessageType() != dhcpv4.Discover || p.GIAddr != from.Addr() {
				bad++
				continue
			}
			var mac [6]byte
			copy(mac[:], p.HardwareAddr())
			if macs[mac] || mac[0]&1 != 0 || mac[0]&2 == 0 {
				bad++
				continue
			}
			macs[mac] = true
			reply = dhcpv4.Packet{Op: dhcpv4.BootReply, XID: p.XID}
			reply.SetHardwareAddr(1, mac[:])
			reply.Options.SetMessageType(dhcpv4.Offer)
			b, _ := reply.Append(nil, 0)
			sink.WriteToUDPAddrPort(b, from)
		}
	}()
	res, err := Flood(context.Background(), Config{
		Server: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Local: netip.MustParseAddrPort("127.0.0.1:0"),
		Count: count, Batch: 32, Rate: 5000, Timeout: 500 * time.Millisecond, // what the sink can read
	})
	if err != nil {
		t.Fatal(err)
	}
	<-done
	if res.Sent != count || res.SendErrors != 0 {
		t.Errorf("sent %d (%d errors), want %d", res.Sent, res.SendErrors, count)
	}
	if len(macs) != count || bad != 0 {
		t.Errorf("the sink saw %d distinct hardware addresses and %d bad or repeated DISCOVERs, want %d and 0", len(macs), bad, count)
	}
	if res.Offers != count {
		t.Errorf("%d offers counted, want %d", res.Offers, count)
	}
}

func TestFloodIsBounded(t *testing.T) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer sink.Close()
	_, err = Flood(context.Background(), Config{Server: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Local: netip.MustParseAddrPort("127.0.0.1:0")})
	if err == nil {
		t.Error("a flood without a duration or a count was started")
	}
	start := time.Now()
	res, err := Flood(context.Background(), Config{Server: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Local: netip.MustParseAddrPort("127.0.0.1:0"),
		Duration: 200 * time.Millisecond, Rate: 1000, Timeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Elapsed < 200*time.Millisecond || time.Since(start) > 5*time.Second {
		t.Errorf("a 200 ms flood took %v (elapsed %v)", time.Since(start), res.Elapsed)
	}
	if res.Sent < 150 || res.Sent > 260 {
		t.Errorf("a 200 ms flood at 1000/s sent %d", res.Sent)
	}
}
