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

	"leased/dhcpv4"
	"leased/udp4"
)

// Options configure an Agent. Servers is required.
type Options struct {
	// Addr is the address to listen on for client requests and server
	// replies; default 0.0.0.0:67.
	Addr netip.AddrPort
	// Servers are the DHCP servers every request is relayed to. A server
	// without a port gets udp4.ServerPort.
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
	ep   *udp4.Endpoint
	log  *slog.Logger

	received, sent, sendErrors atomic.Uint64
	reasons                    [numReasons]atomic.Uint64
	lastWarn                   atomic.Int64
}

// Listen opens the agent's sockets: UDP on opts.Addr with the arrival
// interface reported per datagram, and a packet socket for replies to
// clients that have no address yet. It needs CAP_NET_BIND_SERVICE for port
// 67 and CAP_NET_RAW for the packet socket; without the packet socket,
// such replies are broadcast.
func Listen(opts Options) (*Agent, error) {
	if !opts.Addr.IsValid() {
		opts.Addr = netip.AddrPortFrom(netip.IPv4Unspecified(), udp4.ServerPort)
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
			servers[i] = netip.AddrPortFrom(s.Addr().Unmap(), udp4.ServerPort)
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
		opts.ClientPort = udp4.ClientPort
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ep, err := udp4.OpenEndpoint(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	if ep.Link == nil {
		log.Warn("no packet socket; replies to clients without an address will be broadcast", "err", ep.LinkErr)
	}
	return &Agent{opts: opts, ep: ep, log: log}, nil
}

// LocalAddr returns the address the agent listens on.
func (a *Agent) LocalAddr() netip.AddrPort { return a.ep.LocalAddr() }

// Close closes the sockets; Serve returns once its workers stop.
func (a *Agent) Close() error { return a.ep.Close() }

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

// worker owns the buffers of what a worker sends: the datagrams (a
// request relayed to each server, or a reply) and the frame it builds.
// Its receive buffers are its udp4.Reader's.
type worker struct {
	out   *udp4.Batch
	frame []byte
}

func (a *Agent) worker(ctx context.Context, r *Relay) {
	rd, err := udp4.NewReader(a.ep.Conn, a.opts.Batch, maxDatagram)
	if err != nil {
		a.log.Error("cannot read the socket", "err", err)
		return
	}
	w := &worker{
		out:   udp4.NewBatch(len(a.opts.Servers), maxDatagram+512),
		frame: make([]byte, 0, maxDatagram+600),
	}
	for {
		got, err := rd.Read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			a.warn("receive failed", "err", err)
			runtime.Gosched()
			continue
		}
		for i := range got {
			a.handle(ctx, r, w, &got[i])
		}
	}
}

// handle relays one datagram.
func (a *Agent) handle(ctx context.Context, r *Relay, w *worker, dg *udp4.Datagram) {
	a.received.Add(1)
	data := dg.Data
	w.out.Reset()
	var out []byte
	var reason Reason
	if len(data) > 0 && data[offOp] == byte(dhcpv4.BootReply) {
		var d Destination
		out, d, reason = r.Reply(w.out.Buf(), data)
		if !reason.Dropped() {
			a.deliver(ctx, w, out, &d)
		}
	} else {
		out, reason = r.Request(w.out.Buf(), data, dg.IfIndex)
		if !reason.Dropped() {
			a.forward(ctx, r, w, out, dg.IfIndex)
		}
	}
	a.reasons[reason].Add(1)
	if reason.Dropped() && a.log.Enabled(ctx, slog.LevelDebug) {
		a.log.Debug("dropped", "reason", reason.String(), "ifindex", dg.IfIndex,
			"src", dg.Src.String(), "type", MessageType(data).String(), "len", len(data))
	}
}

// forward sends msg, a relayed request that arrived on interface ifIndex,
// to every server.
func (a *Agent) forward(ctx context.Context, r *Relay, w *worker, msg []byte, ifIndex int) {
	for _, s := range a.opts.Servers {
		w.out.Push(msg, s, 0)
	}
	failed := 0
	for i := 0; i < w.out.Len(); {
		var err error
		if i, err = a.write(w, i); err != nil {
			failed++
			a.sendErrors.Add(1)
			a.warn("relaying to a server failed", "server", w.out.Dest(i), "err", err)
			i++
		}
	}
	a.sent.Add(uint64(w.out.Len() - failed))
	if a.log.Enabled(ctx, slog.LevelDebug) {
		var p dhcpv4.Packet
		if dhcpv4.Parse(msg, &p) == nil {
			a.log.Debug("forwarded", "if", r.InterfaceName(ifIndex), "servers", len(a.opts.Servers), "packet", p.String())
		}
	}
}

// deliver sends msg, a reply, to the client as d says.
func (a *Agent) deliver(ctx context.Context, w *worker, msg []byte, d *Destination) {
	to := netip.AddrPortFrom(d.Dst.Addr(), a.opts.ClientPort)
	how := d.Delivery
	var err error
	if how == dhcpv4.ToHardware {
		hw := udp4.Hardware{IfIndex: d.IfIndex, Type: d.HType, Addr: d.HardwareAddr()}
		var bcast netip.AddrPort
		w.frame, bcast, err = a.ep.Link.SendToHardware(w.frame, hw, netip.AddrPortFrom(d.Src, udp4.ServerPort), to, msg)
		if bcast.IsValid() {
			if err != nil {
				a.log.Debug("unicast to a hardware address failed; broadcasting", "if", d.IfName, "err", err)
			}
			how, to = dhcpv4.ToBroadcast, bcast
		}
	}
	if how != dhcpv4.ToHardware {
		w.out.Push(msg, to, d.IfIndex)
		_, err = a.write(w, 0)
	}
	if err != nil {
		a.sendErrors.Add(1)
		a.warn("delivering a reply failed", "if", d.IfName, "to", to, "err", err)
		return
	}
	a.sent.Add(1)
	if a.log.Enabled(ctx, slog.LevelDebug) {
		var p dhcpv4.Packet
		if dhcpv4.Parse(msg, &p) == nil {
			a.log.Debug("delivered", "if", d.IfName, "how", how.String(), "to", to, "packet", p.String())
		}
	}
}

// write sends the datagrams of w.out from index i on until one fails. It
// returns the index of the one that failed and why, or w.out.Len() and
// nil.
func (a *Agent) write(w *worker, i int) (int, error) {
	for i < w.out.Len() {
		n, err := a.ep.Writer.Write(w.out, i, w.out.Len())
		if err != nil {
			return i, err
		}
		i += n
	}
	return i, nil
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
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(server, udp4.ServerPort)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("relay: no route to server %v: %w", server, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}
