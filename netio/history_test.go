package netio

import (
	"net"
	"net/netip"
	"testing"

	"leased/config"
	"leased/dhcpv4"
	"leased/history"
)

// TestServerNotesEveryDecision: the engine's decisions and the requests
// dropped before the engine (rate limits, interfaces not served) are
// noted in the history, under the client's identity.
func TestServerNotesEveryDecision(t *testing.T) {
	tests := []struct {
		name    string
		set     func(*Options)
		direct  bool // a direct request rather than a relayed one
		sends   int
		verdict string
		reason  string
	}{
		{"relayed DISCOVER offered", nil, false, 1, "OFFER", "offer"},
		{"DISCOVER over the client's rate limit", func(o *Options) {
			o.RateLimits = config.RateLimits{Client: config.Rate{PerSecond: 0.001, Burst: 1}, Buckets: 64}
		}, false, 2, "silence", "rate-limited"},
		{"direct DISCOVER on an interface not served", func(o *Options) { o.Interfaces = []string{"nosuch0"} }, true, 1, "silence", "foreign-interface"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			relay, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer relay.Close()
			srv, _ := loopbackServerWith(t, uint16(relay.LocalAddr().(*net.UDPAddr).Port), tt.set)
			book := history.New(history.Options{Clients: 16})
			srv.SetHistory(book)
			for range tt.sends {
				msg := relayedRequest(t, dhcpv4.Discover, 9, func(p *dhcpv4.Packet) {
					if tt.direct {
						p.GIAddr = netip.Addr{}
					}
				})
				if _, err := relay.WriteToUDPAddrPort(msg, srv.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			id := []byte{1, 2, 0, 0, 0, 0, 9}
			waitFor(t, "the decisions to be noted", func() bool {
				c, ok := book.Lookup(id)
				return ok && len(c.Records) == tt.sends
			})
			c, _ := book.Lookup(id)
			r := c.Latest()
			if r.Verdict() != tt.verdict || r.ReasonToken() != tt.reason {
				t.Errorf("noted %s %s, want %s %s", r.Verdict(), r.ReasonToken(), tt.verdict, tt.reason)
			}
			if r.XID != 0xabc009 || r.Type != dhcpv4.Discover {
				t.Errorf("noted xid %#x type %v, want the request's", r.XID, r.Type)
			}
			if !tt.direct && r.GIAddr.Addr() != netip.MustParseAddr("127.0.0.1") {
				t.Errorf("noted giaddr %v, want the relay's", r.GIAddr.Addr())
			}
		})
	}
}
