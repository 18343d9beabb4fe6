package link

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"leased/client"
	"leased/udp4"
)

// Configurator configures one interface for a lease through rtnetlink
// (see the package comment). It is used by one goroutine at a time.
type Configurator struct {
	// Index and Name identify the interface.
	Index int
	Name  string
	// Metric is the priority of the routes it installs; 0 is the
	// kernel's default.
	Metric int
	// Now is the clock for address lifetimes; nil means time.Now.
	Now func() time.Time

	origMTU int // the MTU before the lease changed it; 0 when unchanged
}

func (c *Configurator) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Configurator) link() (netlink.Link, error) {
	l, err := netlink.LinkByIndex(c.Index)
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", c.Name, err)
	}
	return l, nil
}

// Up sets the interface administratively up, as it must be to send.
func (c *Configurator) Up() error {
	l, err := c.link()
	if err != nil {
		return err
	}
	if l.Attrs().Flags&net.FlagUp != 0 {
		return nil
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return udp4.NeedsPrivilege(fmt.Errorf("link %s: setting it up: %w", c.Name, err), udp4.NeedAdmin)
	}
	return nil
}

// Configure sets the interface up for lease: address, routes and MTU.
// With old, the lease configured until now, it first removes the address
// and routes of old that lease does not have.
func (c *Configurator) Configure(lease, old *client.Lease) error {
	l, err := c.link()
	if err != nil {
		return err
	}
	newRoutes := c.routes(lease)
	if old != nil {
		if old.Addr != lease.Addr {
			c.deleteRoutes(c.routes(old))
			if err := netlink.AddrDel(l, c.addr(old)); err != nil && !gone(err) {
				return udp4.NeedsPrivilege(fmt.Errorf("link %s: removing %v: %w", c.Name, old.Addr, err), udp4.NeedAdmin)
			}
		} else {
			var stale []*netlink.Route
			for _, r := range c.routes(old) {
				if !slices.ContainsFunc(newRoutes, func(n *netlink.Route) bool { return sameRoute(r, n) }) {
					stale = append(stale, r)
				}
			}
			c.deleteRoutes(stale)
		}
	}
	if err := netlink.AddrReplace(l, c.addr(lease)); err != nil {
		return udp4.NeedsPrivilege(fmt.Errorf("link %s: adding %v: %w", c.Name, lease.Addr, err), udp4.NeedAdmin)
	}
	if lease.MTU >= 68 && lease.MTU != l.Attrs().MTU {
		if c.origMTU == 0 {
			c.origMTU = l.Attrs().MTU
		}
		if err := netlink.LinkSetMTU(l, lease.MTU); err != nil {
			return udp4.NeedsPrivilege(fmt.Errorf("link %s: setting the MTU to %d: %w", c.Name, lease.MTU, err), udp4.NeedAdmin)
		}
	}
	for _, r := range newRoutes {
		if err := netlink.RouteReplace(r); err != nil {
			return udp4.NeedsPrivilege(fmt.Errorf("link %s: adding the route %v: %w", c.Name, routeString(r), err), udp4.NeedAdmin)
		}
	}
	return nil
}

// Deconfigure removes the lease's routes and address and restores the MTU.
// What is already gone is not an error.
func (c *Configurator) Deconfigure(lease *client.Lease) error {
	l, err := c.link()
	if err != nil {
		return err
	}
	c.deleteRoutes(c.routes(lease))
	var errs []error
	if err := netlink.AddrDel(l, c.addr(lease)); err != nil && !gone(err) {
		errs = append(errs, udp4.NeedsPrivilege(fmt.Errorf("link %s: removing %v: %w", c.Name, lease.Addr, err), udp4.NeedAdmin))
	}
	if c.origMTU != 0 {
		if err := netlink.LinkSetMTU(l, c.origMTU); err != nil {
			errs = append(errs, udp4.NeedsPrivilege(fmt.Errorf("link %s: restoring the MTU %d: %w", c.Name, c.origMTU, err), udp4.NeedAdmin))
		}
		c.origMTU = 0
	}
	return errors.Join(errs...)
}

// addr is the netlink address of lease, with its broadcast address and,
// for a finite lease, the time left as valid and preferred lifetime.
func (c *Configurator) addr(lease *client.Lease) *netlink.Addr {
	p := lease.Addr
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}}
	if b := lease.BroadcastAddr(); b.IsValid() {
		a.Broadcast = b.AsSlice()
	}
	if !lease.Infinite() {
		left := lease.Expiry().Sub(c.now())
		secs := max(int(left/time.Second), 1)
		a.ValidLft, a.PreferedLft = secs, secs
	}
	return a
}

// routes are the netlink routes of lease (client.Lease.EffectiveRoutes),
// from its address, with protocol "dhcp". An on-link route (router
// 0.0.0.0) has link scope; a router outside the subnet is marked on-link,
// as RFC 3442 routes may need.
func (c *Configurator) routes(lease *client.Lease) []*netlink.Route {
	var rs []*netlink.Route
	for _, r := range lease.EffectiveRoutes() {
		nr := &netlink.Route{
			LinkIndex: c.Index,
			Protocol:  unix.RTPROT_DHCP,
			Priority:  c.Metric,
			Src:       lease.Addr.Addr().AsSlice(),
			Table:     unix.RT_TABLE_MAIN,
			Family:    netlink.FAMILY_V4,
		}
		if r.Dest.Bits() > 0 {
			nr.Dst = &net.IPNet{IP: r.Dest.Addr().AsSlice(), Mask: net.CIDRMask(r.Dest.Bits(), 32)}
		}
		if r.Router.IsUnspecified() {
			nr.Scope = netlink.SCOPE_LINK
		} else {
			nr.Gw = r.Router.AsSlice()
			if !lease.Addr.Masked().Contains(r.Router) {
				nr.Flags = int(netlink.FLAG_ONLINK)
			}
		}
		rs = append(rs, nr)
	}
	return rs
}

func (c *Configurator) deleteRoutes(rs []*netlink.Route) {
	for _, r := range rs {
		// A route already gone (with its address, or by hand) is fine.
		_ = netlink.RouteDel(r)
	}
}

func sameRoute(a, b *netlink.Route) bool {
	return a.Dst.String() == b.Dst.String() && a.Gw.Equal(b.Gw) && a.Src.Equal(b.Src) && a.Priority == b.Priority
}

func routeString(r *netlink.Route) string {
	dst := "default"
	if r.Dst != nil {
		dst = r.Dst.String()
	}
	if r.Gw != nil {
		return dst + " via " + r.Gw.String()
	}
	return dst + " on-link"
}

// gone reports whether err says the address or route was not there.
func gone(err error) bool {
	return errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT)
}
