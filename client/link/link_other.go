//go:build !linux

package link

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"time"

	"leased/client"
	"leased/dhcpv4"
)

// errUnsupported is what everything that needs Linux returns.
var errUnsupported = errors.New("link: packet sockets and rtnetlink are not supported on " + runtime.GOOS)

// Socket sends and receives DHCP messages on an interface; on this system
// OpenSocket returns an error.
type Socket struct{}

// OpenSocket returns an error: packet sockets are not supported on this
// system.
func OpenSocket(ifi *net.Interface) (*Socket, error) { return nil, errUnsupported }

// Close does nothing.
func (s *Socket) Close() error { return nil }

// Receive returns an error: not supported on this system.
func (s *Socket) Receive(ctx context.Context, msg *dhcpv4.Packet) error { return errUnsupported }

// Send returns an error: not supported on this system.
func (s *Socket) Send(msg *dhcpv4.Packet, to netip.Addr) error { return errUnsupported }

func (s *Socket) closeUnicast() {}

// Configurator configures one interface for a lease; on this system its
// methods return an error.
type Configurator struct {
	// Index and Name identify the interface.
	Index int
	Name  string
	// Metric is the priority of the routes it installs; 0 is the
	// kernel's default.
	Metric int
	// Now is the clock for address lifetimes; nil means time.Now.
	Now func() time.Time
}

// Up returns an error: rtnetlink is not supported on this system.
func (c *Configurator) Up() error { return errUnsupported }

// Configure returns an error: rtnetlink is not supported on this system.
func (c *Configurator) Configure(lease, old *client.Lease) error { return errUnsupported }

// Deconfigure returns an error: rtnetlink is not supported on this system.
func (c *Configurator) Deconfigure(lease *client.Lease) error { return errUnsupported }

// Probe returns an error: packet sockets are not supported on this system.
func Probe(ctx context.Context, ifi *net.Interface, addr netip.Addr, cfg ProbeConfig) (bool, error) {
	return false, errUnsupported
}

// Announce returns an error: packet sockets are not supported on this
// system.
func Announce(ctx context.Context, ifi *net.Interface, addr netip.Addr, cfg ProbeConfig) error {
	return errUnsupported
}
