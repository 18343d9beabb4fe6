package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"leased/dhcpv4"
	"leased/udp4"
)

// maxWait is the longest the sender sleeps, so that timeouts are noticed
// within it.
const maxWait = 5 * time.Millisecond

// Generator drives a DHCP server with many simulated clients behind one
// relay agent address. Create it with New, run it once with Run.
type Generator struct {
	cfg       Config
	conn      *net.UDPConn
	reader    *udp4.Reader
	writer    *udp4.Writer
	base      [macLen]byte
	discover  template
	request   template
	start     time.Time
	timeoutNs int64

	// wake tells the sender, in closed loop, that exchanges ended.
	wake      chan struct{}
	used      atomic.Bool
	closeOnce sync.Once

	mu sync.Mutex
	st state // guarded by mu
}

// phase is where a simulated client is in its exchange.
type phase uint8

const (
	idle        phase = iota
	discovering       // DISCOVER sent, OFFER awaited
	requesting        // REQUEST sent, ACK awaited
)

// client is one simulated client.
type client struct {
	phase   phase
	xid     uint32
	sentAt  int64      // ns since start: the message awaiting its reply
	startAt int64      // ns since start: the DISCOVER of the exchange
	addr    netip.Addr // last address ACKed
}

// counters are a run's totals, as in Result.
type counters struct {
	started, offers, requests, acks, naks      uint64
	offerTimeouts, ackTimeouts                 uint64
	unexpected, malformed, skipped, sendErrors uint64
	conflicts                                  uint64
	lastDone                                   int64 // ns since start of the last completion
}

// tick holds the totals at the last progress report, to report the next
// interval's rates and means.
type tick struct {
	at                       int64
	started, completed, lost uint64
	offerCount, ackCount     uint64
	offerSum, ackSum         float64
}

// state is everything the sender and the receiver share.
type state struct {
	clients  []client
	cursor   uint32
	xid      uint32
	inflight int
	pending  ring
	// holders maps each address ACKed to the client (index+1) of the
	// latest ACK, to find an address bound to two clients.
	holders map[netip.Addr]uint32
	offer   histogram
	ack     histogram
	whole   histogram
	c       counters
	tick    tick
}

// New validates cfg and opens the generator's UDP socket on cfg.Local.
func New(cfg Config) (*Generator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:       cfg,
		timeoutNs: int64(cfg.Timeout),
		wake:      make(chan struct{}, 1),
	}
	copy(g.base[:], cfg.BaseMAC)
	if g.discover, err = newTemplate(dhcpv4.Discover, cfg.GIAddr, cfg.HostNames); err != nil {
		return nil, err
	}
	if g.request, err = newTemplate(dhcpv4.Request, cfg.GIAddr, cfg.HostNames); err != nil {
		return nil, err
	}
	g.st.clients = make([]client, cfg.Clients)
	g.st.holders = make(map[netip.Addr]uint32, min(cfg.Clients, 1<<16))
	g.st.pending.buf = make([]deadline, 1024)
	if g.conn, err = listen(cfg.Local, cfg.Buffer); err != nil {
		return nil, err
	}
	if g.reader, err = udp4.NewReader(g.conn, cfg.Batch, 1500); err != nil {
		g.conn.Close()
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	if g.writer, err = udp4.NewWriter(g.conn); err != nil {
		g.conn.Close()
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	return g, nil
}

// listen opens the UDP socket with big buffers: forced past the system
// limit where privileged, else as big as the system allows.
func listen(local netip.AddrPort, size int) (*net.UDPConn, error) {
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(local))
	if err != nil {
		return nil, fmt.Errorf("loadgen: listen on %v: %w", local, err)
	}
	// Unprivileged, the kernel caps the sizes silently.
	_ = udp4.SetReceiveBuffer(conn, size)
	_ = udp4.SetSendBuffer(conn, size)
	return conn, nil
}

// LocalAddr returns the address the generator receives replies on.
func (g *Generator) LocalAddr() netip.AddrPort {
	return g.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Outstanding returns the number of exchanges kept in flight in closed
// loop, Config.Outstanding or its default.
func (g *Generator) Outstanding() int { return g.cfg.Outstanding }

// Close closes the socket. Run closes it too; Close is for a Generator
// that is not run, and is safe to call more than once.
func (g *Generator) Close() error {
	var err error
	g.closeOnce.Do(func() { err = g.conn.Close() })
	return err
}

// since returns the nanoseconds elapsed since the run started.
func (g *Generator) since() int64 { return int64(g.cfg.Clock().Sub(g.start)) }

// Run starts exchanges until Config.Duration has passed, Config.Count
// exchanges have started or ctx ends, whichever comes first; then it waits
// for the exchanges in flight, each at most Config.Timeout per message,
// closes the socket and returns what it measured. A Generator runs once.
func (g *Generator) Run(ctx context.Context) (*Result, error) {
	if !g.used.CompareAndSwap(false, true) {
		return nil, errors.New("loadgen: Run called twice on one Generator")
	}
	defer g.Close()
	g.start = g.cfg.Clock()

	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		g.receive()
	}()
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		g.reportProgress(stopProgress)
	}()

	stoppedAt := g.send(ctx)
	g.drain(stoppedAt)

	g.Close()
	<-recvDone
	close(stopProgress)
	<-progressDone

	g.mu.Lock()
	defer g.mu.Unlock()
	// Whatever is still in flight after the drain is lost.
	g.sweep(math.MaxInt64)
	st := &g.st
	c := &st.c
	res := &Result{
		Elapsed:       time.Duration(max(stoppedAt, c.lastDone)),
		DiscoverOnly:  g.cfg.DiscoverOnly,
		Started:       c.started,
		Offers:        c.offers,
		Requests:      c.requests,
		Acks:          c.acks,
		Naks:          c.naks,
		OfferTimeouts: c.offerTimeouts,
		AckTimeouts:   c.ackTimeouts,
		Unexpected:    c.unexpected,
		Malformed:     c.malformed,
		Skipped:       c.skipped,
		SendErrors:    c.sendErrors,
		Conflicts:     c.conflicts,
		Offer:         st.offer.summary(),
		Ack:           st.ack.summary(),
		Exchange:      st.whole.summary(),
	}
	return res, nil
}

// send starts exchanges on schedule (open loop) or as others end (closed
// loop) until the run's bound, and returns when it stopped, in ns since
// the start.
func (g *Generator) send(ctx context.Context) int64 {
	cfg := &g.cfg
	out := udp4.NewBatch(cfg.Batch, len(g.discover.msg))
	idx := make([]uint32, cfg.Batch)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var attempted int64 // exchanges due so far, open loop
	for {
		now := g.since()
		if ctx.Err() != nil || (cfg.Duration > 0 && now >= int64(cfg.Duration)) {
			return now
		}
		g.mu.Lock()
		g.sweep(now)
		started, inflight := g.st.c.started, g.st.inflight
		g.mu.Unlock()
		if cfg.Count > 0 && started >= cfg.Count {
			return now
		}
		var want int64
		if cfg.Rate > 0 {
			want = int64(cfg.Rate*float64(now)/1e9) + 1 - attempted
		} else {
			want = int64(cfg.Outstanding - inflight)
		}
		if cfg.Count > 0 {
			want = min(want, int64(cfg.Count-started))
		}
		if want > 0 {
			n := int(min(want, int64(cfg.Batch)))
			attempted += int64(n)
			g.startBatch(out, n, idx)
			continue
		}
		wait := maxWait
		if cfg.Rate > 0 {
			next := time.Duration(float64(attempted) / cfg.Rate * 1e9)
			wait = min(wait, max(next-time.Duration(now), 0))
		}
		if cfg.Duration > 0 {
			wait = min(wait, cfg.Duration-time.Duration(now))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-g.wake:
		}
	}
}

// drain waits for the exchanges in flight to end or time out.
func (g *Generator) drain(stoppedAt int64) {
	// A REQUEST sent just before its DISCOVER timed out may wait one more
	// Timeout.
	limit := stoppedAt + 2*g.timeoutNs + int64(maxWait)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := g.since()
		g.mu.Lock()
		g.sweep(now)
		inflight := g.st.inflight
		g.mu.Unlock()
		if inflight == 0 || now >= limit {
			return
		}
		timer.Reset(maxWait)
		select {
		case <-timer.C:
		case <-g.wake:
		}
	}
}

// startBatch starts n exchanges, at most out's capacity, for the next idle
// clients, and sends the DISCOVERs in one go through out. idx is scratch
// space as long as out.
func (g *Generator) startBatch(out *udp4.Batch, n int, idx []uint32) {
	out.Reset()
	g.mu.Lock()
	st := &g.st
	now := g.since()
	k := 0
	for k < n {
		i, ok := st.nextIdle()
		if !ok {
			st.c.skipped += uint64(n - k)
			break
		}
		c := &st.clients[i]
		st.xid++
		c.phase, c.xid, c.sentAt, c.startAt = discovering, st.xid, now, now
		st.inflight++
		st.c.started++
		st.pending.push(deadline{at: now + g.timeoutNs, client: i, xid: c.xid, phase: discovering})
		mac := macOf(g.base, i)
		buf := out.Buf()[:len(g.discover.msg)]
		g.discover.fill(buf, c.xid, &mac, netip.Addr{}, netip.Addr{})
		out.Push(buf, g.cfg.Server, 0)
		idx[k] = i
		k++
	}
	g.mu.Unlock()
	if sent := g.writeAll(out); sent < k {
		g.abandon(idx[sent:k], discovering)
	}
}

// nextIdle returns the next client, round robin, with no exchange in
// progress.
func (st *state) nextIdle() (uint32, bool) {
	n := uint32(len(st.clients))
	for range n {
		i := st.cursor
		st.cursor++
		if st.cursor == n {
			st.cursor = 0
		}
		if st.clients[i].phase == idle {
			return i, true
		}
	}
	return 0, false
}

// writeAll sends the messages of out and returns how many went out, the
// first ones: it stops at the first that fails.
func (g *Generator) writeAll(out *udp4.Batch) int {
	sent := 0
	for sent < out.Len() {
		n, err := g.writer.Write(out, sent, out.Len())
		if err != nil {
			return sent
		}
		sent += n
	}
	return sent
}

// abandon ends the exchanges of clients whose message in phase p could
// not be sent.
func (g *Generator) abandon(clients []uint32, p phase) {
	g.mu.Lock()
	st := &g.st
	for _, i := range clients {
		c := &st.clients[i]
		if c.phase != p {
			continue
		}
		c.phase = idle
		st.inflight--
		st.c.sendErrors++
		if p == discovering {
			st.c.started--
		}
	}
	g.mu.Unlock()
	g.signal()
}

// signal wakes the sender in closed loop.
func (g *Generator) signal() {
	if g.cfg.Rate > 0 {
		return
	}
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// sweep ends, as lost, the exchanges whose awaited reply is overdue at
// now. g.mu must be held.
func (g *Generator) sweep(now int64) {
	st := &g.st
	for st.pending.n > 0 {
		d := st.pending.front()
		if d.at > now {
			return
		}
		st.pending.pop()
		c := &st.clients[d.client]
		if c.phase != d.phase || c.xid != d.xid {
			continue // answered, or a later exchange
		}
		c.phase = idle
		st.inflight--
		if d.phase == discovering {
			st.c.offerTimeouts++
		} else {
			st.c.ackTimeouts++
		}
	}
}

// receive reads replies in batches until the socket closes, and answers
// each OFFER with a REQUEST, sent in batches too.
func (g *Generator) receive() {
	batch := g.cfg.Batch
	out := udp4.NewBatch(batch, len(g.request.msg))
	idx := make([]uint32, batch)
	var p dhcpv4.Packet
	for {
		in, err := g.reader.Read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		out.Reset()
		g.mu.Lock()
		now := g.since()
		k, done := 0, false
		for i := range in {
			req, end := g.handleReply(in[i].Data, &p, now)
			done = done || end
			if req >= 0 {
				c := &g.st.clients[req]
				mac := macOf(g.base, uint32(req))
				sid, ok := p.Options.Addr(dhcpv4.OptServerID)
				if !ok {
					sid = g.cfg.Server.Addr()
				}
				buf := out.Buf()[:len(g.request.msg)]
				g.request.fill(buf, c.xid, &mac, sid, p.YIAddr)
				out.Push(buf, g.cfg.Server, 0)
				idx[k] = uint32(req)
				k++
			}
		}
		if k > 0 {
			// The REQUESTs' clock starts now, after the batch's work.
			sentAt := g.since()
			for _, i := range idx[:k] {
				c := &g.st.clients[i]
				c.sentAt = sentAt
				g.st.pending.push(deadline{at: sentAt + g.timeoutNs, client: i, xid: c.xid, phase: requesting})
			}
			g.st.c.requests += uint64(k)
		}
		g.mu.Unlock()
		if k > 0 {
			if sent := g.writeAll(out); sent < k {
				g.abandon(idx[sent:k], requesting)
			}
		}
		if done {
			g.signal()
		}
	}
}

// handleReply matches one datagram to its exchange at now. It returns the
// index of a client whose OFFER calls for a REQUEST (or -1), and whether an
// exchange ended. p is scratch space; after an OFFER it holds the OFFER.
// g.mu must be held.
func (g *Generator) handleReply(b []byte, p *dhcpv4.Packet, now int64) (request int, ended bool) {
	st := &g.st
	if dhcpv4.Parse(b, p) != nil || p.Op != dhcpv4.BootReply {
		st.c.malformed++
		return -1, false
	}
	i, ok := clientOf(g.base, len(st.clients), p.HardwareAddr())
	if !ok {
		st.c.unexpected++
		return -1, false
	}
	c := &st.clients[i]
	switch t := p.MessageType(); {
	case t == dhcpv4.Offer && c.phase == discovering && c.xid == p.XID:
		st.offer.record(time.Duration(now - c.sentAt))
		st.c.offers++
		if g.cfg.DiscoverOnly {
			g.end(c, now)
			return -1, true
		}
		c.phase = requesting
		return int(i), false
	case (t == dhcpv4.Ack || t == dhcpv4.Nak) && c.phase == requesting && c.xid == p.XID:
		if t == dhcpv4.Nak {
			st.c.naks++
			g.end(c, now)
			return -1, true
		}
		st.ack.record(time.Duration(now - c.sentAt))
		st.whole.record(time.Duration(now - c.startAt))
		st.c.acks++
		g.bind(i, p.YIAddr)
		g.end(c, now)
		return -1, true
	}
	st.c.unexpected++
	return -1, false
}

// end ends c's exchange at now. g.mu must be held.
func (g *Generator) end(c *client, now int64) {
	c.phase = idle
	g.st.inflight--
	g.st.c.lastDone = max(g.st.c.lastDone, now)
}

// bind notes that client i was given addr, counting a conflict when the
// latest ACK of addr went to another client. g.mu must be held.
func (g *Generator) bind(i uint32, addr netip.Addr) {
	st := &g.st
	c := &st.clients[i]
	if c.addr.IsValid() && c.addr != addr && st.holders[c.addr] == i+1 {
		delete(st.holders, c.addr)
	}
	if h, ok := st.holders[addr]; ok && h != i+1 {
		st.c.conflicts++
		// The other client's binding is the one the server dropped, or
		// the one it lied about: either way it is no longer ours to check.
		st.clients[h-1].addr = netip.Addr{}
	}
	st.holders[addr] = i + 1
	c.addr = addr
}

// reportProgress calls Config.Progress every Interval until stop closes.
func (g *Generator) reportProgress(stop <-chan struct{}) {
	if g.cfg.Progress == nil {
		return
	}
	t := time.NewTicker(g.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		g.cfg.Progress(g.progress())
	}
}

// progress takes a snapshot and starts the next interval.
func (g *Generator) progress() Progress {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := &g.st
	c := &st.c
	now := g.since()
	completed := c.acks
	if g.cfg.DiscoverOnly {
		completed = c.offers
	}
	lost := c.offerTimeouts + c.ackTimeouts
	p := Progress{
		Elapsed:   time.Duration(now),
		Started:   c.started,
		Completed: completed,
		Lost:      lost,
		InFlight:  st.inflight,
	}
	t := &st.tick
	if secs := float64(now-t.at) / 1e9; secs > 0 {
		p.StartRate = float64(sub(c.started, t.started)) / secs
		p.CompleteRate = float64(completed-t.completed) / secs
	}
	if ds := sub(c.started, t.started); ds > 0 {
		p.Loss = float64(lost-t.lost) / float64(ds)
	}
	if n := st.offer.count - t.offerCount; n > 0 {
		p.OfferMean = time.Duration((st.offer.sum - t.offerSum) / float64(n))
	}
	if n := st.ack.count - t.ackCount; n > 0 {
		p.AckMean = time.Duration((st.ack.sum - t.ackSum) / float64(n))
	}
	*t = tick{at: now, started: c.started, completed: completed, lost: lost,
		offerCount: st.offer.count, ackCount: st.ack.count, offerSum: st.offer.sum, ackSum: st.ack.sum}
	return p
}

// sub returns a-b, or 0 when b is larger (started goes down when a
// DISCOVER cannot be sent).
func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// deadline is the time by which a client's message must be answered.
type deadline struct {
	at     int64
	client uint32
	xid    uint32
	phase  phase
}

// ring is a FIFO of deadlines. Every message waits the same Timeout, so
// deadlines are pushed in order and the earliest is always at the front.
type ring struct {
	buf     []deadline
	head, n int
}

func (r *ring) push(d deadline) {
	if r.n == len(r.buf) {
		grown := make([]deadline, max(2*len(r.buf), 1024))
		for i := range r.n {
			grown[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = grown, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = d
	r.n++
}

func (r *ring) front() deadline { return r.buf[r.head] }

func (r *ring) pop() {
	r.head = (r.head + 1) % len(r.buf)
	r.n--
}
