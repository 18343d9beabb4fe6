package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"leased/dhcpv4"
	"leased/lease"
	"leased/lease/journal"
)

// TestLongClientOptionsAreLeasedDurably: a client identifier or host name
// longer than 255 bytes arrives split over several options and joined
// (RFC 3396). A client that was offered an address is acknowledged too:
// the journal stores what the wire carries, and the lease survives a
// restart of the server.
func TestLongClientOptionsAreLeasedDurably(t *testing.T) {
	longID := append([]byte{0xff}, bytes.Repeat([]byte{0xa5}, 299)...)
	longName := strings.Repeat("n", 300)
	for _, tc := range []struct {
		name     string
		id       []byte
		hostname string
	}{
		{"RFC3396 client identifier of 300 bytes -> OFFER, ACK, kept across restart", longID, ""},
		{"RFC3396 host name of 300 bytes -> OFFER, ACK, kept across restart", nil, longName},
		{"RFC3396 client identifier and host name of 300 bytes each -> OFFER, ACK, kept across restart", longID, longName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			now := t0
			clock := func() time.Time { return now }
			open := func() (*journal.Store, *env) {
				st, err := journal.Open(dir, journal.Options{})
				if err != nil {
					t.Fatal(err)
				}
				e := &env{t: t, now: now, cfg: testConfig()}
				if e.eng, err = New(e.cfg, st, clock); err != nil {
					t.Fatal(err)
				}
				return st, e
			}
			st, e := open()
			c := newClient(7)
			c.cid = tc.id
			if tc.hostname != "" {
				c.opts = append(c.opts, option{dhcpv4.OptHostName, []byte(tc.hostname)})
			}
			a := e.dora(c, direct())

			var stored lease.Lease
			st.All(func(l lease.Lease) bool { stored = l; return l.Addr != a })
			wantID := string(tc.id)
			if tc.id == nil {
				wantID = "\x01" + string(c.mac)
			}
			if stored.Addr != a || stored.State != lease.Bound || stored.ClientID != wantID || stored.Hostname != tc.hostname {
				t.Fatalf("stored %v %v, client id of %d bytes, host name of %d bytes; want %v bound with %d and %d",
					stored.Addr, stored.State, len(stored.ClientID), len(stored.Hostname), a, len(wantID), len(tc.hostname))
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}

			// Restart: the lease comes back from the journal, and the
			// client renews it (RFC 2131 §4.3.2 RENEWING).
			now = now.Add(10 * time.Minute)
			st, e = open()
			defer st.Close()
			p := c.packet(dhcpv4.Request)
			p.CIAddr = a
			out, ack := e.handle(p, unicastTo(a))
			if out.Reason != ReasonAck || ack.YIAddr != a {
				t.Fatalf("renewal after restart: %v, want an ACK of %v", out.Reason, a)
			}
			if tc.id != nil {
				if echo, _ := ack.Options.Get(dhcpv4.OptClientID); !bytes.Equal(echo, tc.id) {
					t.Errorf("ACK echoes a client identifier of %d bytes, want %d (RFC 6842)", len(echo), len(tc.id))
				}
			}
			// Another client is not given the address.
			if _, offer := e.handle(newClient(8).packet(dhcpv4.Discover, optAddr(dhcpv4.OptRequestedIP, a.String())), direct()); offer == nil || offer.YIAddr == a {
				t.Errorf("after restart, another client was offered %v or nothing", a)
			}
		})
	}
}
