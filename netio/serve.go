package netio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/escape"
	"leased/events"
	"leased/server"
	"leased/udp4"
)

// Handler decides replies; *server.Engine is one.
type Handler interface {
	Handle(ctx context.Context, req *dhcpv4.Packet, in server.Arrival, reply *dhcpv4.Packet) server.Outcome
}

// Options configure a Server. The zero value serves every interface on
// 0.0.0.0:67.
type Options struct {
	// Addr is the address to listen on; default 0.0.0.0:67.
	Addr netip.AddrPort
	// Interfaces names the interfaces whose directly connected clients
	// (giaddr zero) are served. Empty means every interface. Relayed
	// requests are accepted on any interface, and so are a client's
	// DHCPREQUEST and DHCPRELEASE unicast from its address (ciaddr) to
	// one of the host's: a routed client renewing or releasing.
	Interfaces []string
	// Readers is the number of goroutines reading the socket. They answer
	// DISCOVER and INFORM themselves and pass every other request, which
	// may wait for a lease commit, to the committers. Default 2.
	Readers int
	// Committers is the number of goroutines handling the requests that
	// may wait for their lease to reach stable storage. The store gathers
	// concurrent commits into one fsync, so more committers mean bigger
	// batches. Default 256.
	Committers int
	// Queue is how many requests may wait for a committer; when it is
	// full, readers handle requests themselves. Default 4096.
	Queue int
	// Batch is the number of datagrams a reader reads per system call.
	// Default 16.
	Batch int
	// ReceiveDelay, when positive, lets a reader that is answering
	// datagrams coming faster than one per ReceiveDelay pause this long
	// after each read before the next, so that it reads several at once
	// rather than wake for each: less CPU per lease under load for up to
	// this much more latency. At a lower rate it never pauses. At most
	// config.MaxReceiveDelay; 0, the default, never pauses.
	ReceiveDelay time.Duration
	// ReceiveBuffer is the socket receive buffer to ask for, in bytes, so
	// that bursts are not dropped by the kernel; default 4 MiB.
	ReceiveBuffer int
	// Logger receives lease events at info, packets at debug and
	// problems at warn. Nil discards.
	Logger *slog.Logger
	// Clock is the time source for rate limits and caches; default
	// time.Now.
	Clock func() time.Time
	// SharePort lets the server start while another socket of this
	// network namespace is bound to its port (SO_REUSEADDR allows it): a
	// second DHCP server on the port, each answering the other's clients.
	// Without it, Listen refuses with a *PortInUseError naming the
	// processes holding the port.
	SharePort bool
	// RateLimits are the token buckets a request must pass, per relay
	// agent, relay agent circuit and client, before the engine sees it;
	// a request refused is dropped and counted as server.ReasonRateLimited.
	// The zero value limits nothing.
	RateLimits config.RateLimits
	// ClientPort and RelayPort are the destination ports of replies to
	// clients (default 68) and to relay agents (default 67). Tests and
	// load generators that cannot bind privileged ports change them.
	ClientPort, RelayPort uint16
	// Pinger runs the ping checks the engine asks for (ping.go), nil
	// none; the Server closes it.
	Pinger Pinger
}

// Server receives DHCP requests and sends replies. Create it with Listen.
type Server struct {
	opts   Options
	ep     *udp4.Endpoint
	ifaces *ifaceTable
	served atomic.Pointer[map[string]bool] // nil: every interface
	limits atomic.Pointer[limiter]         // nil: no rate limits
	log    *slog.Logger

	received, malformed, foreign, replies, sendErrors atomic.Uint64
	pauses                                            atomic.Uint64
	receivedByType, sentByType                        [dhcpv4.ForceRenew + 1]atomic.Uint64
	outcomes                                          [32]atomic.Uint64
	lastMalformedLog                                  atomic.Int64
	suppressedLogs                                    atomic.Uint64
	commitFailures                                    logSummary // ERROR lines of failed commits
	prober                                            *prober    // nil: no ping checks
	history                                           notes      // SetHistory
	events                                            atomic.Pointer[events.Hooks]
}

// Listen opens the server's sockets: UDP on opts.Addr with the arrival
// interface and destination reported per datagram, and a packet socket for
// unicast to clients without an address. It needs CAP_NET_BIND_SERVICE for
// port 67 and CAP_NET_RAW for the packet socket.
func Listen(opts Options) (*Server, error) {
	if !opts.Addr.IsValid() {
		opts.Addr = netip.AddrPortFrom(netip.IPv4Unspecified(), udp4.ServerPort)
	}
	if opts.Readers <= 0 {
		opts.Readers = 2
	}
	if opts.Committers <= 0 {
		opts.Committers = 256
	}
	if opts.Queue <= 0 {
		opts.Queue = 4096
	}
	if opts.Batch <= 0 {
		opts.Batch = 16
	}
	if opts.ReceiveBuffer <= 0 {
		opts.ReceiveBuffer = 4 << 20
	}
	// A pausing reader holds its thread, and other work on it waits as
	// long.
	opts.ReceiveDelay = min(max(opts.ReceiveDelay, 0), config.MaxReceiveDelay)
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.ClientPort == 0 {
		opts.ClientPort = udp4.ClientPort
	}
	if opts.RelayPort == 0 {
		opts.RelayPort = udp4.ServerPort
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ep, err := udp4.OpenEndpoint(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("netio: %w", err)
	}
	if err := udp4.SetReceiveBuffer(ep.Conn, opts.ReceiveBuffer); err != nil {
		log.Warn("could not enlarge the socket receive buffer; bursts may be dropped", "err", err)
	}
	if ep.Link == nil {
		// Without CAP_NET_RAW, replies that should go to a hardware
		// address are broadcast instead.
		log.Warn("no packet socket; replies to clients without an address will be broadcast", "err", ep.LinkErr)
	}
	s := &Server{
		opts:   opts,
		ep:     ep,
		ifaces: newIfaceTable(opts.Clock),
		log:    log,

		commitFailures: logSummary{every: time.Second},
	}
	s.prober = newProber(opts.Pinger)
	s.limits.Store(newLimiter(opts.RateLimits))
	s.SetInterfaces(opts.Interfaces)
	if !opts.SharePort && opts.Addr.Port() != 0 {
		if err := checkPortAlone(ep, opts.Interfaces, log); err != nil {
			ep.Close()
			return nil, err
		}
	}
	return s, nil
}

// SetInterfaces changes the interfaces whose directly connected clients
// are served, as Options.Interfaces names them; empty means every
// interface. Requests already read are judged by the interfaces of when
// they were read.
func (s *Server) SetInterfaces(names []string) {
	if len(names) == 0 {
		s.served.Store(nil)
		return
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	s.served.Store(&m)
}

// LocalAddr returns the address the server listens on.
func (s *Server) LocalAddr() netip.AddrPort { return s.ep.LocalAddr() }

// Close closes the sockets; Serve returns once its workers finish the
// requests they are handling.
func (s *Server) Close() error { s.prober.close(); return s.ep.Close() }

// Serve handles requests with h until ctx ends or the server is closed.
// Requests being handled when that happens are finished, including their
// lease commits, before Serve returns.
func (s *Server) Serve(ctx context.Context, h Handler) error {
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	// Commits in flight must finish even when ctx ends.
	work := context.WithoutCancel(ctx)
	q := &jobQueue{jobs: make(chan *job, s.opts.Queue), free: make(chan *job, s.opts.Queue)}
	for range s.opts.Queue {
		q.free <- new(job)
	}
	// The committers' replies leave through one sender, so that the
	// DHCPACKs released by one group commit share a sendmmsg.
	out := newOutbox(outboxSize)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		s.sender(out)
	}()
	// Failed commits are logged at most once a second; the last ones
	// of a burst are written by this ticker.
	summaries := time.NewTicker(time.Second)
	defer summaries.Stop()
	summarised := make(chan struct{})
	go func() {
		defer close(summarised)
		for {
			select {
			case <-sent:
				return
			case <-summaries.C:
				s.flushCommitFailures(work)
				s.logRateLimited(work)
			}
		}
	}()
	var readers, committers sync.WaitGroup
	for range s.opts.Committers {
		committers.Add(1)
		go func() {
			defer committers.Done()
			s.committer(work, h, q, out)
		}()
	}
	for range s.opts.Readers {
		readers.Add(1)
		go func() {
			defer readers.Done()
			s.reader(work, h, q)
		}()
	}
	readers.Wait()
	close(q.jobs) // the committers finish what is queued, then stop
	committers.Wait()
	s.prober.wait() // the ping checks end within their wait
	out.close()     // the sender sends what was posted, then stops
	<-sent
	<-summarised
	if n, err := s.commitFailures.drain(); n > 0 {
		s.logCommitFailures(work, n, err) // what is left
	}
	s.logRateLimited(work)
	return nil
}

// job is a request a reader passes to a committer: the datagram and where
// it arrived.
type job struct {
	buf [maxRequest]byte
	n   int
	in  server.Arrival
}

// maxRequest is the largest request passed to a committer; a longer one is
// cut, and then refused by Parse as malformed.
const maxRequest = 1536

type jobQueue struct {
	jobs chan *job // to the committers
	free chan *job // back to the readers
}

// maxReply is the largest reply sent: an Ethernet MTU less IP and UDP
// headers, whatever larger size a client allows.
const maxReply = 1500 - udp4.HeaderLen

// worker owns its buffers and packets; it reads batches and handles each
// datagram in turn.
type worker struct {
	req   dhcpv4.Packet
	reply dhcpv4.Packet
	frame []byte
	out   *sendBatch // replies not sent yet
}

// newWorker returns a worker that queues up to batch replies.
func newWorker(batch int) *worker {
	return &worker{
		frame: make([]byte, 0, 1600),
		out:   newSendBatch(batch),
	}
}

// outboxSize is how many replies the committers may have waiting for the
// sender; a committer that finds the outbox full sends its reply itself.
const outboxSize = 256

// reader reads batches of datagrams, answers those that need no commit
// and queues the others for the committers.
func (s *Server) reader(ctx context.Context, h Handler, q *jobQueue) {
	w := newWorker(s.opts.Batch)
	r, err := udp4.NewReader(s.ep.Conn, s.opts.Batch, 4096)
	if err != nil {
		s.log.Error("cannot read the socket", "err", err)
		return
	}
	pacer := udp4.NewPacer(s.opts.ReceiveDelay, s.opts.Batch)
	for {
		got, err := r.Read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				s.flush(w)
				return
			}
			s.log.Warn("receive failed", "err", err)
			runtime.Gosched()
			continue
		}
		for i := range got {
			d := &got[i]
			in, ok := s.accept(ctx, w, d)
			if !ok {
				continue
			}
			if t := w.req.MessageType(); t != dhcpv4.Discover && t != dhcpv4.Inform {
				// It may wait for a commit: a committer takes it, unless
				// all are busy and the queue is full.
				select {
				case j := <-q.free:
					j.n = copy(j.buf[:], d.Data)
					j.in = in
					q.jobs <- j
					continue
				default:
					s.flush(w) // do not hold these replies behind a commit
				}
			}
			s.handle(ctx, h, w, &in)
		}
		s.flush(w)
		if s.opts.ReceiveDelay > 0 && pacer.Read(s.opts.Clock(), len(got)) {
			s.pauses.Add(1)
			udp4.Pause(s.opts.ReceiveDelay)
		}
	}
}

// committer handles the queued requests and posts its replies to the
// sender.
func (s *Server) committer(ctx context.Context, h Handler, q *jobQueue, out *outbox) {
	// A request has at most one reply, posted at once: room for one more
	// keeps send from flushing it itself.
	w := newWorker(2)
	for j := range q.jobs {
		if err := dhcpv4.Parse(j.buf[:j.n], &w.req); err == nil {
			s.handle(ctx, h, w, &j.in)
			if w.out.Len() > 0 && !out.post(w.out) {
				s.flush(w)
			}
		}
		q.free <- j
	}
}

// sender sends the replies posted to out until it is closed.
func (s *Server) sender(out *outbox) {
	spare := newSendBatch(outboxSize)
	for range out.kick {
		// The committers woken by the same commit are runnable now: let
		// them post their replies first, so that they leave together.
		runtime.Gosched()
		b := out.take(spare)
		s.flushPaced(b)
		spare = b
	}
	s.flushBatch(out.take(spare))
}

// accept parses a datagram into w.req and works out where it arrived. It
// reports false for a datagram that is dropped: malformed, a direct
// request on an interface not served, or one over its rate limits.
func (s *Server) accept(ctx context.Context, w *worker, d *udp4.Datagram) (server.Arrival, bool) {
	s.received.Add(1)
	if err := dhcpv4.Parse(d.Data, &w.req); err != nil {
		s.dropMalformed(d, err)
		return server.Arrival{}, false
	}
	in := server.Arrival{IfIndex: d.IfIndex, Src: d.Src, Dst: d.Dst}
	if info := s.ifaces.lookup(d.IfIndex); info != nil {
		in.IfName, in.IfAddrs = info.name, info.addrs
	}
	in.Local = s.ifaces.local()
	relayed := w.req.GIAddr.IsValid() && !w.req.GIAddr.IsUnspecified()
	if served := s.served.Load(); !relayed && served != nil && !(*served)[in.IfName] && !unicastFromClient(&w.req, &in) {
		s.foreign.Add(1)
		s.noteDrop(&w.req, &in, false)
		return server.Arrival{}, false
	}
	if t := w.req.MessageType(); int(t) < len(s.receivedByType) {
		s.receivedByType[t].Add(1)
	}
	if l := s.limits.Load(); l != nil && !l.allow(&w.req, s.opts.Clock()) {
		s.outcomes[server.ReasonRateLimited].Add(1)
		s.noteDrop(&w.req, &in, true)
		return server.Arrival{}, false
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("received", "if", in.IfName, "src", in.Src, "packet", w.req.String())
	}
	return in, true
}

// unicastFromClient reports whether req, which arrived as in, is a
// DHCPREQUEST or DHCPRELEASE of a client with an address (ciaddr) unicast
// to one of this host's addresses: a renewal or a release, which may come
// routed (through a relay's network, on an interface not served) as
// relayed requests do.
func unicastFromClient(req *dhcpv4.Packet, in *server.Arrival) bool {
	if t := req.MessageType(); (t != dhcpv4.Request && t != dhcpv4.Release) || !isSet(req.CIAddr) {
		return false
	}
	return slices.Contains(in.Local, in.Dst)
}

// handle asks the engine about w.req and queues its reply.
func (s *Server) handle(ctx context.Context, h Handler, w *worker, in *server.Arrival) {
	out := h.Handle(ctx, &w.req, *in, &w.reply)
	if int(out.Reason) < len(s.outcomes) {
		s.outcomes[out.Reason].Add(1)
	}
	s.logOutcome(ctx, &w.req, in, &out)
	s.noteOutcome(&w.req, in, &out)
	s.publishEvent(&w.req, &w.reply, &out)
	if out.Action != server.Reply || out.Probe > 0 && s.probe(ctx, h, w, in, &out) {
		return
	}
	s.send(w, in, &out)
}

// send builds the reply and sends it where RFC 2131 §4.1 says: frames to a
// hardware address at once, datagrams queued for the worker's next flush.
func (s *Server) send(w *worker, in *server.Arrival, out *server.Outcome) {
	buf, err := w.reply.Append(w.out.Buf(), min(w.req.MaxMessageSize(), maxReply))
	if err != nil {
		s.sendErrors.Add(1)
		s.log.Warn("reply too large", "client", clientString(&w.req), "err", err)
		return
	}
	how, to := server.Destination(&w.req, &w.reply)
	if how == dhcpv4.ToRelay {
		to = netip.AddrPortFrom(to.Addr(), s.opts.RelayPort)
	} else {
		to = netip.AddrPortFrom(to.Addr(), s.opts.ClientPort)
	}
	ifIndex := 0
	switch how {
	case dhcpv4.ToHardware:
		hw := udp4.Hardware{IfIndex: in.IfIndex, Type: w.req.HType, Addr: w.req.HardwareAddr()}
		src := netip.AddrPortFrom(s.sourceFor(w, in), udp4.ServerPort)
		var bcast netip.AddrPort
		w.frame, bcast, err = s.ep.Link.SendToHardware(w.frame, hw, src, to, buf)
		if !bcast.IsValid() {
			s.sent(out.Reply)
			return
		}
		if err != nil {
			s.log.Debug("unicast to hardware address failed, broadcasting", "err", err)
		}
		to, ifIndex = bcast, in.IfIndex
	case dhcpv4.ToBroadcast:
		ifIndex = in.IfIndex
	}
	w.out.push(buf, to, ifIndex, out.Reply)
	if w.out.Full() {
		s.flush(w)
	}
}

// flush sends the worker's queued replies.
func (s *Server) flush(w *worker) { s.flushBatch(w.out) }

// flushBatch sends the replies of b with as few system calls as the kernel
// allows (sendmmsg), counts them, and empties b.
func (s *Server) flushBatch(b *sendBatch) {
	s.sendRange(b, 0, b.Len())
	b.Reset()
}

// flushPaced sends the replies of b as flushBatch does, but a burst of
// more than paceBurst replies in paceBurst-sized parts, paceGap apart: a
// group commit after a slow sync releases hundreds of DHCPACKs at once,
// most of them often to one relay agent, whose socket (208 KiB by default
// on Linux, about 160 replies) would drop the rest.
func (s *Server) flushPaced(b *sendBatch) {
	for from := 0; from < b.Len(); from += paceBurst {
		if from > 0 {
			time.Sleep(paceGap)
		}
		s.sendRange(b, from, min(from+paceBurst, b.Len()))
	}
	b.Reset()
}

// Pacing of bursts: at most paceBurst replies back to back, which fit a
// default socket receive buffer, then a pause. A pause lasts at least a
// millisecond (the runtime's poller sleeps in whole milliseconds), so a
// burst drains at 64,000 replies a second or more.
const (
	paceBurst = 64
	paceGap   = 500 * time.Microsecond
)

// sendRange sends the replies of b from index from to index to and counts
// them.
func (s *Server) sendRange(b *sendBatch, from, to int) {
	for off := from; off < to; {
		n, err := s.ep.Writer.Write(b.Batch, off, to)
		if errno, ok := err.(syscall.Errno); ok {
			// sendmmsg fails only when its first message fails: count
			// that one and go on with the rest.
			s.sendErrors.Add(1)
			s.log.Warn("send failed", "to", b.Dest(off).String(), "err", errno)
			off++
			continue
		}
		if err != nil {
			// The socket is closed: these replies are not sent.
			s.sendErrors.Add(uint64(to - off))
			break
		}
		for i := off; i < off+n; i++ {
			s.sent(b.types[i])
		}
		off += n
	}
}

// sent counts a reply sent.
func (s *Server) sent(t dhcpv4.MessageType) {
	s.replies.Add(1)
	if int(t) < len(s.sentByType) {
		s.sentByType[t].Add(1)
	}
}

// ifaceAddr4 returns the first IPv4 address in prefixes, or the zero Addr.
func ifaceAddr4(prefixes []netip.Prefix) netip.Addr {
	for _, p := range prefixes {
		if p.Addr().Is4() {
			return p.Addr()
		}
	}
	return netip.Addr{}
}

// sourceFor is the source address of a frame built by hand: the server
// identifier the reply carries, else the interface's address.
func (s *Server) sourceFor(w *worker, in *server.Arrival) netip.Addr {
	if a, ok := w.reply.Options.Addr(dhcpv4.OptServerID); ok {
		return a
	}
	return ifaceAddr4(in.IfAddrs)
}

// dropMalformed counts a datagram that is not DHCP and logs it, at most
// once a second with the number suppressed meanwhile.
func (s *Server) dropMalformed(d *udp4.Datagram, err error) {
	s.malformed.Add(1)
	now := s.opts.Clock().UnixNano()
	last := s.lastMalformedLog.Load()
	if now-last < int64(time.Second) || !s.lastMalformedLog.CompareAndSwap(last, now) {
		s.suppressedLogs.Add(1)
		return
	}
	s.log.Warn("dropped malformed packet", "src", d.Src.String(), "len", len(d.Data), "err", err,
		"suppressed", s.suppressedLogs.Swap(0))
}

// logOutcome writes one line per lease event at info, and the rest at
// debug; failed commits also at error, summarised (logSummary).
func (s *Server) logOutcome(ctx context.Context, req *dhcpv4.Packet, in *server.Arrival, out *server.Outcome) {
	level := slog.LevelDebug
	switch out.Reason {
	case server.ReasonAck, server.ReasonAckKept, server.ReasonNakAddress, server.ReasonNakNetwork, server.ReasonNakUnknown,
		server.ReasonReleased, server.ReasonDeclined, server.ReasonExhausted, server.ReasonWrongSource:
		level = slog.LevelInfo
	case server.ReasonCommitFailed:
		// Every refusal is counted; the error log says it at most once
		// a second, with the number refused since its last line.
		if n, ok := s.commitFailures.note(s.opts.Clock(), out.Err); ok {
			s.logCommitFailures(ctx, n, out.Err)
		}
	}
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("event", out.Reason.String()),
		slog.String("client", clientString(req)),
		slog.String("type", out.Type.String()),
		slog.String("if", in.IfName),
	}
	if out.Addr.IsValid() {
		attrs = append(attrs, slog.String("addr", out.Addr.String()))
	}
	if out.Subnet.IsValid() {
		attrs = append(attrs, slog.String("subnet", out.Subnet.String()))
	}
	if isSet(req.GIAddr) {
		attrs = append(attrs, slog.String("relay", req.GIAddr.String()))
	}
	if h, ok := req.Options.Get(dhcpv4.OptHostName); ok && len(h) > 0 {
		// The client's bytes: escaped, as everywhere they are shown.
		attrs = append(attrs, slog.String("hostname", escape.Text(string(h))))
	}
	if out.Err != nil {
		attrs = append(attrs, slog.String("err", out.Err.Error()))
	}
	s.log.LogAttrs(ctx, level, "lease", attrs...)
}

// logCommitFailures writes the error line of n failed commits, the last
// of which failed with err.
func (s *Server) logCommitFailures(ctx context.Context, n uint64, err error) {
	errText := "unknown"
	if err != nil {
		errText = err.Error()
	}
	s.log.LogAttrs(ctx, slog.LevelError, "lease store commits failed; requests not acknowledged",
		slog.String("event", server.ReasonCommitFailed.String()), slog.Uint64("count", n), slog.String("err", errText))
}

// flushCommitFailures writes the line of the failed commits not yet
// reported, when one is due.
func (s *Server) flushCommitFailures(ctx context.Context) {
	if n, err := s.commitFailures.flush(s.opts.Clock()); n > 0 {
		s.logCommitFailures(ctx, n, err)
	}
}

func isSet(a netip.Addr) bool { return a.IsValid() && !a.IsUnspecified() }

// clientString names a client in logs: its hardware address, and its
// client identifier in hex when it sent one.
func clientString(req *dhcpv4.Packet) string {
	s := net.HardwareAddr(req.HardwareAddr()).String()
	if id, ok := req.Options.Get(dhcpv4.OptClientID); ok {
		s += " id=" + fmt.Sprintf("%x", id)
	}
	return s
}
