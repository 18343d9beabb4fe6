//go:build linux

package integration

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// discoverBytes returns a well-formed DHCPDISCOVER from hardware address
// mac, padded to the BOOTP minimum of 300 bytes: the base the malformed
// packets are cut from.
func discoverBytes(t *testing.T, mac string) []byte {
	t.Helper()
	hw, err := net.ParseMAC(mac)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 240, 300)
	b[0], b[1], b[2] = 1, 1, 6             // BOOTREQUEST, Ethernet, 6-byte address
	copy(b[4:8], []byte{0xc6, 0x12, 0, 1}) // xid
	copy(b[28:], hw)                       // chaddr
	copy(b[236:240], []byte{99, 130, 83, 99})
	b = append(b, 53, 1, 1, 255) // DHCPDISCOVER, end
	return b[:300]
}

// sendUDP sends payload to dst from host h: it runs this test binary in
// its sender mode (see TestMain) inside h's namespace.
func sendUDP(t *testing.T, h *host, dst string, payload []byte) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := h.command(exe)
	cmd.Env = []string{envSendTo + "=" + dst, envSendPayload + "=" + hex.EncodeToString(payload)}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sending %d bytes to %s from %s: %v: %s", len(payload), dst, h.name, err, out)
	}
}

// TestMalformedPackets: datagrams that are not DHCP messages, sent to the
// server's port 67, are dropped and logged with the reason, and the server
// goes on serving the next client.
func TestMalformedPackets(t *testing.T) {
	requireClientCommands(t, dhclient)
	l, srvHost, hosts := newServerLink(t, 1)
	sender := l.addHost("sender", "198.18.0.9/24")
	srv := startServer(t, srvHost, newStore(t), quickArgs(mustRange("198.18.0.100", "198.18.0.199"), time.Hour)...)
	base := discoverBytes(t, sender.mac)

	badCookie := append([]byte(nil), base...)
	copy(badCookie[236:240], []byte{0xde, 0xad, 0xbe, 0xef})
	// A message type, then a host name claiming 200 bytes with 10 left.
	overlong := append(append([]byte(nil), base[:240]...), 53, 1, 1, 12, 200)
	overlong = append(overlong, "0123456789"...)
	badOp := append([]byte(nil), base[:299]...)
	badOp[0] = 3

	for _, tc := range []struct {
		name    string
		payload []byte
		err     string // in the log line
	}{
		{"RFC2131 2 truncated below 240 bytes", base[:100], "message shorter than 240 bytes"},
		{"RFC2131 3 bad magic cookie", badCookie, "bad magic cookie"},
		{"RFC2132 2 option length past the end", overlong, "option runs past the end of its field"},
		{"RFC951 op neither request nor reply", badOp, "op is neither"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Drops are logged at most once a second: send until this one
			// is.
			want := map[string]string{"msg": "dropped malformed packet", "len": strconv.Itoa(len(tc.payload))}
			var lastSent time.Time
			err := waitFor(leaseWait, fmt.Sprintf("the server to log the drop of %d bytes", len(tc.payload)), func() (bool, error) {
				for _, r := range srv.records(want) {
					if strings.Contains(r["err"], tc.err) {
						return true, nil
					}
				}
				if srv.exited() {
					return false, fmt.Errorf("the server exited: %v", srv.err)
				}
				if time.Since(lastSent) > 500*time.Millisecond {
					sendUDP(t, sender, serverAddr+":67", tc.payload)
					lastSent = time.Now()
				}
				return false, nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}

	// Control: the base the packets were cut from is answered, so the
	// drops above are the malformations' doing.
	t.Run("control: the well-formed base is offered an address", func(t *testing.T) {
		sendUDP(t, sender, serverAddr+":67", base)
		srv.waitRecord(t, 0, map[string]string{"msg": "lease", "event": "offer", "client": sender.mac})
	})

	// And a real client gets a lease.
	c := newClient(t, dhclient, hosts[0])
	c.start()
	got := c.waitLease(0)
	checkOnInterface(t, c, got)
	if srv.exited() {
		t.Fatalf("server exited: %v", srv.err)
	}
	if acks := srv.events("ack", c.host.mac); len(acks) == 0 {
		t.Errorf("server log: no ack to the client after the malformed packets")
	}
}
