package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"leased/dhcpv4"
	"leased/prefix"
)

// Validate checks that c is a configuration the server can run with, and
// returns every problem it finds as an *Error, joined with errors.Join, or
// nil. Each error names the faulty key by its path in the file format
// ("subnets[0].pools[1]"); errors about options name them by their option
// name ("subnets[0].options.routers"). The rules are:
//
//   - at least one interface, each a valid interface name, none twice;
//   - the server identifier, when set, a usable unicast IPv4 address
//     outside every pool and reservation;
//   - a lease store path; positive offer hold and decline probation;
//   - a store of a known type; a postgres one with a connection string;
//     a commit timeout and pool size within bounds when set;
//   - lease times positive, in whole seconds and at most dhcpv4.Infinite;
//     T1 and T2 positive when set, and T1 < T2 < lease time, where an
//     unset T1 counts as half the lease time and an unset T2 as 7/8 of it
//     (RFC 2131 §4.4.5);
//   - at least one subnet; subnets canonical IPv4 prefixes that do not
//     overlap, each with at least one pool or reservation;
//   - pools in order, inside their subnet, clear of its network and
//     broadcast addresses (for prefixes shorter than /31), apart from
//     each other;
//   - options configurable (not one the server sets itself), each code
//     once per list, at most MaxOptionLen bytes, of the right shape for
//     named options, and routers inside their subnet and outside its
//     pools;
//   - reservations naming their client by exactly one of hardware address
//     and client identifier, each unique in the configuration, with an
//     address inside the subnet, unique, not a router, and outside the
//     pools unless ReservationsInPool is set; a valid host name;
//   - ddns blocks with zone names in held form (lower case, no trailing
//     dot), a qualifying suffix inside the forward zone, a known protocol
//     and conflict policy, times and counts within bounds, and, when
//     enabled, servers and a forward zone (zero fields of a block built
//     in Go count as their defaults, see DDNS.WithDefaults).
//
// Validate does not fill in defaults or inheritance: a Config built in Go
// must hold effective values in its subnets.
func (c *Config) Validate() error {
	errs := c.validate()
	if len(errs) == 0 {
		return nil
	}
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}

// validator collects errors without file or line; Parse adds them.
type validator struct {
	errs []*Error
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &Error{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *Config) validate() []*Error {
	v := &validator{}
	v.interfaces(c.Interfaces)
	if a := c.ServerID; a.IsValid() {
		switch {
		case !a.Is4():
			v.add("server-id", "%v is not an IPv4 address", a)
		case a.IsUnspecified() || a == broadcastAll || a.IsMulticast():
			v.add("server-id", "%v cannot identify a server: use one of its unicast addresses", a)
		}
	}
	switch {
	case c.LeaseStore == "":
		v.add("lease-store", "a directory is required")
	case strings.ContainsRune(c.LeaseStore, 0):
		v.add("lease-store", "%q contains a NUL character", clip(c.LeaseStore))
	}
	v.store(c.Store)
	if c.CommitDelay < 0 || c.CommitDelay > MaxCommitDelay {
		v.add("commit-delay", "must be from 0 to %s, got %s", formatDuration(MaxCommitDelay), formatDuration(c.CommitDelay))
	}
	if c.ReceiveDelay < 0 || c.ReceiveDelay > MaxReceiveDelay {
		v.add("receive-delay", "must be from 0 to %s, got %s", formatDuration(MaxReceiveDelay), formatDuration(c.ReceiveDelay))
	}
	if c.OfferHold <= 0 {
		v.add("offer-hold", "must be positive, got %s", formatDuration(c.OfferHold))
	}
	v.limits(c.RateLimits, c.OfferLimit)
	if c.PoolStartPercent < 0 || c.PoolStartPercent > 99 {
		v.add("pool-start-percent", "must be from 0 to 99, got %d", c.PoolStartPercent)
	}
	if c.DeclineProbation <= 0 {
		v.add("decline-probation", "must be positive, got %s", formatDuration(c.DeclineProbation))
	}
	g := &c.Defaults
	v.times("", g.LeaseTime, g.T1, g.T2, nil)
	v.options("options", g.Options, nil)

	if len(c.Subnets) == 0 {
		v.add("subnets", "at least one subnet is required")
	}
	v.subnetsApart(c.Subnets)
	u := uniqueness{
		addrs: make(map[netip.Addr]string),
		hw:    make(map[string]string),
		cid:   make(map[string]string),
		relay: make(map[string]string),
	}
	for i := range c.Subnets {
		v.subnet(c, i, &u)
		v.ipv6OnlyWait("subnets["+strconv.Itoa(i)+"].ipv6-only-preferred", c.Subnets[i].IPv6OnlyWait)
		v.pingCheck("subnets["+strconv.Itoa(i)+"].ping-check.wait", c.Subnets[i].PingCheck)
		v.ddns("subnets["+strconv.Itoa(i)+"].ddns", &c.Subnets[i].DDNS, &c.DDNS)
	}
	v.sharedNetworks(c)
	v.clientClasses(c)
	v.ddns("ddns", &c.DDNS, nil)
	if a := c.ServerID; a.Is4() {
		for i, s := range c.Subnets {
			if j := poolIndex(s.Pools, a); j >= 0 {
				v.add("server-id", "%v is inside subnets[%d].pools[%d] (%v): the server would lease its own address", a, i, j, s.Pools[j])
			}
		}
		if at, ok := u.addrs[a]; ok {
			v.add("server-id", "%v is also reserved at %s", a, at)
		}
	}
	return v.errs
}

var broadcastAll = netip.AddrFrom4([4]byte{255, 255, 255, 255})

func (v *validator) interfaces(names []string) {
	if len(names) == 0 {
		v.add("interfaces", "at least one interface is required")
	}
	seen := make(map[string]int, len(names))
	for i, name := range names {
		p := "interfaces[" + strconv.Itoa(i) + "]"
		if !validInterfaceName(name) {
			v.add(p, "%q is not an interface name (1 to 15 characters, none of them '/', ':' or white space)", clip(name))
			continue
		}
		if j, dup := seen[name]; dup {
			v.add(p, "%s is already listed at interfaces[%d]", name, j)
			continue
		}
		seen[name] = i
	}
}

// validInterfaceName follows the rules of the Linux kernel for interface
// names (IFNAMSIZ, dev_valid_name), and also refuses control characters.
func validInterfaceName(s string) bool {
	if s == "" || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '/' || c == ':' || c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// times checks a lease time and its T1 and T2 (zero when unset). base is
// the path of the mapping they are in; global, when not nil, holds the
// values a subnet inherits, to say so in messages.
func (v *validator) times(base string, lease, t1, t2 time.Duration, global *SubnetDefaults) {
	leaseP, t1P, t2P := join(base, "lease-time"), join(base, "renewal-time"), join(base, "rebinding-time")
	from := func(val, g time.Duration, key string) string {
		if global != nil && val != 0 && val == g {
			return " (inherited from the global " + key + ")"
		}
		return ""
	}
	ok := true
	switch {
	case lease <= 0:
		v.add(leaseP, "must be positive, got %s", formatDuration(lease))
		ok = false
	case lease > dhcpv4.Infinite:
		v.add(leaseP, "%s is longer than the protocol can carry; write infinite for a lease that never ends", formatDuration(lease))
		ok = false
	case lease%time.Second != 0:
		v.add(leaseP, "%s is not a whole number of seconds", formatDuration(lease))
		ok = false
	}
	for _, t := range []struct {
		val  time.Duration
		path string
	}{{t1, t1P}, {t2, t2P}} {
		switch {
		case t.val < 0:
			v.add(t.path, "must be positive, got %s", formatDuration(t.val))
			ok = false
		case t.val%time.Second != 0:
			v.add(t.path, "%s is not a whole number of seconds", formatDuration(t.val))
			ok = false
		}
	}
	if !ok {
		return
	}
	e1, e2 := t1, t2
	if e1 == 0 {
		e1 = lease / 2
	}
	if e2 == 0 {
		e2 = lease - lease/8
	}
	var leaseFrom string
	if global != nil {
		leaseFrom = from(lease, global.LeaseTime, "lease-time")
	}
	switch {
	case t2 != 0 && t2 >= lease:
		v.add(t2P, "rebinding-time %s%s must be less than lease-time %s%s",
			formatDuration(t2), from(t2, global.t2(), "rebinding-time"), formatDuration(lease), leaseFrom)
	case t1 != 0 && t1 >= e2:
		what := ""
		if t2 == 0 {
			what = " (by default 7/8 of lease-time " + formatDuration(lease) + ")"
		}
		v.add(t1P, "renewal-time %s%s must be less than rebinding-time %s%s",
			formatDuration(t1), from(t1, global.t1(), "renewal-time"), formatDuration(e2), what)
	case t1 == 0 && t2 != 0 && t2 <= e1:
		v.add(t2P, "rebinding-time %s%s must be greater than renewal-time %s (by default half of lease-time %s)",
			formatDuration(t2), from(t2, global.t2(), "rebinding-time"), formatDuration(e1), formatDuration(lease))
	}
}

func (g *SubnetDefaults) t1() time.Duration {
	if g == nil {
		return 0
	}
	return g.T1
}

func (g *SubnetDefaults) t2() time.Duration {
	if g == nil {
		return 0
	}
	return g.T2
}

// formatDuration writes d without trailing zero units: "1h", "1h30m",
// "52m30s"; dhcpv4.Infinite is "infinite".
func formatDuration(d time.Duration) string {
	if d == dhcpv4.Infinite {
		return "infinite"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// options checks one list of options. inherited, for a subnet, holds the
// global options: those the subnet holds unchanged were checked at the
// global level already.
func (v *validator) options(path string, opts []Option, inherited []Option) {
	var seen [256]bool
	for _, o := range opts {
		p := join(path, o.Code.String())
		if seen[o.Code] {
			v.add(p, "set more than once")
			continue
		}
		seen[o.Code] = true
		spec, named := namedOptions[o.Code]
		if named && spec.kind == kindRefused {
			v.add(p, "%s cannot be configured as an option: %s", o.Code, spec.refused)
			continue
		}
		if inherited != nil && sameOption(inherited, o) {
			continue
		}
		if len(o.Value) > MaxOptionLen {
			v.add(p, "value of %d bytes is longer than the %d allowed", len(o.Value), MaxOptionLen)
			continue
		}
		if named {
			if err := spec.checkWire(o.Value); err != nil {
				v.add(p, "%v", err)
			}
		}
	}
}

// span is the address interval of a subnet or pool, for overlap checks.
type span struct {
	first, last uint32
	index       int
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// overlaps returns pairs (earlier, later) of overlapping spans, by index,
// one pair at most for each later span.
func overlaps(spans []span) [][2]int {
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.index, b.index))
	})
	var out [][2]int
	far := 0 // the span reaching furthest among those before i
	for i := 1; i < len(spans); i++ {
		if spans[i].first <= spans[far].last {
			a, b := spans[far].index, spans[i].index
			out = append(out, [2]int{min(a, b), max(a, b)})
		}
		if spans[i].last > spans[far].last {
			far = i
		}
	}
	return out
}

func (v *validator) subnetsApart(subnets []Subnet) {
	var spans []span
	for i, s := range subnets {
		if canonical4(s.Prefix) {
			spans = append(spans, span{u32(s.Prefix.Masked().Addr()), u32(prefix.Last(s.Prefix)), i})
		}
	}
	for _, pair := range overlaps(spans) {
		a, b := subnets[pair[0]], subnets[pair[1]]
		v.add("subnets["+strconv.Itoa(pair[1])+"].prefix", "%v overlaps subnets[%d] (%v)", b.Prefix, pair[0], a.Prefix)
	}
}

func canonical4(p netip.Prefix) bool {
	return p.IsValid() && p.Addr().Is4() && p.Masked() == p
}

// poolIndex returns the index of the pool holding a, or -1.
func poolIndex(pools []Range, a netip.Addr) int {
	for j, r := range pools {
		if r.Contains(a) {
			return j
		}
	}
	return -1
}

// uniqueness records what reservations have used, across subnets: the
// path of the reservation holding each address, hardware address and
// client identifier.
type uniqueness struct {
	addrs map[netip.Addr]string
	hw    map[string]string
	cid   map[string]string
	relay map[string]string
}

func (v *validator) subnet(c *Config, i int, u *uniqueness) {
	s := &c.Subnets[i]
	p := "subnets[" + strconv.Itoa(i) + "]"
	prefixOK := false
	switch {
	case !s.Prefix.IsValid():
		v.add(p+".prefix", "a prefix is required")
	case !s.Prefix.Addr().Is4():
		v.add(p+".prefix", "%v is not an IPv4 prefix", s.Prefix)
	case s.Prefix.Masked() != s.Prefix:
		v.add(p+".prefix", "%v is not a network prefix (did you mean %v?)", s.Prefix, s.Prefix.Masked())
	default:
		prefixOK = true
	}
	g := &c.Defaults
	if s.LeaseTime != g.LeaseTime || s.T1 != g.T1 || s.T2 != g.T2 {
		v.times(p, s.LeaseTime, s.T1, s.T2, g)
	}
	if len(s.Pools) == 0 && len(s.Reservations) == 0 {
		v.add(p, "a subnet needs at least one pool or reservation")
	}

	var network, bcast netip.Addr
	ends := false // whether network and bcast may not be handed out
	if prefixOK {
		network, bcast = s.Prefix.Masked().Addr(), prefix.Last(s.Prefix)
		ends = s.Prefix.Bits() < 31
	}
	var spans []span
	for j, r := range s.Pools {
		pp := p + ".pools[" + strconv.Itoa(j) + "]"
		switch {
		case !r.First.Is4() || !r.Last.Is4():
			v.add(pp, "%v is not an IPv4 address range", r)
		case r.First.Compare(r.Last) > 0:
			v.add(pp, "%v is reversed", r)
		case !prefixOK:
		case !s.Prefix.Contains(r.First) || !s.Prefix.Contains(r.Last):
			v.add(pp, "%v is outside the subnet %v", r, s.Prefix)
		case ends && r.Contains(network):
			v.add(pp, "%v includes the network address %v of the subnet", r, network)
		case ends && r.Contains(bcast):
			v.add(pp, "%v includes the broadcast address %v of the subnet", r, bcast)
		default:
			spans = append(spans, span{u32(r.First), u32(r.Last), j})
		}
	}
	for _, pair := range overlaps(spans) {
		v.add(p+".pools["+strconv.Itoa(pair[1])+"]", "%v overlaps pools[%d] (%v)", s.Pools[pair[1]], pair[0], s.Pools[pair[0]])
	}

	v.options(p+".options", s.Options, g.Options)
	var routers []netip.Addr
	if prefixOK {
		routers = v.routers(p+".options", s.Options, g.Options, s, network, bcast, ends)
	}

	for k, r := range s.Reservations {
		rp := p + ".reservations[" + strconv.Itoa(k) + "]"
		ids := 0
		for _, set := range []bool{len(r.HWAddr) > 0, len(r.ClientID) > 0, !r.Relay.IsZero()} {
			if set {
				ids++
			}
		}
		switch {
		case ids > 1:
			v.add(rp, "set one of hw-address, client-id and relay-match, not several")
		case ids == 0:
			v.add(rp, "a reservation needs hw-address, client-id or relay-match")
		}
		if !r.Relay.IsZero() {
			key := r.Relay.CircuitID + "\x00" + r.Relay.RemoteID
			if at, dup := u.relay[key]; dup {
				v.add(rp+".relay-match", "%v is already reserved at %s", r.Relay, at)
			} else {
				u.relay[key] = rp
			}
		}
		if n := len(r.HWAddr); !hwAddrFits(r.HWAddr) {
			v.add(rp+".hw-address", "%v is %d bytes long and chaddr holds 16 at most: use client-id", r.HWAddr, n)
		} else if n > 0 {
			if at, dup := u.hw[string(r.HWAddr)]; dup {
				v.add(rp+".hw-address", "%v is already reserved at %s", r.HWAddr, at)
			} else {
				u.hw[string(r.HWAddr)] = rp
			}
		}
		if n := len(r.ClientID); n > 0 && !clientIDFits(r.ClientID) {
			v.add(rp+".client-id", "%d bytes long; a client identifier is 2 to 255 bytes (RFC 2132 §9.14)", n)
		} else if n > 0 {
			if at, dup := u.cid[string(r.ClientID)]; dup {
				v.add(rp+".client-id", "%s is already reserved at %s", dhcpv4.FormatHex(r.ClientID), at)
			} else {
				u.cid[string(r.ClientID)] = rp
			}
		}

		a, ap := r.Addr, rp+".address"
		switch {
		case !a.IsValid():
			v.add(ap, "an address is required")
		case !a.Is4():
			v.add(ap, "%v is not an IPv4 address", a)
		case !prefixOK:
		case !s.Prefix.Contains(a):
			v.add(ap, "%v is outside the subnet %v", a, s.Prefix)
		case ReservedAddressConflict(a, s.Prefix, routers) != "":
			v.add(ap, "%v is %s", a, ReservedAddressConflict(a, s.Prefix, routers))
		default:
			if at, dup := u.addrs[a]; dup {
				v.add(ap, "%v is already reserved at %s", a, at)
				break
			}
			u.addrs[a] = rp
			if j := poolIndex(s.Pools, a); j >= 0 && !s.ReservationsInPool {
				v.add(ap, "%v is inside pools[%d] (%v): move it out of the pool, or set reservations-in-pool: true", a, j, s.Pools[j])
			}
		}

		if r.Hostname != "" {
			if err := checkDomainName(r.Hostname); err != nil {
				v.add(rp+".hostname", "%v", err)
			}
			if _, ok := findOption(r.Options, dhcpv4.OptHostName); ok {
				v.add(rp+".options.host-name", "set either hostname or options.host-name, not both")
			}
		}
		v.options(rp+".options", r.Options, nil)
		if prefixOK {
			v.routers(rp+".options", r.Options, nil, s, network, bcast, ends)
		}
	}
}

// hwAddrFits reports whether hw fits the chaddr field of a message: at
// most 16 bytes (RFC 2131 §2).
func hwAddrFits(hw []byte) bool { return len(hw) <= 16 }

// clientIDFits reports whether id has the length of a client identifier:
// 2 to 255 bytes (RFC 2132 §9.14).
func clientIDFits(id []byte) bool { return len(id) >= 2 && len(id) <= 255 }

// CheckRuntimeReservation reports what is wrong with r as a reservation
// added while the server runs (server.Engine.AddReservation), as far as r
// alone tells. The rules are those of a reservation of the file, with the
// same limits and the same host-name rule (dhcpv4.ValidHostname), and
// more: Addr is IPv4; the client is named by HWAddr or ClientID, not both;
// relay agent information and options are for the file only. It returns
// the first problem found, or nil. Whether Addr may be reserved in its
// subnet, and whether the address or the client is reserved already, is
// for the caller, which knows the subnets.
func CheckRuntimeReservation(r *Reservation) error {
	switch {
	case !r.Addr.Is4():
		return errors.New("an IPv4 address is required")
	case len(r.HWAddr) > 0 && len(r.ClientID) > 0:
		return errors.New("name the client by hardware address or by client identifier, not both")
	case len(r.HWAddr) == 0 && len(r.ClientID) == 0:
		return errors.New("a hardware address or a client identifier is required")
	case !hwAddrFits(r.HWAddr):
		return fmt.Errorf("hardware address of %d bytes; chaddr holds 16 at most", len(r.HWAddr))
	case len(r.ClientID) > 0 && !clientIDFits(r.ClientID):
		return fmt.Errorf("client identifier of %d bytes; it is 2 to 255 bytes (RFC 2132 §9.14)", len(r.ClientID))
	case !r.Relay.IsZero():
		return errors.New("reservations by relay agent information are set in the configuration file only")
	case len(r.Options) > 0:
		return errors.New("reservations with options are set in the configuration file only")
	case r.Hostname != "" && !dhcpv4.ValidHostname(r.Hostname):
		return fmt.Errorf("%q is not a valid host name (labels of letters, digits, '-' and '_', 1 to 63 characters each, 253 in all)", r.Hostname)
	}
	return nil
}

// ReservedAddressConflict says why address a, inside subnet p whose
// routers are routers, cannot be reserved for a client: it is the
// subnet's network or broadcast address (for prefixes shorter than /31,
// where those are not host addresses) or the address of one of its
// routers. It returns "" when a is none of these. The configuration file
// and reservations added at run time are held to this one rule.
func ReservedAddressConflict(a netip.Addr, p netip.Prefix, routers []netip.Addr) string {
	switch {
	case p.Bits() < 31 && a == p.Masked().Addr():
		return "the network address of the subnet"
	case p.Bits() < 31 && a == prefix.Last(p):
		return "the broadcast address of the subnet"
	case slices.Contains(routers, a):
		return "the address of a router of the subnet"
	}
	return ""
}

// routers checks the routers option in opts against subnet s and returns
// its addresses. A value that global also holds is said to be inherited.
func (v *validator) routers(path string, opts, global []Option, s *Subnet, network, bcast netip.Addr, ends bool) []netip.Addr {
	o, ok := findOption(opts, dhcpv4.OptRouter)
	if !ok || len(o.Value)%4 != 0 {
		return nil
	}
	p := join(path, "routers")
	from := ""
	if sameOption(global, o) {
		from = " (inherited from the global options)"
	}
	var routers []netip.Addr
	for i := 0; i < len(o.Value); i += 4 {
		a := netip.AddrFrom4([4]byte(o.Value[i : i+4]))
		routers = append(routers, a)
		switch {
		case !s.Prefix.Contains(a):
			v.add(p, "router %v is outside the subnet %v%s", a, s.Prefix, from)
		case ends && a == network:
			v.add(p, "router %v is the network address of the subnet%s", a, from)
		case ends && a == bcast:
			v.add(p, "router %v is the broadcast address of the subnet%s", a, from)
		default:
			if j := poolIndex(s.Pools, a); j >= 0 {
				v.add(p, "router %v is inside pools[%d] (%v): the server would lease the router's address%s", a, j, s.Pools[j], from)
			}
		}
	}
	return routers
}
