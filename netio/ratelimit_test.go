package netio

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
)

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func withCircuit(id string) func(*dhcpv4.Packet) {
	return func(p *dhcpv4.Packet) {
		p.Options.Set(dhcpv4.OptRelayAgentInfo, dhcpv4.AppendSubOption(nil, dhcpv4.RelayCircuitID, []byte(id)))
	}
}

// TestRateLimitsDropAndCount sends requests over each bucket's burst to a
// server whose clock stands still, so that no bucket refills, and checks
// that what is over is dropped before the engine, counted as
// rate-limited and logged in one summary line.
func TestRateLimitsDropAndCount(t *testing.T) {
	type send struct {
		mac   byte
		extra func(*dhcpv4.Packet)
	}
	many := func(n int, f func(i int) send) []send {
		var s []send
		for i := range n {
			s = append(s, f(i))
		}
		return s
	}
	tests := []struct {
		name    string
		limits  config.RateLimits
		sends   []send
		replies int
		logged  string
	}{
		{"a client over its burst", config.RateLimits{Client: config.Rate{PerSecond: 1, Burst: 3}, Buckets: 64},
			many(8, func(int) send { return send{mac: 1} }), 3, "client=5"},
		{"clients under theirs", config.RateLimits{Client: config.Rate{PerSecond: 1, Burst: 3}, Buckets: 64},
			many(8, func(i int) send { return send{mac: byte(i)} }), 8, ""},
		{"a relay agent over its burst", config.RateLimits{Relay: config.Rate{PerSecond: 1, Burst: 5}, Buckets: 64},
			many(9, func(i int) send { return send{mac: byte(i)} }), 5, "relay=4 last-client=02:00:00:00:00:08 last-relay=127.0.0.1"},
		{"a circuit over its burst, another circuit under", config.RateLimits{Circuit: config.Rate{PerSecond: 1, Burst: 2}, Buckets: 64},
			many(8, func(i int) send { return send{mac: byte(i), extra: withCircuit(fmt.Sprint("port", i%2*7))} }), 4, "circuit=4"},
		{"no limits", config.RateLimits{}, many(8, func(int) send { return send{mac: 1} }), 8, ""},
	}
	frozen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			relay, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer relay.Close()
			var logs syncBuffer
			srv, _ := loopbackServerWith(t, uint16(relay.LocalAddr().(*net.UDPAddr).Port), func(o *Options) {
				o.RateLimits = tt.limits
				o.Clock = func() time.Time { return frozen }
				o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			})
			for _, s := range tt.sends {
				if _, err := relay.WriteToUDPAddrPort(relayedRequest(t, dhcpv4.Discover, s.mac, s.extra), srv.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			dropped := uint64(len(tt.sends) - tt.replies)
			waitFor(t, "every request to be handled or dropped", func() bool {
				st := srv.Stats()
				return st.Received == uint64(len(tt.sends)) && st.Replies+st.Outcomes["rate-limited"] == uint64(len(tt.sends))
			})
			st := srv.Stats()
			if st.Outcomes["rate-limited"] != dropped || st.Outcomes["offer"] != uint64(tt.replies) {
				t.Errorf("outcomes %v, want %d offers and %d rate-limited", st.Outcomes, tt.replies, dropped)
			}
			if tt.logged == "" {
				return
			}
			waitFor(t, "the summary line", func() bool { return strings.Contains(logs.String(), "rate-limited") })
			line := logs.String()
			if strings.Count(line, "requests dropped by rate limits") != 1 || !strings.Contains(line, fmt.Sprintf("count=%d", dropped)) ||
				!strings.Contains(line, tt.logged) {
				t.Errorf("log:\n%s\nwant one summary line of %d drops with %q", line, dropped, tt.logged)
			}
		})
	}
}

// BenchmarkLimiterFlood is the cost of the rate limits on a flood of
// relayed DISCOVERs from new hardware addresses: nothing allocated.
func BenchmarkLimiterFlood(b *testing.B) {
	l := newLimiter(config.DefaultRateLimits())
	var p dhcpv4.Packet
	p.Op = dhcpv4.BootRequest
	p.GIAddr = netip.MustParseAddr("198.18.0.2")
	p.Options.SetMessageType(dhcpv4.Discover)
	p.Options.Set(dhcpv4.OptRelayAgentInfo, dhcpv4.AppendSubOption(nil, dhcpv4.RelayCircuitID, []byte("eth0:7")))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.SetHardwareAddr(1, []byte{2, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
		now = now.Add(time.Microsecond)
		l.allow(&p, now)
	}
}

// TestSetRateLimits puts limits in effect on a running server, as a
// reload does, and takes them off again.
func TestSetRateLimits(t *testing.T) {
	relay, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	frozen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv, _ := loopbackServerWith(t, uint16(relay.LocalAddr().(*net.UDPAddr).Port), func(o *Options) {
		o.Clock = func() time.Time { return frozen }
	})
	sent := uint64(0)
	burst := func(n int) {
		t.Helper()
		for range n {
			if _, err := relay.WriteToUDPAddrPort(relayedRequest(t, dhcpv4.Discover, 1, nil), srv.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		waitFor(t, "the burst to be handled or dropped", func() bool {
			st := srv.Stats()
			return st.Replies+st.Outcomes["rate-limited"] == sent
		})
	}
	limited := func() uint64 { return srv.Stats().Outcomes["rate-limited"] }
	burst(4)
	if n := limited(); n != 0 {
		t.Fatalf("%d rate-limited without limits", n)
	}
	one := config.RateLimits{Client: config.Rate{PerSecond: 1, Burst: 1}, Buckets: 64}
	srv.SetRateLimits(one)
	burst(4)
	if n := limited(); n != 3 {
		t.Fatalf("%d rate-limited after SetRateLimits(burst 1), want 3", n)
	}
	srv.SetRateLimits(one) // the same limits: the bucket stays empty
	burst(1)
	if n := limited(); n != 4 {
		t.Fatalf("%d rate-limited after the same limits again, want 4", n)
	}
	srv.SetRateLimits(config.RateLimits{})
	burst(4)
	if n := limited(); n != 4 {
		t.Errorf("%d rate-limited after the limits were taken off, want still 4", n)
	}
}
