package netio

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"leased/server"
)

// Ping check (config.Subnet.PingCheck). When the engine asks for one
// (server.Outcome.Probe), the DHCPOFFER does not leave at once: a
// goroutine of its own sends an ICMP echo to the address and waits for
// the answer at most Probe. No answer: the offer leaves. An answer: the
// address is in use by a host the server does not know of; the engine
// sets it aside (MarkInUse), is asked again, and the new offer is checked
// in the time left. The reader that read the DHCPDISCOVER never waits,
// and no DHCPOFFER waits longer than the subnet's wait. Addresses the
// client held lately are not checked (package server says which).

// Pinger sends ICMP echo requests.
type Pinger interface {
	// Ping sends an echo request to a and reports whether an echo reply
	// came from a before ctx ended.
	Ping(ctx context.Context, a netip.Addr) bool
	Close() error
}

// InUseMarker is what a Handler offers for ping checks; *server.Engine
// and *server.Reloadable do.
type InUseMarker interface {
	MarkInUse(ctx context.Context, a netip.Addr) (bool, error)
}

// maxProbing bounds the ping checks in flight; beyond it, offers leave
// unchecked rather than wait.
const maxProbing = 256

// maxProbeRounds bounds the addresses one DHCPDISCOVER may have checked.
const maxProbeRounds = 4

// prober runs the ping checks of a Server.
type prober struct {
	pinger Pinger
	slots  chan struct{}
	wg     sync.WaitGroup
}

// newProber returns a prober pinging with p, or nil when p is nil.
func newProber(p Pinger) *prober {
	if p == nil {
		return nil
	}
	return &prober{pinger: p, slots: make(chan struct{}, maxProbing)}
}

// close closes the pinger; a nil prober has none.
func (p *prober) close() {
	if p != nil {
		p.pinger.Close()
	}
}

// wait waits for the checks in flight; a nil prober has none.
func (p *prober) wait() {
	if p != nil {
		p.wg.Wait()
	}
}

// probe takes over the reply in w, which out asks to check, and reports
// true; or reports false, when it cannot, for the caller to send it now.
func (s *Server) probe(ctx context.Context, h Handler, w *worker, in *server.Arrival, out *server.Outcome) bool {
	p := s.prober
	m, ok := h.(InUseMarker)
	if p == nil || !ok || !out.Addr.IsValid() {
		return false
	}
	select {
	case p.slots <- struct{}{}:
	default:
		return false
	}
	pw := newWorker(1)
	pw.req.CopyFrom(&w.req)
	pw.reply.CopyFrom(&w.reply)
	arrival := *in
	first := *out
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() { <-p.slots }()
		s.checkAndSend(ctx, h, m, pw, &arrival, first)
	}()
	return true
}

// checkAndSend pings out.Addr until out.Probe has passed; it sends the
// reply in pw when nothing answers, and asks h for another offer when
// something does.
func (s *Server) checkAndSend(ctx context.Context, h Handler, m InUseMarker, pw *worker, in *server.Arrival, out server.Outcome) {
	pctx, cancel := context.WithTimeout(ctx, out.Probe)
	defer cancel()
	for round := 0; round < maxProbeRounds && out.Probe > 0; round++ {
		if !s.prober.pinger.Ping(pctx, out.Addr) {
			break
		}
		s.outcomes[server.ReasonPingInUse].Add(1)
		s.log.Warn("address answered a ping check; set aside as in use", "event", server.ReasonPingInUse.String(),
			"addr", out.Addr.String(), "client", clientString(&pw.req))
		if _, err := m.MarkInUse(ctx, out.Addr); err != nil {
			s.log.Warn("could not record the address in use", "addr", out.Addr.String(), "err", err)
		}
		out = h.Handle(ctx, &pw.req, *in, &pw.reply)
		if int(out.Reason) < len(s.outcomes) {
			s.outcomes[out.Reason].Add(1)
		}
		s.logOutcome(ctx, &pw.req, in, &out)
		if out.Action != server.Reply {
			return
		}
		if pctx.Err() != nil {
			break // the wait is over: offer it unchecked
		}
	}
	s.send(pw, in, &out)
	s.flush(pw)
}

// ICMPPinger pings through a raw ICMP socket; it needs CAP_NET_RAW. Many
// pings may be in flight at once: replies are told apart by identifier
// and sequence number.
type ICMPPinger struct {
	conn *icmp.PacketConn
	id   int
	seq  atomic.Uint32

	mu      sync.Mutex
	waiting map[int]pending // by sequence number
}

type pending struct {
	to   netip.Addr
	done chan struct{}
}

// OpenICMPPinger opens the raw ICMP socket and starts reading replies.
func OpenICMPPinger() (*ICMPPinger, error) {
	c, err := icmp.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return nil, err
	}
	p := &ICMPPinger{conn: c, id: os.Getpid() & 0xffff, waiting: make(map[int]pending)}
	go p.read()
	return p, nil
}

// Close closes the socket.
func (p *ICMPPinger) Close() error { return p.conn.Close() }

// Ping sends one echo request to a and waits for its reply until ctx
// ends.
func (p *ICMPPinger) Ping(ctx context.Context, a netip.Addr) bool {
	seq := int(p.seq.Add(1) & 0xffff)
	done := make(chan struct{})
	p.mu.Lock()
	p.waiting[seq] = pending{to: a, done: done}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.waiting, seq)
		p.mu.Unlock()
	}()
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: p.id, Seq: seq, Data: []byte("leased ping check")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return false
	}
	if _, err := p.conn.WriteTo(b, &net.IPAddr{IP: a.AsSlice()}); err != nil {
		return false
	}
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// read hands echo replies to the pings waiting for them, until the
// socket is closed.
func (p *ICMPPinger) read() {
	buf := make([]byte, 1500)
	for {
		n, peer, err := p.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(time.Millisecond)
			continue
		}
		msg, err := icmp.ParseMessage(1, buf[:n])
		if err != nil || msg.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		echo, ok := msg.Body.(*icmp.Echo)
		ip, isIP := peer.(*net.IPAddr)
		if !ok || !isIP || echo.ID != p.id {
			continue
		}
		from, _ := netip.AddrFromSlice(ip.IP.To4())
		p.mu.Lock()
		w, found := p.waiting[echo.Seq]
		if found && w.to == from {
			delete(p.waiting, echo.Seq)
			close(w.done)
		}
		p.mu.Unlock()
	}
}
