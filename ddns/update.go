package ddns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Policy is how the updater resolves a name claimed by another client.
type Policy uint8

// The conflict policies.
const (
	// CheckWithDHCID guards every name with a DHCID record and changes
	// only the names whose DHCID is the client's (RFC 4703 §5.3-5.5).
	CheckWithDHCID Policy = iota
	// NoCheckWithDHCID overwrites a name's records without prerequisites,
	// still writing the DHCID record.
	NoCheckWithDHCID
)

// Target is where the records of one zone are updated: the zone ("" for
// none: no such records), its primary servers, tried in order, the TSIG
// key that signs the updates (nil: unsigned) and whether they go over TCP
// (else UDP, falling back to TCP when an answer is truncated).
type Target struct {
	Zone    string
	Servers []netip.AddrPort
	Key     *Key
	TCP     bool
}

// result is the end of an update: done, or why not.
type result uint8

const (
	// resultDone: the records are as wanted, made so or found so.
	resultDone result = iota
	// resultConflict: the name belongs to another client (RFC 4703).
	resultConflict
	// resultRefused: the servers refused the update (NOTAUTH, REFUSED, a
	// TSIG error); it is retried later.
	resultRefused
	// resultFailed: no server answered, or one failed; retried later.
	resultFailed
	// resultSkipped: the name is not in the target's zone; not retried.
	resultSkipped
)

// answer is a server's answer to an update, or why there is none.
type answer struct {
	rcode  int
	res    result // resultDone when rcode is a definitive answer
	reason string // what the server or the network said, for the log
}

// exchanger sends updates to a target's servers.
type exchanger struct {
	timeout time.Duration
	retries int
	clock   func() time.Time
}

// exchange sends m to t's servers until one gives a definitive answer
// (success or a prerequisite that failed): retries rounds over the
// servers, each attempt bounded by the timeout. A refusal or a failure
// makes it try the next server.
func (x *exchanger) exchange(ctx context.Context, t *Target, m *dns.Msg) answer {
	last := answer{res: resultFailed, reason: "no server"}
	for range max(x.retries, 1) {
		for _, srv := range t.Servers {
			if ctx.Err() != nil {
				return answer{res: resultFailed, reason: ctx.Err().Error()}
			}
			a := x.attempt(ctx, t, srv, m, t.TCP)
			if a.res == resultDone {
				return a
			}
			a.reason = srv.String() + ": " + a.reason
			last = a
		}
	}
	return last
}

// attempt sends m to srv once (twice when a UDP answer is truncated).
func (x *exchanger) attempt(ctx context.Context, t *Target, srv netip.AddrPort, m *dns.Msg, tcp bool) answer {
	req := m.Copy()
	req.Id = dns.Id()
	c := &dns.Client{Net: "udp", Timeout: x.timeout}
	if tcp {
		c.Net = "tcp"
	}
	if k := t.Key; k != nil {
		c.TsigSecret = map[string]string{k.Name: k.Secret}
		req.SetTsig(k.Name, k.Algorithm, 300, x.clock().Unix())
	}
	actx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	r, _, err := c.ExchangeContext(actx, req, srv.String())
	if err == nil && r.Truncated && !tcp {
		return x.attempt(ctx, t, srv, m, true)
	}
	if r != nil {
		if ts := r.IsTsig(); ts != nil && ts.Error != dns.RcodeSuccess {
			return answer{rcode: r.Rcode, res: resultRefused, reason: rcodeText(r) + " (" + dns.RcodeToString[int(ts.Error)] + ")"}
		}
	}
	if err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return answer{res: resultFailed, reason: "no answer within " + x.timeout.String()}
		}
		return answer{res: resultFailed, reason: err.Error()}
	}
	switch r.Rcode {
	case dns.RcodeSuccess, dns.RcodeYXDomain, dns.RcodeYXRrset, dns.RcodeNXRrset, dns.RcodeNameError:
		return answer{rcode: r.Rcode, res: resultDone}
	case dns.RcodeNotAuth, dns.RcodeRefused, dns.RcodeBadSig, dns.RcodeBadKey, dns.RcodeBadTime:
		return answer{rcode: r.Rcode, res: resultRefused, reason: rcodeText(r)}
	}
	return answer{rcode: r.Rcode, res: resultFailed, reason: rcodeText(r)}
}

// rcodeText is the RCODE of r with the server's extended error text
// (RFC 8914) when it gave one.
func rcodeText(r *dns.Msg) string {
	s := dns.RcodeToString[r.Rcode]
	if s == "" {
		s = fmt.Sprintf("RCODE %d", r.Rcode)
	}
	if opt := r.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if ede, ok := o.(*dns.EDNS0_EDE); ok {
				s += ": " + ede.String()
			}
		}
	}
	return s
}

// records are the records of one lease in one zone.
type records struct {
	name   string // owner, fully qualified
	value  dns.RR // the A or PTR record
	dhcid  *dns.DHCID
	policy Policy
}

func hdr(name string, typ uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: typ, Class: dns.ClassINET, Ttl: ttl}
}

// forwardRecords are the A and DHCID records of fqdn -> addr.
func forwardRecords(fqdn string, addr netip.Addr, dhcid string, ttl uint32, p Policy) records {
	name := fqdnOf(fqdn)
	return records{
		name:   name,
		value:  &dns.A{Hdr: hdr(name, dns.TypeA, ttl), A: addr.AsSlice()},
		dhcid:  &dns.DHCID{Hdr: hdr(name, dns.TypeDHCID, ttl), Digest: dhcid},
		policy: p,
	}
}

// reverseRecords are the PTR and DHCID records of addr -> fqdn.
func reverseRecords(fqdn string, addr netip.Addr, dhcid string, ttl uint32, p Policy) records {
	name, _ := dns.ReverseAddr(addr.String()) // a valid address: no error
	return records{
		name:   name,
		value:  &dns.PTR{Hdr: hdr(name, dns.TypePTR, ttl), Ptr: fqdnOf(fqdn)},
		dhcid:  &dns.DHCID{Hdr: hdr(name, dns.TypeDHCID, ttl), Digest: dhcid},
		policy: p,
	}
}

// rrsetOf is an RR that names the RRset of typ at name, for prerequisites
// and deletions.
func rrsetOf(name string, typ uint16) dns.RR {
	return &dns.ANY{Hdr: dns.RR_Header{Name: name, Rrtype: typ, Class: dns.ClassINET}}
}

// inZone reports whether name is in zone.
func inZone(t *Target, name string) bool {
	return t.Zone != "" && dns.IsSubDomain(fqdnOf(t.Zone), name)
}

func newUpdate(t *Target) *dns.Msg {
	m := new(dns.Msg)
	m.SetUpdate(fqdnOf(t.Zone))
	return m
}

// addForward adds the A and DHCID records of rs (RFC 4703 §5.3): with
// CheckWithDHCID, first on the condition that the name is not in use
// (§5.3.1), then, when it is, that its DHCID is the client's, replacing
// its A records (§5.3.2); a name with another DHCID is a conflict.
func (x *exchanger) addForward(ctx context.Context, t *Target, rs records) answer {
	if !inZone(t, rs.name) {
		return answer{res: resultSkipped, reason: rs.name + " is not in zone " + t.Zone}
	}
	if rs.policy == NoCheckWithDHCID {
		m := newUpdate(t)
		m.RemoveRRset([]dns.RR{rrsetOf(rs.name, dns.TypeA), rrsetOf(rs.name, dns.TypeDHCID)})
		m.Insert([]dns.RR{rs.value, rs.dhcid})
		return definite(x.exchange(ctx, t, m), dns.RcodeSuccess)
	}
	m := newUpdate(t)
	m.NameNotUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: rs.name}}})
	m.Insert([]dns.RR{rs.value, rs.dhcid})
	a := x.exchange(ctx, t, m)
	if a.res != resultDone || a.rcode == dns.RcodeSuccess {
		return definite(a, dns.RcodeSuccess)
	}
	if a.rcode != dns.RcodeYXDomain {
		return definite(a, dns.RcodeSuccess)
	}
	m = newUpdate(t)
	m.Used([]dns.RR{dns.Copy(rs.dhcid)})
	m.RemoveRRset([]dns.RR{rrsetOf(rs.name, dns.TypeA)})
	m.Insert([]dns.RR{rs.value})
	a = x.exchange(ctx, t, m)
	if a.res == resultDone && (a.rcode == dns.RcodeNXRrset || a.rcode == dns.RcodeNameError) {
		return answer{rcode: a.rcode, res: resultConflict, reason: rs.name + " has another client's DHCID"}
	}
	return definite(a, dns.RcodeSuccess)
}

// removeForward removes the A record of rs (RFC 4703 §5.5): with
// CheckWithDHCID only when the name's DHCID is the client's; then the
// DHCID record, when no A nor AAAA record is left. A name that is gone or
// is another client's is left as it is, and that is done.
func (x *exchanger) removeForward(ctx context.Context, t *Target, rs records) answer {
	if !inZone(t, rs.name) {
		return answer{res: resultSkipped, reason: rs.name + " is not in zone " + t.Zone}
	}
	m := newUpdate(t)
	if rs.policy == CheckWithDHCID {
		m.Used([]dns.RR{dns.Copy(rs.dhcid)})
	}
	m.Remove([]dns.RR{dns.Copy(rs.value)})
	a := x.exchange(ctx, t, m)
	if a.res != resultDone {
		return a
	}
	if a.rcode != dns.RcodeSuccess {
		return answer{rcode: a.rcode, res: resultDone} // not there, or not ours
	}
	m = newUpdate(t)
	if rs.policy == CheckWithDHCID {
		m.Used([]dns.RR{dns.Copy(rs.dhcid)})
	}
	m.RRsetNotUsed([]dns.RR{rrsetOf(rs.name, dns.TypeA), rrsetOf(rs.name, dns.TypeAAAA)})
	m.RemoveRRset([]dns.RR{rrsetOf(rs.name, dns.TypeDHCID)})
	a = x.exchange(ctx, t, m)
	if a.res == resultDone {
		a.rcode = dns.RcodeSuccess // other records remain: the DHCID stays
	}
	return a
}

// addReverse replaces the PTR and DHCID records of the reverse name (RFC
// 4703 §5.4: the address is the client's, so its reverse name is too).
func (x *exchanger) addReverse(ctx context.Context, t *Target, rs records) answer {
	if !inZone(t, rs.name) {
		return answer{res: resultSkipped, reason: rs.name + " is not in zone " + t.Zone}
	}
	m := newUpdate(t)
	m.RemoveRRset([]dns.RR{rrsetOf(rs.name, dns.TypePTR), rrsetOf(rs.name, dns.TypeDHCID)})
	m.Insert([]dns.RR{rs.value, rs.dhcid})
	return definite(x.exchange(ctx, t, m), dns.RcodeSuccess)
}

// removeReverse removes the PTR and DHCID records of the reverse name
// when its PTR still names the lease's FQDN.
func (x *exchanger) removeReverse(ctx context.Context, t *Target, rs records) answer {
	if !inZone(t, rs.name) {
		return answer{res: resultSkipped, reason: rs.name + " is not in zone " + t.Zone}
	}
	m := newUpdate(t)
	m.Used([]dns.RR{dns.Copy(rs.value)})
	m.RemoveRRset([]dns.RR{rrsetOf(rs.name, dns.TypePTR), rrsetOf(rs.name, dns.TypeDHCID)})
	a := x.exchange(ctx, t, m)
	if a.res == resultDone {
		a.rcode = dns.RcodeSuccess // removed, or not ours
	}
	return a
}

// definite turns a definitive answer other than want into a failure.
func definite(a answer, want int) answer {
	if a.res == resultDone && a.rcode != want {
		return answer{rcode: a.rcode, res: resultFailed, reason: "unexpected " + strings.ToUpper(dns.RcodeToString[a.rcode])}
	}
	return a
}
