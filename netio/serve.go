package netio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"leased/dhcpv4"
	"leased/server"
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
	// requests are accepted on any interface.
	Interfaces []string
	// Workers is the number of goroutines reading and handling requests.
	// Each DHCPACK waits for its lease to reach stable storage, and
	// the store gathers concurrent commits into one fsync, so more workers
	// mean bigger batches. Default 64.
	Workers int
	// Batch is the number of datagrams one worker reads per system call.
	// Default 8.
	Batch int
	// Logger receives lease events at info, packets at debug and
	// problems at warn. Nil discards.
	Logger *slog.Logger
	// Clock is the time source for rate limits and caches; default
	// time.Now.
	Clock func() time.Time
	// ClientPort and RelayPort are the destination ports of replies to
	// clients (default 68) and to relay agents (default 67). Tests and
	// load generators that cannot bind privileged ports change them.
	ClientPort, RelayPort uint16
}

// Stats are a Server's counters since it started.
type Stats struct {
	Received   uint64 // datagrams read
	Malformed  uint64 // dropped: not a parseable DHCP message
	Foreign    uint64 // dropped: direct request on an interface not served
	Replies    uint64 // replies sent
	SendErrors uint64 // replies that failed to send
	// ByType counts received requests and sent replies by message type.
	ReceivedByType [dhcpv4.ForceRenew + 1]uint64
	SentByType     [dhcpv4.ForceRenew + 1]uint64
	// Outcomes counts the engine's outcomes by reason.
	Outcomes map[string]uint64
}

// Server receives DHCP requests and sends replies. Create it with Listen.
type Server struct {
	opts   Options
	conn   *net.UDPConn
	pc     *ipv4.PacketConn
	raw    *LinkSender
	ifaces *ifaceTable
	served map[string]bool
	log    *slog.Logger

	received, malformed, foreign, replies, sendErrors atomic.Uint64
	receivedByType, sentByType                        [dhcpv4.ForceRenew + 1]atomic.Uint64
	outcomes                                          [32]atomic.Uint64
	lastMalformedLog                                  atomic.Int64
	suppressedLogs                                    atomic.Uint64
	closeOnce                                         sync.Once
}

// Listen opens the server's sockets: UDP on opts.Addr with the arrival
// interface and destination reported per datagram, and a packet socket for
// unicast to clients without an address. It needs CAP_NET_BIND_SERVICE for
// port 67 and CAP_NET_RAW for the packet socket.
func Listen(opts Options) (*Server, error) {
	if !opts.Addr.IsValid() {
		opts.Addr = netip.AddrPortFrom(netip.IPv4Unspecified(), 67)
	}
	if opts.Workers <= 0 {
		opts.Workers = 64
	}
	if opts.Batch <= 0 {
		opts.Batch = 8
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.ClientPort == 0 {
		opts.ClientPort = 68
	}
	if opts.RelayPort == 0 {
		opts.RelayPort = 67
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, pc, err := ListenUDP4(opts.Addr, ipv4.FlagInterface|ipv4.FlagDst)
	if err != nil {
		return nil, fmt.Errorf("netio: %w", err)
	}
	raw, err := OpenLinkSender()
	if err != nil {
		// Without CAP_NET_RAW, replies that should go to a hardware
		// address are broadcast instead.
		log.Warn("no packet socket; replies to clients without an address will be broadcast", "err", err)
		raw = nil
	}
	s := &Server{
		opts:   opts,
		conn:   conn,
		pc:     pc,
		raw:    raw,
		ifaces: newIfaceTable(opts.Clock),
		log:    log,
	}
	if len(opts.Interfaces) > 0 {
		s.served = make(map[string]bool)
		for _, n := range opts.Interfaces {
			s.served[n] = true
		}
	}
	return s, nil
}

// LocalAddr returns the address the server listens on.
func (s *Server) LocalAddr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Close closes the sockets; Serve returns once its workers finish the
// requests they are handling.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		err = s.conn.Close()
		if s.raw != nil {
			err = errors.Join(err, s.raw.Close())
		}
	})
	return err
}

// Serve handles requests with h until ctx ends or the server is closed.
// Requests being handled when that happens are finished, including their
// lease commits, before Serve returns.
func (s *Server) Serve(ctx context.Context, h Handler) error {
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	// Commits in flight must finish even when ctx ends.
	work := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.worker(work, h)
		}()
	}
	wg.Wait()
	return nil
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Received:   s.received.Load(),
		Malformed:  s.malformed.Load(),
		Foreign:    s.foreign.Load(),
		Replies:    s.replies.Load(),
		SendErrors: s.sendErrors.Load(),
		Outcomes:   make(map[string]uint64),
	}
	for i := range st.ReceivedByType {
		st.ReceivedByType[i] = s.receivedByType[i].Load()
		st.SentByType[i] = s.sentByType[i].Load()
	}
	for _, r := range server.Reasons() {
		if n := s.outcomes[r].Load(); n > 0 {
			st.Outcomes[r.String()] = n
		}
	}
	return st
}

// maxReply is the largest reply sent: an Ethernet MTU less IP and UDP
// headers, whatever larger size a client allows.
const maxReply = 1500 - ipv4HeaderLen - udpHeaderLen

// worker owns its buffers and packets; it reads batches and handles each
// datagram in turn.
type worker struct {
	msgs  []ipv4.Message
	cm    ipv4.ControlMessage
	req   dhcpv4.Packet
	reply dhcpv4.Packet
	out   []byte
	frame []byte
	oob   []byte
}

func (s *Server) worker(ctx context.Context, h Handler) {
	w := &worker{msgs: make([]ipv4.Message, s.opts.Batch), out: make([]byte, 0, 1500), frame: make([]byte, 0, 1600)}
	for i := range w.msgs {
		w.msgs[i].Buffers = [][]byte{make([]byte, 4096)}
		w.msgs[i].OOB = ipv4.NewControlMessage(ipv4.FlagInterface | ipv4.FlagDst)
	}
	for {
		n, err := s.pc.ReadBatch(w.msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("receive failed", "err", err)
			runtime.Gosched()
			continue
		}
		for i := range n {
			s.handleOne(ctx, h, w, &w.msgs[i])
		}
	}
}

func (s *Server) handleOne(ctx context.Context, h Handler, w *worker, m *ipv4.Message) {
	s.received.Add(1)
	data := m.Buffers[0][:m.N]
	if err := dhcpv4.Parse(data, &w.req); err != nil {
		s.dropMalformed(m, err)
		return
	}
	w.cm = ipv4.ControlMessage{}
	_ = w.cm.Parse(m.OOB[:m.NN])
	in := server.Arrival{IfIndex: w.cm.IfIndex}
	if ua, ok := m.Addr.(*net.UDPAddr); ok {
		in.Src = ua.AddrPort()
	}
	if d, ok := netip.AddrFromSlice(w.cm.Dst); ok {
		in.Dst = d.Unmap()
	}
	if info := s.ifaces.lookup(w.cm.IfIndex); info != nil {
		in.IfName, in.IfAddrs = info.name, info.addrs
	}
	relayed := w.req.GIAddr.IsValid() && !w.req.GIAddr.IsUnspecified()
	if !relayed && s.served != nil && !s.served[in.IfName] {
		s.foreign.Add(1)
		return
	}
	if t := w.req.MessageType(); int(t) < len(s.receivedByType) {
		s.receivedByType[t].Add(1)
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("received", "if", in.IfName, "src", in.Src, "packet", w.req.String())
	}
	out := h.Handle(ctx, &w.req, in, &w.reply)
	if int(out.Reason) < len(s.outcomes) {
		s.outcomes[out.Reason].Add(1)
	}
	s.logOutcome(ctx, &w.req, &in, &out)
	if out.Action != server.Reply {
		return
	}
	s.send(w, &in, &out)
}

// send builds the reply and sends it where RFC 2131 §4.1 says.
func (s *Server) send(w *worker, in *server.Arrival, out *server.Outcome) {
	var err error
	w.out, err = w.reply.Append(w.out[:0], min(w.req.MaxMessageSize(), maxReply))
	if err != nil {
		s.sendErrors.Add(1)
		s.log.Warn("reply too large", "client", clientString(&w.req), "err", err)
		return
	}
	how, to := server.Destination(&w.req, &w.reply)
	if how == server.ToRelay {
		to = netip.AddrPortFrom(to.Addr(), s.opts.RelayPort)
	} else {
		to = netip.AddrPortFrom(to.Addr(), s.opts.ClientPort)
	}
	switch how {
	case server.ToHardware:
		if s.raw != nil && w.req.HType == 1 && w.req.HLen == 6 && in.IfIndex > 0 {
			src := netip.AddrPortFrom(s.sourceFor(w, in), 67)
			w.frame = AppendUDP4(w.frame[:0], src, to, w.out)
			if err = s.raw.Send(in.IfIndex, w.req.HardwareAddr(), w.frame); err == nil {
				break
			}
			s.log.Debug("unicast to hardware address failed, broadcasting", "err", err)
		}
		err = s.sendOnInterface(w, in, netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), to.Port()))
	case server.ToBroadcast:
		err = s.sendOnInterface(w, in, to)
	default:
		_, err = s.conn.WriteToUDPAddrPort(w.out, to)
	}
	if err != nil {
		s.sendErrors.Add(1)
		s.log.Warn("send failed", "to", to, "client", clientString(&w.req), "err", err)
		return
	}
	s.replies.Add(1)
	if t := out.Reply; int(t) < len(s.sentByType) {
		s.sentByType[t].Add(1)
	}
}

// sendOnInterface sends w.out to a broadcast destination out of the arrival
// interface.
func (s *Server) sendOnInterface(w *worker, in *server.Arrival, to netip.AddrPort) error {
	var err error
	w.oob, err = WriteOnInterface(s.conn, w.out, in.IfIndex, to, w.oob)
	return err
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
func (s *Server) dropMalformed(m *ipv4.Message, err error) {
	s.malformed.Add(1)
	now := s.opts.Clock().UnixNano()
	last := s.lastMalformedLog.Load()
	if now-last < int64(time.Second) || !s.lastMalformedLog.CompareAndSwap(last, now) {
		s.suppressedLogs.Add(1)
		return
	}
	src := ""
	if m.Addr != nil {
		src = m.Addr.String()
	}
	s.log.Warn("dropped malformed packet", "src", src, "len", m.N, "err", err,
		"suppressed", s.suppressedLogs.Swap(0))
}

// logOutcome writes one line per lease event at info, and the rest at
// debug.
func (s *Server) logOutcome(ctx context.Context, req *dhcpv4.Packet, in *server.Arrival, out *server.Outcome) {
	level := slog.LevelDebug
	switch out.Reason {
	case server.ReasonAck, server.ReasonNakAddress, server.ReasonNakNetwork, server.ReasonNakUnknown,
		server.ReasonReleased, server.ReasonDeclined, server.ReasonExhausted:
		level = slog.LevelInfo
	case server.ReasonCommitFailed:
		level = slog.LevelError
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
	if out.Err != nil {
		attrs = append(attrs, slog.String("err", out.Err.Error()))
	}
	s.log.LogAttrs(ctx, level, "lease", attrs...)
}

func isSet(a netip.Addr) bool { return a.IsValid() && !a.IsUnspecified() }

// clientString names a client in logs: its hardware address, and its
// client identifier in hex when it sent one.
func clientString(req *dhcpv4.Packet) string {
	s := formatMAC(req.HardwareAddr())
	if id, ok := req.Options.Get(dhcpv4.OptClientID); ok {
		s += " id=" + fmt.Sprintf("%x", id)
	}
	return s
}

func formatMAC(b []byte) string {
	const hexDigit = "0123456789abcdef"
	out := make([]byte, 0, 3*len(b))
	for i, c := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hexDigit[c>>4], hexDigit[c&0xf])
	}
	return string(out)
}
