//go:build linux

package integration

import (
	"bytes"
	"encoding/hex"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"leased/dhcpv4"
)

// TestHostileClientText: a client that sends a client identifier of 300
// bytes (RFC 3396 long option) and a host name full of terminal control
// sequences is offered an address and acknowledged; its lease survives a
// restart of the server; neither the server's log nor "leased leases
// list" (table or JSON) prints a control character; the JSON gives the
// host name faithfully.
func TestHostileClientText(t *testing.T) {
	l, srvHost, _ := newServerLink(t, 0)
	probeHost := l.addHost("probe", "198.18.0.250/24")
	store := newStore(t)
	srv := startServer(t, srvHost, store, quickArgs(mustRange("198.18.0.100", "198.18.0.149"), 3600e9)...)
	pr := newProbe(t, probeHost)

	id := append([]byte{0xff}, bytes.Repeat([]byte{0xa5}, 299)...)
	hostname := "pc\x1b]0;owned\x07\x7f\u009b2J\x9b"
	edit := func(p *dhcpv4.Packet) {
		p.Options.Set(dhcpv4.OptClientID, id)
		p.Options.Set(dhcpv4.OptHostName, []byte(hostname))
		p.Options.SetUint16(dhcpv4.OptMaxMessageSize, 1500)
	}
	offer := pr.waitReply(discover(t, 1, edit))
	if offer.MessageType() != dhcpv4.Offer {
		t.Fatalf("DISCOVER with a 300-byte client identifier: %v, want an OFFER", offer.MessageType())
	}
	ack := pr.waitReply(ctlRequestEdited(t, 1, offer, edit))
	if ack.MessageType() != dhcpv4.Ack || ack.YIAddr != offer.YIAddr {
		t.Fatalf("REQUEST with a 300-byte client identifier: %v %v, want an ACK of %v", ack.MessageType(), ack.YIAddr, offer.YIAddr)
	}
	if echo, _ := ack.Options.Get(dhcpv4.OptClientID); !bytes.Equal(echo, id) {
		t.Errorf("ACK echoes a client identifier of %d bytes, want %d", len(echo), len(id))
	}
	srv.waitRecord(t, 0, map[string]string{"msg": "lease", "event": "ack"})
	checkNoControlText(t, "server log", srv.output())
	if err := srv.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// The store, read by the command: the lease with its whole client
	// identifier, the host name escaped in the table and faithful in JSON.
	leases := listLeases(t, store)
	if len(leases) != 1 || leases[0].Address != offer.YIAddr || leases[0].ClientID != hex.EncodeToString(id) {
		t.Fatalf("store holds %+v, want %v with the 300-byte client identifier", leases, offer.YIAddr)
	}
	out, err := exec.Command(build.path, "leases", "list", "--store", store).Output()
	if err != nil {
		t.Fatal(err)
	}
	checkNoControlText(t, "leases list", string(out))
	if want := `pc\x1b]0;owned\x07\x7f\u009b2J\x9b`; !strings.Contains(string(out), " "+want+" ") {
		t.Errorf("leases list shows no %s:\n%s", want, out)
	}
	jout, err := exec.Command(build.path, "leases", "list", "--store", store, "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	checkNoControlText(t, "leases list --json", string(jout))
	if want := `"hostname_hex":"` + hex.EncodeToString([]byte(hostname)) + `"`; !strings.Contains(string(jout), want) {
		t.Errorf("leases list --json lacks %s:\n%s", want, jout)
	}

	// Restarted on the same store, the server acknowledges the client's
	// INIT-REBOOT for the address (RFC 2131 §4.3.2): the lease is there.
	srv = startServer(t, srvHost, store, quickArgs(mustRange("198.18.0.100", "198.18.0.149"), 3600e9)...)
	reboot := discover(t, 1, func(p *dhcpv4.Packet) {
		edit(p)
		p.XID++
		p.Options.SetMessageType(dhcpv4.Request)
		p.Options.SetAddr(dhcpv4.OptRequestedIP, offer.YIAddr)
	})
	if again := pr.waitReply(reboot); again.MessageType() != dhcpv4.Ack || again.YIAddr != offer.YIAddr {
		t.Fatalf("INIT-REBOOT after restart: %v %v, want an ACK of %v", again.MessageType(), again.YIAddr, offer.YIAddr)
	}
	checkNoControlText(t, "server log after restart", srv.output())
}

// ctlRequestEdited is ctlRequest with the request edited as well.
func ctlRequestEdited(t *testing.T, i int, offer *dhcpv4.Packet, edit func(*dhcpv4.Packet)) *dhcpv4.Packet {
	t.Helper()
	p := ctlRequest(t, i, offer)
	edit(p)
	return p
}

// checkNoControlText fails t if out holds a control character other
// than newline and tab (C0, DEL, C1) or a byte that is not UTF-8.
func checkNoControlText(t *testing.T, what, out string) {
	t.Helper()
	for i := 0; i < len(out); {
		r, n := utf8.DecodeRuneInString(out[i:])
		if (r == utf8.RuneError && n == 1) || (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) {
			t.Errorf("%s holds %q at %d:\n%s", what, out[i:i+n], i, tail(out, 20))
			return
		}
		i += n
	}
}
