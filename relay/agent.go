package relay

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
	"leased/netio"
)

// Options configure an Agent. Servers is required.
type Options struct {
	// Addr is the address to listen on for client requests and server
	// replies; default 0.0.0.0:67.
	Addr netip.AddrPort
	// Servers are the DHCP servers every request is relayed to. A server
	// without a port gets ServerPort.
	Servers []netip.AddrPort
	// Workers is the number of goroutines reading and relaying; default 4.
	Workers int
	// Batch is the number of datagrams a worker reads per system call;
	// default 8.
	Batch int
	// Logger receives each message at debug level and problems at warn.
	// Nil discards.
	Logger *slog.Logger
	// Clock is the time source of log rate limits; default time.Now.
	Clock func() time.Time
	// ClientPort is the destination port of replies to clients; default
	// 68. Tests that cannot use privileged ports change it.
	ClientPort uint16
}

// Stats are an Agent's counters since it started.
type Stats struct {
	Received   uint64 // datagrams read
	Sent       uint64 // datagrams sent: one per server for a request
	SendErrors uint64 // datagrams that failed to send
	// Reasons counts the outcome of every message by Reason name
	// ("forwarded", "hop-limit", ...); reasons that never happened are
	// left out.
	Reasons map[string]uint64
}

// Agent is the socket half of the relay: it receives requests and replies
// on UDP port 67, with the arrival interface of each (IP_PKTINFO), and
// sends what its Relay makes of them. Create it with Listen.
type Agent struct {
	opts Options
	conn *net.UDPConn
	pc   *ipv4.PacketConn
	raw  *netio.LinkSender
	log  *slog.Logger

	received, sent, sendErrors atomic.Uint64
	reasons                    [numReasons]atomic.Uint64
	lastWarn                   atomic.Int64
	closeOnce                  sync.Once
}

// Listen opens the agent's sockets: UDP on opts.Addr with the arrival
// interface reported per datagram, and a packet socket for replies to
// clients that have no address yet. It needs CAP_NET_BIND_SERVICE for port
// 67 and CAP_NET_RAW for the packet socket; without the packet socket,
// such replies are broadcast.
func Listen(opts Options) (*Agent, error) {
	if !opts.Addr.IsValid() {
		opts.Addr = netip.AddrPortFrom(netip.IPv4Unspecified(), ServerPort)
	}
	if len(opts.Servers) == 0 {
		return nil, errors.New("relay: no server to relay to")
	}
	servers := make([]netip.AddrPort, len(opts.Servers))
	for i, s := range opts.Servers {
		if !s.Addr().Unmap().Is4() || !isSet(s.Addr().Unmap()) {
			return nil, fmt.Errorf("relay: server %v is not an IPv4 address", s)
		}
		servers[i] = netip.AddrPortFrom(s.Addr().Unmap(), s.Port())
		if s.Port() == 0 {
			servers[i] = netip.AddrPortFrom(s.Addr().Unmap(), ServerPort)
		}
	}
	opts.Servers = servers
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Batch <= 0 {
		opts.Batch = 8
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.ClientPort == 0 {
		opts.ClientPort = ClientPort
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, pc, err := netio.ListenUDP4(opts.Addr, ipv4.FlagInterface)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	raw, err := netio.OpenLinkSender()
	if err != nil {
		log.Warn("no packet socket; replies to clients without an address will be broadcast", "err", err)
		raw = nil
	}
	return &Agent{opts: opts, conn: conn, pc: pc, raw: raw, log: log}, nil
}

// LocalAddr returns the address the agent listens on.
func (a *Agent) LocalAddr() netip.AddrPort {
	return a.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Close closes the sockets; Serve returns once its workers stop.
func (a *Agent) Close() error {
	var err error
	a.closeOnce.Do(func() {
		err = a.conn.Close()
		if a.raw != nil {
			err = errors.Join(err, a.raw.Close())
		}
	})
	return err
}

// Serve relays with r until ctx ends or the agent is closed, then closes
// the agent.
func (a *Agent) Serve(ctx context.Context, r *Relay) error {
	stop := context.AfterFunc(ctx, func() { a.Close() })
	defer stop()
	var wg sync.WaitGroup
	for range a.opts.Workers {
		wg.Go(func() { a.worker(ctx, r) })
	}
	wg.Wait()
	return nil
}

// Stats returns a snapshot of the counters.
func (a *Agent) Stats() Stats {
	st := Stats{
		Received:   a.received.Load(),
		Sent:       a.sent.Load(),
		SendErrors: a.sendErrors.Load(),
		Reasons:    make(map[string]uint64),
	}
	for _, r := range Reasons() {
		if n := a.reasons[r].Load(); n > 0 {
			st.Reasons[r.String()] = n
		}
	}
	return st
}

// maxDatagram is the largest datagram read; longer ones are cut, and
// fail the framing checks.
const maxDatagram = 4096

// worker owns its buffers: a batch of receive buffers, and the message and
// frame it builds.
type worker struct {
	msgs  []ipv4.Message
	cm    ipv4.ControlMessage
	out   []byte
	frame []byte
	oob   []byte
}

func (a *Agent) worker(ctx context.Context, r *Relay) {
	w := &worker{
		msgs:  make([]ipv4.Message, a.opts.Batch),
		out:   make([]byte, 0, maxDatagram+512),
		frame: make([]byte, 0, maxDatagram+600),
	}
	for i := range w.msgs {
		w.msgs[i].Buffers = [][]byte{make([]byte, maxDatagram)}
		w.msgs[i].OOB = ipv4.NewControlMessage(ipv4.FlagInterface)
	}
	for {
		n, err := a.pc.ReadBatch(w.msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			a.warn("receive failed", "err", err)
			runtime.Gosched()
			continue
		}
		for i := range n {
			a.handle(ctx, r, w, &w.msgs[i])
		}
	}
}

// handle relays one datagram.
func (a *Agent) handle(ctx context.Context, r *Relay, w *worker, m *ipv4.Message) {
	a.received.Add(1)
	data := m.Buffers[0][:m.N]
	w.cm = ipv4.ControlMessage{}
	_ = w.cm.Parse(m.OOB[:m.NN])
	var reason Reason
	if len(data) > 0 && data[offOp] == byte(dhcpv4.BootReply) {
		var d Delivery
		w.out, d, reason = r.Reply(w.out[:0], data)
		if !reason.Dropped() {
			a.deliver(ctx, w, &d)
		}
	} else {
		w.out, reason = r.Request(w.out[:0], data, w.cm.IfIndex)
		if !reason.Dropped() {
			a.forward(ctx, r, w)
		}
	}
	a.reasons[reason].Add(1)
	if reason.Dropped() && a.log.Enabled(ctx, slog.LevelDebug) {
		a.log.Debug("dropped", "reason", reason.String(), "ifindex", w.cm.IfIndex,
			"src", srcString(m.Addr), "type", MessageType(data).String(), "len", len(data))
	}
}

// forward sends w.out, a relayed request, to every server.
func (a *Agent) forward(ctx context.Context, r *Relay, w *worker) {
	for _, s := range a.opts.Servers {
		if _, err := a.conn.WriteToUDPAddrPort(w.out, s); err != nil {
			a.sendErrors.Add(1)
			a.warn("relaying to a server failed", "server", s, "err", err)
			continue
		}
		a.sent.Add(1)
	}
	if a.log.Enabled(ctx, slog.LevelDebug) {
		var p dhcpv4.Packet
		if dhcpv4.Parse(w.out, &p) == nil {
			a.log.Debug("forwarded", "if", r.InterfaceName(w.cm.IfIndex), "servers", len(a.opts.Servers), "packet", p.String())
		}
	}
}

// deliver sends w.out, a reply, to the client as d says.
func (a *Agent) deliver(ctx context.Context, w *worker, d *Delivery) {
	to := netip.AddrPortFrom(d.Dst.Addr(), a.opts.ClientPort)
	how := d.How
	var err error
	switch how {
	case ToHardware:
		if a.raw != nil && d.HType == 1 && d.HWLen == 6 {
			w.frame = netio.AppendUDP4(w.frame[:0], netip.AddrPortFrom(d.Src, ServerPort), to, w.out)
			if err = a.raw.Send(d.IfIndex, d.HardwareAddr(), w.frame); err == nil {
				break
			}
			a.log.Debug("unicast to a hardware address failed; broadcasting", "if", d.IfName, "err", err)
		}
		how = Broadcast
		to = netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), a.opts.ClientPort)
		err = a.sendOn(w, d.IfIndex, to)
	default:
		err = a.sendOn(w, d.IfIndex, to)
	}
	if err != nil {
		a.sendErrors.Add(1)
		a.warn("delivering a reply failed", "if", d.IfName, "to", to, "err", err)
		return
	}
	a.sent.Add(1)
	if a.log.Enabled(ctx, slog.LevelDebug) {
		var p dhcpv4.Packet
		if dhcpv4.Parse(w.out, &p) == nil {
			a.log.Debug("delivered", "if", d.IfName, "how", how.String(), "to", to, "packet", p.String())
		}
	}
}

// sendOn sends w.out to to out of interface ifIndex.
func (a *Agent) sendOn(w *worker, ifIndex int, to netip.AddrPort) error {
	var err error
	w.oob, err = netio.WriteOnInterface(a.conn, w.out, ifIndex, to, w.oob)
	return err
}

// warn logs at warn level, at most once a second.
func (a *Agent) warn(msg string, args ...any) {
	now := a.opts.Clock().UnixNano()
	last := a.lastWarn.Load()
	if now-last < int64(time.Second) || !a.lastWarn.CompareAndSwap(last, now) {
		return
	}
	a.log.Warn(msg, args...)
}

func srcString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// LookupInterface returns the downstream Interface of the named network
// interface: its index and its first IPv4 address, or addr when that is
// valid (it must then be one of the interface's addresses).
func LookupInterface(name string, addr netip.Addr) (Interface, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return Interface{}, fmt.Errorf("relay: interface %s: %w", name, err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return Interface{}, fmt.Errorf("relay: interface %s: addresses: %w", name, err)
	}
	var first netip.Addr
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok || !ip.Unmap().Is4() {
			continue
		}
		ip = ip.Unmap()
		if addr.IsValid() && ip == addr {
			return Interface{Name: name, Index: ifc.Index, Addr: ip}, nil
		}
		if !first.IsValid() {
			first = ip
		}
	}
	switch {
	case addr.IsValid():
		return Interface{}, fmt.Errorf("relay: interface %s does not have the address %v", name, addr)
	case !first.IsValid():
		return Interface{}, fmt.Errorf("relay: interface %s has no IPv4 address to relay from", name)
	}
	return Interface{Name: name, Index: ifc.Index, Addr: first}, nil
}

// SourceFor returns the address this host sends from to reach server: the
// relay's upstream address, as giaddr with link selection. No packet is
// sent.
func SourceFor(server netip.Addr) (netip.Addr, error) {
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(server, ServerPort)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("relay: no route to server %v: %w", server, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}
