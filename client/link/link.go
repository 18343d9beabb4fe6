package link

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"leased/client"
	"leased/dhcpv4"
)

// Options configure a Link.
type Options struct {
	// Interface is the interface's name. Required.
	Interface string
	// Probe is the ARP probe timing.
	Probe ProbeConfig
	// RouteMetric is the priority of the routes installed.
	RouteMetric int
	// NoConfigure leaves the interface alone: Configure and Deconfigure
	// do nothing, and no ARP announcement is made.
	NoConfigure bool
	// Log receives failures of background announcements; nil discards.
	Log *slog.Logger
}

// Link is a client.Link on a Linux Ethernet interface: a Socket, Probe,
// a Configurator and ARP announcements.
type Link struct {
	ifi  *net.Interface
	sock *Socket
	conf *Configurator
	opts Options

	ctx    context.Context // ends at Close: background announcements
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Open opens the link on opts.Interface, which must be an Ethernet
// interface, and sets it up (administratively) if it is down.
func Open(opts Options) (*Link, error) {
	ifi, err := net.InterfaceByName(opts.Interface)
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", opts.Interface, err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("link %s: not an Ethernet interface (hardware address %q)", ifi.Name, ifi.HardwareAddr)
	}
	conf := &Configurator{Index: ifi.Index, Name: ifi.Name, Metric: opts.RouteMetric}
	if err := conf.Up(); err != nil {
		return nil, err
	}
	sock, err := OpenSocket(ifi)
	if err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Link{ifi: ifi, sock: sock, conf: conf, opts: opts, ctx: ctx, cancel: cancel}, nil
}

// Interface returns the interface.
func (l *Link) Interface() *net.Interface { return l.ifi }

// Close stops the announcements and closes the sockets.
func (l *Link) Close() error {
	l.cancel()
	l.wg.Wait()
	return l.sock.Close()
}

// Send is Socket.Send.
func (l *Link) Send(msg *dhcpv4.Packet, to netip.Addr) error { return l.sock.Send(msg, to) }

// Receive is Socket.Receive.
func (l *Link) Receive(ctx context.Context, msg *dhcpv4.Packet) error {
	return l.sock.Receive(ctx, msg)
}

// Probe is the package's Probe on the interface with the Options' timing.
func (l *Link) Probe(ctx context.Context, addr netip.Addr) (bool, error) {
	return Probe(ctx, l.ifi, addr, l.opts.Probe)
}

// Configure configures the lease (Configurator.Configure) and, for a new
// address, announces it in the background.
func (l *Link) Configure(ctx context.Context, lease, old *client.Lease) error {
	if l.opts.NoConfigure {
		return nil
	}
	if old != nil && old.Addr.Addr() != lease.Addr.Addr() {
		l.sock.closeUnicast()
	}
	if err := l.conf.Configure(lease, old); err != nil {
		return err
	}
	if old == nil || old.Addr.Addr() != lease.Addr.Addr() {
		addr := lease.Addr.Addr()
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			if err := Announce(l.ctx, l.ifi, addr, l.opts.Probe); err != nil {
				l.opts.Log.Warn("ARP announcement failed", "addr", addr, "err", err)
			}
		}()
	}
	return nil
}

// Deconfigure removes the lease (Configurator.Deconfigure).
func (l *Link) Deconfigure(ctx context.Context, lease *client.Lease) error {
	if l.opts.NoConfigure {
		return nil
	}
	l.sock.closeUnicast()
	return l.conf.Deconfigure(lease)
}
