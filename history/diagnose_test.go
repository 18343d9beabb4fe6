package history

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
	"leased/server"
)

// fakeState is a server state of one full pool.
type fakeState struct {
	subnets []server.SubnetStats
	leases  []server.LeaseView
}

func (f *fakeState) PoolStats() []server.SubnetStats { return f.subnets }

func (f *fakeState) Leases(first, last netip.Addr, fn func(server.LeaseView) bool) {
	for _, v := range f.leases {
		if first.Compare(v.Addr) <= 0 && v.Addr.Compare(last) <= 0 && !fn(v) {
			return
		}
	}
}

func (f *fakeState) LeaseByAddr(a netip.Addr) (server.LeaseView, bool) {
	for _, v := range f.leases {
		if v.Addr == a {
			return v, true
		}
	}
	return server.LeaseView{}, false
}

func fullPool() *fakeState {
	first, last := netip.MustParseAddr("198.18.1.100"), netip.MustParseAddr("198.18.1.103")
	st := &fakeState{subnets: []server.SubnetStats{{
		Prefix: netip.MustParsePrefix("198.18.1.0/24"),
		Pools:  []server.PoolStats{{First: first, Last: last, Size: 4, Used: 4, Bound: 3, Declined: 1}},
	}}}
	for i, a := 0, first; i < 4; i, a = i+1, a.Next() {
		v := server.LeaseView{Addr: a, State: lease.Bound, Expiry: t0.Add(time.Duration(10-i) * time.Minute)}
		if i == 3 {
			v.State = lease.Declined
		}
		st.leases = append(st.leases, v)
	}
	return st
}

func TestExplainEveryReason(t *testing.T) {
	subnet := netip.MustParsePrefix("198.18.1.0/24")
	rec := func(typ dhcpv4.MessageType, reason server.Reason, mod func(*Record)) Record {
		r := Record{Type: typ, Reason: reason}
		r.IfName.setString("eth1")
		if mod != nil {
			mod(&r)
		}
		return r
	}
	relayed := func(r *Record) { r.GIAddr = v4(netip.MustParseAddr("198.18.7.1")) }
	inSubnet := func(r *Record) { r.Subnet, r.Bits = subnet.Addr().As4(), 24 }
	tests := []struct {
		name    string
		r       Record
		verdict string
		summary string // a part of the summary
		advice  string // a part of the advice; "" wants none
	}{
		{"pool exhausted: the pool's numbers and its first end", rec(dhcpv4.Discover, server.ReasonExhausted, inSubnet), "silence",
			"the pool 198.18.1.100-198.18.1.103 is full: 3 bound, 1 in decline probation; the first lease ends at 14:07:00 UTC", "enlarge the pool or shorten lease-time"},
		{"no subnet for a relay agent", rec(dhcpv4.Discover, server.ReasonNoSubnet, relayed), "silence", "no subnet for giaddr 198.18.7.1", "add a subnet that contains 198.18.7.1"},
		{"no subnet for an interface", rec(dhcpv4.Discover, server.ReasonNoSubnet, nil), "silence", "no subnet for interface eth1", "add a subnet"},
		{"not for us", rec(dhcpv4.Request, server.ReasonNotForUs, func(r *Record) { r.ServerID = v4(netip.MustParseAddr("198.18.0.9")) }), "silence",
			"names server 198.18.0.9, not us", "find and stop the server at 198.18.0.9"},
		{"offer withdrawn", rec(dhcpv4.Request, server.ReasonOfferWithdrawn, nil), "silence", "our offer went back to the pool", "nothing"},
		{"chose other", rec(dhcpv4.Discover, server.ReasonChoseOther, nil), "silence", "already chosen another server", "nothing"},
		{"RFC2131 4.3.2 unknown client, not authoritative", rec(dhcpv4.Request, server.ReasonUnknownClient, nil), "silence", "not authoritative", "authoritative: true"},
		{"rate limited", rec(dhcpv4.Discover, server.ReasonRateLimited, relayed), "silence", "its relay agent 198.18.7.1", "rate-limit"},
		{"bad giaddr", rec(dhcpv4.Discover, server.ReasonBadGIAddr, relayed), "silence", "giaddr 198.18.7.1 is no unicast relay address", "relay"},
		{"wrong source", rec(dhcpv4.Release, server.ReasonWrongSource, nil), "silence", "not sent from the lease holder", "NAT"},
		{"commit failed", rec(dhcpv4.Request, server.ReasonCommitFailed, nil), "silence", "failed to commit", "lease store"},
		{"store not writable", rec(dhcpv4.Request, server.ReasonNotWritable, nil), "silence", "cannot commit", "writable"},
		{"malformed", rec(dhcpv4.Request, server.ReasonMalformed, nil), "silence", "not a usable DHCP request", "client's software"},
		{"unsupported", rec(dhcpv4.Offer, server.ReasonUnsupported, nil), "silence", "does not answer a DHCPOFFER", "client's software"},
		{"declined", rec(dhcpv4.Decline, server.ReasonDeclined, nil), "silence", "found the address in use", "static address"},
		{"released", rec(dhcpv4.Release, server.ReasonReleased, nil), "silence", "released", ""},
		{"no binding", rec(dhcpv4.Release, server.ReasonNoBinding, nil), "silence", "does not hold", ""},
		{"foreign interface", rec(dhcpv4.Discover, server.ReasonNone, func(r *Record) { r.Foreign = true }), "silence", "interface eth1, which the server does not serve", "add eth1 to interfaces"},
		{"offer", rec(dhcpv4.Discover, server.ReasonOffer, func(r *Record) { r.Reply = dhcpv4.Offer; inSubnet(r) }), "OFFER", "offered", ""},
		{"ack", rec(dhcpv4.Request, server.ReasonAck, func(r *Record) { r.Reply = dhcpv4.Ack; r.Addr = v4(netip.MustParseAddr("198.18.1.100")) }), "ACK",
			"acknowledged 198.18.1.100; the lease ends at 14:10:00 UTC", ""},
		{"ack kept", rec(dhcpv4.Request, server.ReasonAckKept, func(r *Record) { r.Reply = dhcpv4.Ack }), "ACK", "could not commit", "writable"},
		{"inform", rec(dhcpv4.Inform, server.ReasonInformAck, func(r *Record) { r.Reply = dhcpv4.Ack }), "ACK", "INFORM", ""},
		{"nak address", rec(dhcpv4.Request, server.ReasonNakAddress, func(r *Record) { r.Reply = dhcpv4.Nak; r.Requested = v4(netip.MustParseAddr("198.18.1.7")) }), "NAK",
			"198.18.1.7 is not this client's address", "DISCOVER"},
		{"nak network", rec(dhcpv4.Request, server.ReasonNakNetwork, func(r *Record) { r.Reply = dhcpv4.Nak; relayed(r) }), "NAK", "relay 198.18.7.1", "moved"},
		{"nak unknown", rec(dhcpv4.Request, server.ReasonNakUnknown, func(r *Record) { r.Reply = dhcpv4.Nak }), "NAK", "authoritative", "DISCOVER"},
		{"nak conflict", rec(dhcpv4.Request, server.ReasonNakConflict, func(r *Record) { r.Reply = dhcpv4.Nak }), "NAK", "another server sharing the lease store", "DISCOVER"},
	}
	st := fullPool()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Explain(&tt.r, st, t0)
			if d.Verdict != tt.verdict {
				t.Errorf("verdict %q, want %q", d.Verdict, tt.verdict)
			}
			if !strings.Contains(d.Summary, tt.summary) {
				t.Errorf("summary %q does not say %q", d.Summary, tt.summary)
			}
			if tt.advice == "" && d.Advice != "" || !strings.Contains(d.Advice, tt.advice) {
				t.Errorf("advice %q, want %q", d.Advice, tt.advice)
			}
		})
	}
}

// A pool kept for another relay circuit is no part of a client's
// shortage; one kept for its own circuit is.
func TestExhaustedNamesThePoolsTheClientMayUse(t *testing.T) {
	st := fullPool()
	st.subnets[0].Pools = append(st.subnets[0].Pools, server.PoolStats{
		First: netip.MustParseAddr("198.18.1.200"), Last: netip.MustParseAddr("198.18.1.209"), Size: 10, Free: 10,
		Match: config.RelayMatch{CircuitID: "port9"},
	})
	tests := []struct {
		name, circuit string
		want, notWant string
	}{
		{"another circuit's pool left out", "port1", "198.18.1.100-198.18.1.103 is full", "198.18.1.200"},
		{"its own circuit's pool named", "port9", "198.18.1.200-198.18.1.209 has 10 free", "zzz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Record{Type: dhcpv4.Discover, Reason: server.ReasonExhausted, Subnet: V4{198, 18, 1, 0}, Bits: 24}
			r.Circuit.setString(tt.circuit)
			d := Explain(&r, st, t0)
			if !strings.Contains(d.Summary, tt.want) || strings.Contains(d.Summary, tt.notWant) {
				t.Errorf("summary %q, want %q and not %q", d.Summary, tt.want, tt.notWant)
			}
		})
	}
}

// Every reason of the engine has its own explanation, not the fallback.
func TestExplainCoversEveryReason(t *testing.T) {
	for _, reason := range server.Reasons() {
		if reason == server.ReasonNone {
			continue
		}
		r := Record{Type: dhcpv4.Request, Reason: reason}
		if d := Explain(&r, fullPool(), t0); strings.HasPrefix(d.Summary, "silence (") {
			t.Errorf("reason %s has no explanation: %q", reason, d.Summary)
		}
	}
}

func TestDiagnoseUsesTheLatestDecision(t *testing.T) {
	c := Client{Records: []Record{{Reason: server.ReasonOffer, Reply: dhcpv4.Offer}, {Reason: server.ReasonRateLimited}}}
	if d := Diagnose(&c, fullPool(), t0); d.Reason != "rate-limited" {
		t.Errorf("diagnosis of %q, want the latest decision's, rate-limited", d.Reason)
	}
	if d := Diagnose(&Client{}, fullPool(), t0); d.Verdict != "none" || d.Advice == "" {
		t.Errorf("diagnosis of an empty history %+v", d)
	}
}

// countingState counts the looks at the pools and leases.
type countingState struct {
	State
	pools, ranges int
}

func (c *countingState) PoolStats() []server.SubnetStats {
	c.pools++
	return c.State.PoolStats()
}

func (c *countingState) Leases(first, last netip.Addr, fn func(server.LeaseView) bool) {
	c.ranges++
	c.State.Leases(first, last, fn)
}

func TestCachedLooksOnce(t *testing.T) {
	counted := &countingState{State: fullPool()}
	st := Cached(counted)
	r := Record{Type: dhcpv4.Discover, Reason: server.ReasonExhausted, Subnet: V4{198, 18, 1, 0}, Bits: 24}
	first := Explain(&r, st, t0)
	for range 15 {
		if d := Explain(&r, st, t0); d != first {
			t.Fatalf("explanation changed: %+v, then %+v", first, d)
		}
	}
	if counted.pools != 1 || counted.ranges != 1 {
		t.Errorf("16 explanations looked at the pools %d times and the leases %d times, want once each", counted.pools, counted.ranges)
	}
}
