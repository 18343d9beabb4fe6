package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"leased/dhcpv4"
	"leased/prefix"
)

// Lease is an address lease and the configuration that came with it, as
// the client understood the server's DHCPACK. Times are absolute: Start
// is when the DHCPREQUEST that obtained the lease was first sent, from
// which RFC 2131 §4.4.1 counts the lease.
//
// A Lease is a value the machine hands out and never changes afterwards;
// Clone makes a copy to change.
type Lease struct {
	// Interface is the interface's name, from Config.Interface.
	Interface string
	// Addr is the leased address with the prefix length of the subnet
	// mask (option 1), or of the address's class when the server sent no
	// mask.
	Addr netip.Prefix
	// ServerID is the server identifier (option 54): where renewals go.
	ServerID netip.Addr
	// Routers (option 3), in the server's order of preference.
	Routers []netip.Addr
	// Routes are the classless static routes (option 121). When present
	// they replace Routers for routing (RFC 3442 §3).
	Routes []dhcpv4.Route
	// DNS servers (option 6), domain name (15), domain search list (119)
	// and NTP servers (42).
	DNS    []netip.Addr
	Domain string
	Search []string
	NTP    []netip.Addr
	// Broadcast is the broadcast address (option 28), when sent.
	Broadcast netip.Addr
	// MTU is the interface MTU (option 26), or zero.
	MTU int
	// Hostname is the host name (option 12) the server gave, if any.
	Hostname string
	// LeaseTime is the lease time (option 51); dhcpv4.Infinite never ends.
	LeaseTime time.Duration
	// T1 and T2 are the effective renewal and rebinding times, after
	// Start: options 58 and 59 when sent and consistent, else 1/2 and 7/8
	// of the lease time (RFC 2131 §4.4.5).
	T1, T2 time.Duration
	// Start is when the lease began.
	Start time.Time
}

// Infinite reports whether the lease never ends.
func (l *Lease) Infinite() bool { return l.LeaseTime >= dhcpv4.Infinite }

// Expiry returns when the lease ends, or the zero Time for an infinite
// lease.
func (l *Lease) Expiry() time.Time {
	if l.Infinite() {
		return time.Time{}
	}
	return l.Start.Add(l.LeaseTime)
}

// RenewAt returns T1 as an instant, or the zero Time for an infinite
// lease.
func (l *Lease) RenewAt() time.Time {
	if l.Infinite() {
		return time.Time{}
	}
	return l.Start.Add(l.T1)
}

// RebindAt returns T2 as an instant, or the zero Time for an infinite
// lease.
func (l *Lease) RebindAt() time.Time {
	if l.Infinite() {
		return time.Time{}
	}
	return l.Start.Add(l.T2)
}

// Expired reports whether the lease has ended at now.
func (l *Lease) Expired(now time.Time) bool {
	return !l.Infinite() && !now.Before(l.Expiry())
}

// Clone returns a deep copy of l.
func (l *Lease) Clone() *Lease {
	c := *l
	c.Routers = slices.Clone(l.Routers)
	c.Routes = slices.Clone(l.Routes)
	c.DNS = slices.Clone(l.DNS)
	c.Search = slices.Clone(l.Search)
	c.NTP = slices.Clone(l.NTP)
	return &c
}

// EffectiveRoutes returns the routes the lease asks for: the classless
// static routes when the server sent any (RFC 3442 §3: the routers option
// is then ignored), else a default route through the first router, else
// none.
func (l *Lease) EffectiveRoutes() []dhcpv4.Route {
	if len(l.Routes) > 0 {
		return l.Routes
	}
	if len(l.Routers) > 0 {
		return []dhcpv4.Route{{Dest: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Router: l.Routers[0]}}
	}
	return nil
}

// BroadcastAddr returns the broadcast address to configure: option 28
// when sent, else the subnet's all-ones address. For /31 and /32 it is
// the zero Addr (RFC 3021).
func (l *Lease) BroadcastAddr() netip.Addr {
	if l.Broadcast.IsValid() {
		return l.Broadcast
	}
	if !l.Addr.IsValid() || l.Addr.Bits() >= 31 {
		return netip.Addr{}
	}
	return prefix.Last(l.Addr)
}

// ErrLease is wrapped by the errors of leaseFromAck and of decoding a lease.
var ErrLease = errors.New("unusable lease")

// leaseFromAck builds the lease a DHCPACK grants, starting at start.
// fallbackTime is the lease time to use when the ACK has none (the offer's
// for an ACK in REQUESTING), zero when there is none. The ACK's yiaddr
// must be a usable address.
func leaseFromAck(iface string, ack *dhcpv4.Packet, start time.Time, fallbackTime time.Duration) (*Lease, error) {
	l := &Lease{Interface: iface, Start: start}
	a := ack.YIAddr
	if !usable(a) {
		return nil, fmt.Errorf("%w: yiaddr %v", ErrLease, a)
	}
	bits := -1
	if m, ok := ack.Options.Addr(dhcpv4.OptSubnetMask); ok {
		bits = maskBits(m)
	}
	if bits < 1 {
		bits = classfulBits(a)
	}
	l.Addr = netip.PrefixFrom(a, bits)
	readOptions(l, &ack.Options)
	lt, ok := ack.Options.Duration(dhcpv4.OptLeaseTime)
	if !ok {
		lt = fallbackTime
	}
	if lt <= 0 {
		return nil, fmt.Errorf("%w: no lease time", ErrLease)
	}
	l.LeaseTime = lt
	t1, _ := ack.Options.Duration(dhcpv4.OptRenewalTime)
	t2, _ := ack.Options.Duration(dhcpv4.OptRebindingTime)
	l.T1, l.T2 = effectiveTimes(lt, t1, t2)
	return l, nil
}

// readOptions sets the configuration fields of l, all but the address and
// the times, from the options of a DHCPACK. Values that are malformed or
// unusable (addresses such as 0.0.0.0, names with characters a shell would
// interpret) are left out.
func readOptions(l *Lease, o *dhcpv4.Options) {
	l.ServerID, _ = o.Addr(dhcpv4.OptServerID)
	if !usable(l.ServerID) {
		l.ServerID = netip.Addr{}
	}
	l.Routers = usableAddrs(o, dhcpv4.OptRouter)
	if v, ok := o.Get(dhcpv4.OptClasslessRoutes); ok {
		if rs, err := dhcpv4.ParseClasslessRoutes(v, nil); err == nil {
			for _, r := range rs {
				if r.Router.IsUnspecified() || usable(r.Router) {
					l.Routes = append(l.Routes, r)
				}
			}
		}
	}
	l.DNS = usableAddrs(o, dhcpv4.OptDNSServers)
	l.NTP = usableAddrs(o, dhcpv4.OptNTPServers)
	if v, ok := o.Get(dhcpv4.OptDomainName); ok && dhcpv4.ValidHostname(string(v)) {
		l.Domain = trimDot(string(v))
	}
	if v, ok := o.Get(dhcpv4.OptHostName); ok && dhcpv4.ValidHostname(string(v)) {
		l.Hostname = trimDot(string(v))
	}
	if v, ok := o.Get(dhcpv4.OptDomainSearch); ok {
		if names, err := dhcpv4.ParseDomainList(v, nil); err == nil {
			for _, n := range names {
				if dhcpv4.ValidHostname(n) {
					l.Search = append(l.Search, n)
				}
			}
		}
	}
	if b, ok := o.Addr(dhcpv4.OptBroadcastAddress); ok && b.Is4() && !b.IsUnspecified() {
		l.Broadcast = b
	}
	if mtu, ok := o.Uint16(dhcpv4.OptInterfaceMTU); ok && mtu >= 68 {
		l.MTU = int(mtu)
	}
}

// effectiveTimes returns T1 and T2 for a lease of lt, given the renewal
// and rebinding times the server sent (zero when absent): each as sent
// when 0 < T1 < T2 < lt holds with the other's value or default, else the
// defaults of RFC 2131 §4.4.5, 1/2 and 7/8 of the lease, rounded down to
// whole seconds.
func effectiveTimes(lt, t1, t2 time.Duration) (time.Duration, time.Duration) {
	if lt >= dhcpv4.Infinite {
		return dhcpv4.Infinite, dhcpv4.Infinite
	}
	d1, d2 := lt/2, lt/8*7+(lt%8)*7/8
	// Whole seconds, as the times travel on the wire and in the lease
	// file, when that keeps them apart.
	if t := d1.Truncate(time.Second); t > 0 {
		d1 = t
	}
	if t := d2.Truncate(time.Second); t > d1 {
		d2 = t
	}
	if t1 <= 0 {
		t1 = d1
	}
	if t2 <= 0 {
		t2 = d2
	}
	if t1 < t2 && t2 < lt {
		return t1, t2
	}
	// One of them is out of place: keep whichever fits with the other's
	// default.
	if t1 > 0 && t1 < d2 {
		return t1, d2
	}
	if t2 > d1 && t2 < lt {
		return d1, t2
	}
	return d1, d2
}

// usableAddrs returns the usable addresses of an address-list option.
func usableAddrs(o *dhcpv4.Options, c dhcpv4.OptionCode) []netip.Addr {
	as, _ := o.Addrs(c, nil)
	out := as[:0]
	for _, a := range as {
		if usable(a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// maskBits returns the prefix length of a contiguous IPv4 mask, or -1.
func maskBits(m netip.Addr) int {
	if !m.Is4() {
		return -1
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&(1<<31) != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return -1
	}
	return n
}

// classfulBits returns the prefix length of a's class (RFC 791): /8 for
// class A, /16 for B, /24 for C and above.
func classfulBits(a netip.Addr) int {
	switch b := a.As4(); {
	case b[0] < 128:
		return 8
	case b[0] < 192:
		return 16
	default:
		return 24
	}
}

func trimDot(s string) string {
	if len(s) > 0 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}

// leaseJSON is the JSON form of a Lease: snake_case keys, times in RFC
// 3339, durations in whole seconds, routes as objects.
type leaseJSON struct {
	Interface     string       `json:"interface,omitempty"`
	Address       netip.Prefix `json:"address"`
	ServerID      *netip.Addr  `json:"server_id,omitempty"`
	Routers       []netip.Addr `json:"routers,omitempty"`
	Routes        []routeJSON  `json:"routes,omitempty"`
	DNS           []netip.Addr `json:"dns,omitempty"`
	Domain        string       `json:"domain,omitempty"`
	Search        []string     `json:"search,omitempty"`
	NTP           []netip.Addr `json:"ntp,omitempty"`
	Broadcast     *netip.Addr  `json:"broadcast,omitempty"`
	MTU           int          `json:"mtu,omitempty"`
	Hostname      string       `json:"hostname,omitempty"`
	LeaseTime     uint32       `json:"lease_time"`
	RenewalTime   uint32       `json:"renewal_time"`
	RebindingTime uint32       `json:"rebinding_time"`
	Start         time.Time    `json:"start"`
	Renew         *time.Time   `json:"renew,omitempty"`
	Rebind        *time.Time   `json:"rebind,omitempty"`
	Expiry        *time.Time   `json:"expiry,omitempty"`
}

type routeJSON struct {
	Destination netip.Prefix `json:"destination"`
	Router      netip.Addr   `json:"router"`
}

// MarshalJSON encodes the lease as an object with the keys interface,
// address ("198.18.0.100/24"), server_id, routers, routes (objects with
// destination and router), dns, domain, search, ntp, broadcast, mtu,
// hostname, lease_time, renewal_time and rebinding_time (whole seconds;
// 4294967295 is infinite), and start, renew, rebind and expiry (RFC 3339;
// the last three absent for an infinite lease, and for the options of a
// DHCPINFORM, which have no lease time). Empty values are left out.
func (l *Lease) MarshalJSON() ([]byte, error) {
	j := leaseJSON{
		Interface: l.Interface,
		Address:   l.Addr,
		Routers:   l.Routers,
		DNS:       l.DNS,
		Domain:    l.Domain,
		Search:    l.Search,
		NTP:       l.NTP,
		MTU:       l.MTU,
		Hostname:  l.Hostname,
		LeaseTime: seconds(l.LeaseTime),
		Start:     l.Start,
	}
	if l.ServerID.IsValid() {
		j.ServerID = &l.ServerID
	}
	if l.Broadcast.IsValid() {
		j.Broadcast = &l.Broadcast
	}
	for _, r := range l.Routes {
		j.Routes = append(j.Routes, routeJSON{r.Dest, r.Router})
	}
	j.RenewalTime, j.RebindingTime = seconds(l.T1), seconds(l.T2)
	if !l.Infinite() && l.LeaseTime > 0 {
		r, b, e := l.RenewAt(), l.RebindAt(), l.Expiry()
		j.Renew, j.Rebind, j.Expiry = &r, &b, &e
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON encodes. renew, rebind and expiry
// are ignored: they follow from start and the durations. An address that is
// not a usable IPv4 prefix, a route that is not IPv4 or a zero lease time is
// an error wrapping ErrLease.
func (l *Lease) UnmarshalJSON(b []byte) error {
	var j leaseJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if !j.Address.IsValid() || !usable(j.Address.Addr()) {
		return fmt.Errorf("%w: address %v", ErrLease, j.Address)
	}
	if j.LeaseTime == 0 {
		return fmt.Errorf("%w: lease_time 0", ErrLease)
	}
	*l = Lease{
		Interface: j.Interface,
		Addr:      j.Address,
		Routers:   j.Routers,
		DNS:       j.DNS,
		Domain:    j.Domain,
		Search:    j.Search,
		NTP:       j.NTP,
		MTU:       j.MTU,
		Hostname:  j.Hostname,
		LeaseTime: time.Duration(j.LeaseTime) * time.Second,
		Start:     j.Start,
	}
	if j.ServerID != nil {
		l.ServerID = *j.ServerID
	}
	if j.Broadcast != nil {
		l.Broadcast = *j.Broadcast
	}
	for _, r := range j.Routes {
		if !r.Destination.Addr().Is4() || !r.Router.Is4() {
			return fmt.Errorf("%w: route %v via %v", ErrLease, r.Destination, r.Router)
		}
		l.Routes = append(l.Routes, dhcpv4.Route{Dest: r.Destination.Masked(), Router: r.Router})
	}
	l.T1, l.T2 = effectiveTimes(l.LeaseTime, time.Duration(j.RenewalTime)*time.Second, time.Duration(j.RebindingTime)*time.Second)
	return nil
}

// seconds returns d in whole seconds for the wire and JSON: 0xffffffff for
// Infinite or more.
func seconds(d time.Duration) uint32 {
	if d >= dhcpv4.Infinite {
		return 0xffffffff
	}
	if d <= 0 {
		return 0
	}
	return uint32(d / time.Second)
}
