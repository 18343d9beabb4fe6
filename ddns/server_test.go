package ddns

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"leased/lease"
)

// zoneServer is an authoritative server of one zone on 127.0.0.1 that
// applies RFC 2136 updates (the prerequisites and updates the updater
// sends), verifying TSIG when it has a key.
type zoneServer struct {
	t    *testing.T
	zone string
	addr netip.AddrPort
	key  *Key

	mu       sync.Mutex
	rrs      map[string][]dns.RR // by lower-case owner name
	updates  int                 // update messages received
	badTSIG  int                 // of them, refused for their signature
	truncate bool                // answer UDP with TC set
}

// newZoneServer starts a server of zone on UDP and TCP (the same port),
// stopped at the end of the test.
func newZoneServer(t *testing.T, zone string, key *Key) *zoneServer {
	t.Helper()
	z := &zoneServer{t: t, zone: dns.Fqdn(zone), key: key, rrs: map[string][]dns.RR{}}
	var secrets map[string]string
	if key != nil {
		secrets = map[string]string{key.Name: key.Secret}
	}
	var pc net.PacketConn
	var ln net.Listener
	for range 20 {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
	}
	if ln == nil {
		t.Fatal("no port free for both UDP and TCP")
	}
	z.addr = netip.MustParseAddrPort(pc.LocalAddr().String())
	started := make(chan struct{}, 2)
	for _, s := range []*dns.Server{
		{PacketConn: pc, Handler: dns.HandlerFunc(z.serveUDP), TsigSecret: secrets, MsgAcceptFunc: acceptAll, NotifyStartedFunc: func() { started <- struct{}{} }},
		{Listener: ln, Handler: dns.HandlerFunc(z.serveTCP), TsigSecret: secrets, MsgAcceptFunc: acceptAll, NotifyStartedFunc: func() { started <- struct{}{} }},
	} {
		go s.ActivateAndServe()
		t.Cleanup(func() { s.Shutdown() })
	}
	<-started
	<-started
	return z
}

func (z *zoneServer) serveUDP(w dns.ResponseWriter, r *dns.Msg) { z.serve(w, r, true) }
func (z *zoneServer) serveTCP(w dns.ResponseWriter, r *dns.Msg) { z.serve(w, r, false) }

func (z *zoneServer) serve(w dns.ResponseWriter, r *dns.Msg, udp bool) {
	m := new(dns.Msg)
	m.SetReply(r)
	z.mu.Lock()
	trunc := z.truncate && udp
	z.mu.Unlock()
	switch {
	case trunc:
		m.Truncated = true
	case r.Opcode != dns.OpcodeUpdate:
		m.Rcode = dns.RcodeNotImplemented
	case z.key != nil && (r.IsTsig() == nil || w.TsigStatus() != nil):
		z.mu.Lock()
		z.updates++
		z.badTSIG++
		z.mu.Unlock()
		m.Rcode = dns.RcodeNotAuth
		w.WriteMsg(m)
		return
	default:
		m.Rcode = z.update(r)
	}
	if ts := r.IsTsig(); ts != nil && z.key != nil {
		m.SetTsig(ts.Hdr.Name, ts.Algorithm, 300, time.Now().Unix())
	}
	w.WriteMsg(m)
}

// update applies an update message and returns its RCODE.
func (z *zoneServer) update(r *dns.Msg) int {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.updates++
	if len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, z.zone) {
		return dns.RcodeNotAuth
	}
	for _, p := range r.Answer { // RFC 2136 §3.2
		h := p.Header()
		name := strings.ToLower(h.Name)
		switch {
		case h.Class == dns.ClassANY && h.Rrtype == dns.TypeANY:
			if len(z.rrs[name]) == 0 {
				return dns.RcodeNameError
			}
		case h.Class == dns.ClassNONE && h.Rrtype == dns.TypeANY:
			if len(z.rrs[name]) > 0 {
				return dns.RcodeYXDomain
			}
		case h.Class == dns.ClassANY:
			if len(z.find(name, h.Rrtype, nil)) == 0 {
				return dns.RcodeNXRrset
			}
		case h.Class == dns.ClassNONE:
			if len(z.find(name, h.Rrtype, nil)) > 0 {
				return dns.RcodeYXRrset
			}
		default:
			if len(z.find(name, h.Rrtype, p)) == 0 {
				return dns.RcodeNXRrset
			}
		}
	}
	for _, u := range r.Ns { // RFC 2136 §3.4.2
		h := u.Header()
		name := strings.ToLower(h.Name)
		switch {
		case h.Class == dns.ClassANY && h.Rrtype == dns.TypeANY:
			delete(z.rrs, name)
		case h.Class == dns.ClassANY:
			z.remove(name, h.Rrtype, nil)
		case h.Class == dns.ClassNONE:
			z.remove(name, h.Rrtype, u)
		default:
			z.remove(name, h.Rrtype, u)
			z.rrs[name] = append(z.rrs[name], dns.Copy(u))
		}
	}
	return dns.RcodeSuccess
}

// same reports whether a and b have the same data, whatever their class
// and TTL.
func same(a, b dns.RR) bool {
	a, b = dns.Copy(a), dns.Copy(b)
	a.Header().Class, b.Header().Class = dns.ClassINET, dns.ClassINET
	return dns.IsDuplicate(a, b)
}

// find returns the records of name and typ, those equal to like when it
// is not nil.
func (z *zoneServer) find(name string, typ uint16, like dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range z.rrs[name] {
		if rr.Header().Rrtype == typ && (like == nil || same(rr, like)) {
			out = append(out, rr)
		}
	}
	return out
}

func (z *zoneServer) remove(name string, typ uint16, like dns.RR) {
	var keep []dns.RR
	for _, rr := range z.rrs[name] {
		if rr.Header().Rrtype != typ || (like != nil && !same(rr, like)) {
			keep = append(keep, rr)
		}
	}
	if len(keep) == 0 {
		delete(z.rrs, name)
	} else {
		z.rrs[name] = keep
	}
}

// records returns the data of the records of name and typ, as text.
func (z *zoneServer) records(name string, typ uint16) []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	var out []string
	for _, rr := range z.find(dns.CanonicalName(name), typ, nil) {
		out = append(out, strings.TrimPrefix(rr.String(), rr.Header().String()))
	}
	return out
}

// put adds a record, as another client or an operator would have.
func (z *zoneServer) put(s string) {
	rr, err := dns.NewRR(s)
	if err != nil {
		z.t.Fatal(err)
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	name := strings.ToLower(rr.Header().Name)
	z.rrs[name] = append(z.rrs[name], rr)
}

func (z *zoneServer) count() int {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.updates
}

// silentServer is a UDP socket that never answers.
func silentServer(t *testing.T) netip.AddrPort {
	a, _ := countingSilentServer(t)
	return a
}

// countingSilentServer is a silentServer that counts the messages it
// got.
func countingSilentServer(t *testing.T) (netip.AddrPort, func() int64) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 65536)
		for {
			if _, _, err := pc.ReadFrom(b); err != nil {
				return
			}
			n.Add(1)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return netip.MustParseAddrPort(pc.LocalAddr().String()), n.Load
}

// confirmingStore is a lease.Memory that keeps the DNS states confirmed.
type confirmingStore struct {
	*lease.Memory
	mu        sync.Mutex
	confirmed []lease.DNSState
}

func (s *confirmingStore) ConfirmDNS(ctx context.Context, a netip.Addr, start time.Time, st lease.DNSState) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.confirmed = append(s.confirmed, st)
	l, ok := s.Get(a)
	if !ok || !l.Start.Equal(start) {
		return false, nil
	}
	l.DNSState = st
	return true, s.Commit(ctx, l)
}

func (s *confirmingStore) confirmations() []lease.DNSState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]lease.DNSState(nil), s.confirmed...)
}

// acceptAll lets UPDATE messages through to the handler.
func acceptAll(dns.Header) dns.MsgAcceptAction { return dns.MsgAccept }
