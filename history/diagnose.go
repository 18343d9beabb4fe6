package history

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"leased/lease"
	"leased/server"
)

// State is what a diagnosis needs of the server's state of the moment;
// *server.Engine and *server.Reloadable are ones.
type State interface {
	PoolStats() []server.SubnetStats
	Leases(first, last netip.Addr, fn func(server.LeaseView) bool)
	LeaseByAddr(a netip.Addr) (server.LeaseView, bool)
}

// Diagnosis explains a decision in plain language.
type Diagnosis struct {
	// Verdict and Reason are the decision's (Record.Verdict,
	// Record.ReasonToken).
	Verdict, Reason string
	// Summary says what happened, with the details of the moment: "the
	// pool 198.18.1.100-198.18.1.199 is full: 96 bound, 4 in decline
	// probation; the first lease ends at 14:02:00 UTC".
	Summary string
	// Advice says what to do; empty when nothing is wrong.
	Advice string
}

// Diagnose explains the most recent decision about c, with the server's
// state st as of now.
func Diagnose(c *Client, st State, now time.Time) Diagnosis {
	if len(c.Records) == 0 {
		return Diagnosis{Verdict: "none", Reason: "none", Summary: "no request from this client is remembered",
			Advice: "check that its requests reach the server (interfaces served, relay agents, firewalls)"}
	}
	return Explain(c.Latest(), st, now)
}

// Explain explains one decision, with the server's state st as of now.
func Explain(r *Record, st State, now time.Time) Diagnosis {
	d := Diagnosis{Verdict: r.Verdict(), Reason: r.ReasonToken()}
	if r.Foreign {
		d.Summary = fmt.Sprintf("the %s arrived directly on interface %s, which the server does not serve", r.Type, r.IfName)
		d.Advice = fmt.Sprintf("add %s to interfaces if its clients are to be served", r.IfName)
		return d
	}
	if s, a, ok := explainReply(r, st, now); ok {
		d.Summary, d.Advice = s, a
		return d
	}
	d.Summary, d.Advice = explainSilence(r, st, now)
	return d
}

// explainReply explains the reasons that come with a reply.
func explainReply(r *Record, st State, now time.Time) (summary, advice string, ok bool) {
	addr, req := r.Addr.Addr(), requested(r)
	switch r.Reason {
	case server.ReasonOffer, server.ReasonOfferUnheld:
		summary = fmt.Sprintf("offered %v%s", addr, from(r))
		if r.Reason == server.ReasonOfferUnheld {
			summary += ", not set aside: the subnet holds as many offers as it may"
		}
		return summary, "", true
	case server.ReasonAck, server.ReasonAckKept:
		summary = fmt.Sprintf("acknowledged %v%s", addr, from(r))
		if v, found := st.LeaseByAddr(addr); found && v.State == lease.Bound {
			summary += "; the lease ends at " + clock(v.Expiry, now)
		}
		if r.Reason == server.ReasonAckKept {
			return summary + ", with the time its lease had left: the lease store could not commit",
				"make the lease store writable again (see leased status)", true
		}
		return summary, "", true
	case server.ReasonInformAck:
		return "answered the INFORM with options", "", true
	case server.ReasonNakAddress:
		return fmt.Sprintf("NAK: %v is not this client's address", req),
			"nothing, usually: the client starts again with DISCOVER; if it keeps asking for the address, another client holds it", true
	case server.ReasonNakNetwork:
		return fmt.Sprintf("NAK: %v is not on the client's network (%s)", req, where(r)),
			"nothing, usually: the client moved and starts again with DISCOVER; if it did not move, check the relay agent's giaddr and the subnets", true
	case server.ReasonNakUnknown:
		return fmt.Sprintf("NAK: the server is authoritative, has no lease for the client and %v is not free", req),
			"nothing, usually: the client starts again with DISCOVER", true
	case server.ReasonIPv6Only:
		return "answered with option 108 and no address: the client prefers IPv6-only and the subnet offers it (RFC 8925)",
			"nothing, if the network has NAT64; otherwise take ipv6-only-preferred off the subnet", true
	case server.ReasonNakConflict:
		return fmt.Sprintf("NAK: another server sharing the lease store holds %v", req),
			"nothing, usually: the client starts again with DISCOVER; if it repeats, compare the servers' pools", true
	}
	return "", "", false
}

// explainSilence explains the reasons for which the server sent nothing.
func explainSilence(r *Record, st State, now time.Time) (summary, advice string) {
	switch r.Reason {
	case server.ReasonExhausted:
		return exhausted(r, st, now)
	case server.ReasonNoSubnet:
		if !r.GIAddr.IsZero() {
			return fmt.Sprintf("no subnet for giaddr %v", r.GIAddr.Addr()),
				fmt.Sprintf("add a subnet that contains %v (or a relay match that names it)", r.GIAddr.Addr())
		}
		return fmt.Sprintf("no subnet for interface %s", r.IfName),
			fmt.Sprintf("add a subnet that contains an address of %s", r.IfName)
	case server.ReasonNotForUs:
		return fmt.Sprintf("the %s names server %v, not us: the client chose another server", r.Type, r.ServerID.Addr()),
			fmt.Sprintf("nothing, if %v is one of your servers; otherwise find and stop the server at %v", r.ServerID.Addr(), r.ServerID.Addr())
	case server.ReasonOfferWithdrawn:
		return fmt.Sprintf("the client chose server %v; our offer went back to the pool", r.ServerID.Addr()),
			fmt.Sprintf("nothing, if %v is one of your servers; otherwise find and stop the server at %v", r.ServerID.Addr(), r.ServerID.Addr())
	case server.ReasonChoseOther:
		return "a DISCOVER of an exchange in which the client had already chosen another server",
			"nothing, if the other server is one of yours"
	case server.ReasonUnknownClient:
		return fmt.Sprintf("the server has no record of the client asking for %v and is not authoritative (RFC 2131 §4.3.2)", requested(r)),
			"set authoritative: true for the subnet if this server alone serves it; the client falls back to DISCOVER when its request times out"
	case server.ReasonRateLimited:
		who := "the client (on interface " + r.IfName.String() + ")"
		if !r.GIAddr.IsZero() {
			who = fmt.Sprintf("the client, its relay agent %v or the agent's circuit", r.GIAddr.Addr())
		}
		return "dropped by the rate limits: " + who + " sent too many requests",
			"find why it sends so often, or raise rate-limit"
	case server.ReasonBadGIAddr:
		return fmt.Sprintf("giaddr %v is no unicast relay address: a reply would reflect", r.GIAddr.Addr()),
			"fix the relay agent's address (giaddr) on the relay"
	case server.ReasonWrongSource:
		return fmt.Sprintf("the %s of %v was not sent from the lease holder's address, hardware address or link: ignored", r.Type, r.Addr.Addr()),
			"nothing, if it was not the client; otherwise check for a NAT or relay between the client and the server"
	case server.ReasonCommitFailed:
		return "the lease store failed to commit the lease: no acknowledgement",
			"check the lease store (leased status, the server's error log): disk full, permissions, database down"
	case server.ReasonNotWritable:
		return "the lease store cannot commit, and the answer needed a new commitment",
			"make the lease store writable again (leased status): free disk space, fix permissions or the database"
	}
	return explainOther(r)
}

// explainOther explains the silences that need no state.
func explainOther(r *Record) (summary, advice string) {
	switch r.Reason {
	case server.ReasonIgnoredClass:
		return "the client is in a client class with ignore: true: no answer",
			"nothing, if it is to be kept out; otherwise change the class's match (leased leases show lists a client's classes)"
	case server.ReasonPingInUse:
		return fmt.Sprintf("%v answered a ping before it was offered: another host uses it without a lease; it is set aside as declined", r.Addr.Addr()),
			fmt.Sprintf("find the host that uses %v and remove its static address, or reserve the address", r.Addr.Addr())
	case server.ReasonMalformed:
		return "the request was not a usable DHCP request (no message type, or missing fields)",
			"check the client's software, or what rewrites its packets on the way"
	case server.ReasonUnsupported:
		return fmt.Sprintf("a server does not answer a %s", r.Type), "check the client's software"
	case server.ReasonReleased:
		return fmt.Sprintf("the client released %v", r.Addr.Addr()), ""
	case server.ReasonDeclined:
		return fmt.Sprintf("the client declined %v: it found the address in use", r.Addr.Addr()),
			fmt.Sprintf("find the host that uses %v without a lease (a static address) and remove it, or reserve the address", r.Addr.Addr())
	case server.ReasonNoBinding:
		return fmt.Sprintf("the %s names %v, which the client does not hold: nothing to do", r.Type, r.Addr.Addr()), ""
	}
	return fmt.Sprintf("silence (%s)", r.ReasonToken()), ""
}

// exhausted describes the pools of the subnet chosen, as they are now.
func exhausted(r *Record, st State, now time.Time) (summary, advice string) {
	advice = "enlarge the pool or shorten lease-time"
	prefix := r.SubnetPrefix()
	var pools []server.PoolStats
	for _, sub := range st.PoolStats() {
		if sub.Prefix != prefix {
			continue
		}
		// The pools the client may draw from: those kept for its relay
		// circuit, and those for everyone; all of them when none is
		// (identifiers longer than a Short are cut).
		for _, p := range sub.Pools {
			if p.Match.Matches(r.Circuit.Bytes(), r.Remote.Bytes()) {
				pools = append(pools, p)
			}
		}
		if len(pools) == 0 {
			pools = sub.Pools
		}
	}
	var parts []string
	for _, p := range pools {
		parts = append(parts, poolState(&p, st, now))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("no free address in the pools of %v", prefix), advice
	}
	return strings.Join(parts, "; "), advice
}

// poolState describes one pool: "the pool A-B is full: 96 bound, 4 in
// decline probation; the first lease ends at 14:02:00 UTC".
func poolState(p *server.PoolStats, st State, now time.Time) string {
	var counts []string
	for _, c := range []struct {
		n    int
		what string
	}{{p.Bound, "bound"}, {p.Offered, "offered"}, {p.Declined, "in decline probation"}, {p.Reserved, "reserved"}} {
		if c.n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	name := fmt.Sprintf("the pool %v-%v", p.First, p.Last)
	if p.Free > 0 {
		return fmt.Sprintf("%s has %d free of %d now (%s): the shortage has passed", name, p.Free, p.Size, strings.Join(counts, ", "))
	}
	s := fmt.Sprintf("%s is full: %s", name, strings.Join(counts, ", "))
	var first time.Time
	st.Leases(p.First, p.Last, func(v server.LeaseView) bool {
		held := v.State == lease.Bound || v.State == lease.Offered || v.State == lease.Declined
		if held && v.Expiry.After(now) && (first.IsZero() || v.Expiry.Before(first)) {
			first = v.Expiry
		}
		return true
	})
	if !first.IsZero() {
		s += "; the first lease ends at " + clock(first, now)
	}
	return s
}

// from names the subnet chosen: " from 198.18.1.0/24", or "".
func from(r *Record) string {
	if p := r.SubnetPrefix(); p.IsValid() {
		return " from " + p.String()
	}
	return ""
}

// requested is the address a REQUEST asked for: option 50, else ciaddr.
func requested(r *Record) netip.Addr {
	if !r.Requested.IsZero() {
		return r.Requested.Addr()
	}
	return r.CIAddr.Addr()
}

// where names where a request came from: its relay agent, or its
// interface.
func where(r *Record) string {
	if !r.GIAddr.IsZero() {
		return "relay " + r.GIAddr.Addr().String()
	}
	return "interface " + r.IfName.String()
}

// clock formats t for a person, in UTC: the time of day when t is within
// a day of now, else the date too.
func clock(t, now time.Time) string {
	t = t.UTC()
	if d := t.Sub(now); d > -24*time.Hour && d < 24*time.Hour {
		return t.Format("15:04:05 UTC")
	}
	return t.Format("2006-01-02 15:04:05 UTC")
}
