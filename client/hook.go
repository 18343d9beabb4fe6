package client

import (
	"net/netip"
	"strconv"
	"strings"
)

// Hook is one run of the hook script: why, and the lease concerned.
type Hook struct {
	Reason Reason
	// Lease is the lease now configured (BOUND, REBOOT, RENEW, REBIND,
	// INFORM) or just removed (EXPIRE, RELEASE, NAK). For a DHCPNAK that
	// came before anything was configured it is nil.
	Lease *Lease
	// Old is the lease that Lease replaces, for RENEW, REBIND and BOUND
	// after a renewal; nil otherwise.
	Old *Lease
}

// Env returns the hook's environment variables as "name=value" strings,
// in a fixed order, for interface iface. Lists are separated by spaces;
// variables without a value are left out. See docs/client.md for the list:
//
//	reason interface ip prefix subnet cidr broadcast routers routes dns
//	domain search ntp mtu hostname server_id lease_time renewal_time
//	rebinding_time start expiry old_ip
//
// Text values (domain, search, hostname) are checked when the lease is
// read from the server: only letters, digits, '-', '_' and dots get here.
func (h Hook) Env(iface string) []string {
	env := []string{"reason=" + string(h.Reason), "interface=" + iface}
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	l := h.Lease
	if l != nil && l.Addr.IsValid() {
		add("ip", l.Addr.Addr().String())
		add("prefix", strconv.Itoa(l.Addr.Bits()))
		add("subnet", maskOf(l.Addr.Bits()).String())
		add("cidr", l.Addr.String())
		if b := l.BroadcastAddr(); b.IsValid() {
			add("broadcast", b.String())
		}
		add("routers", joinAddrs(l.Routers))
		var routes []string
		for _, r := range l.EffectiveRoutes() {
			routes = append(routes, r.Dest.String()+","+r.Router.String())
		}
		add("routes", strings.Join(routes, " "))
		add("dns", joinAddrs(l.DNS))
		add("domain", l.Domain)
		add("search", strings.Join(l.Search, " "))
		add("ntp", joinAddrs(l.NTP))
		if l.MTU > 0 {
			add("mtu", strconv.Itoa(l.MTU))
		}
		add("hostname", l.Hostname)
		if l.ServerID.IsValid() {
			add("server_id", l.ServerID.String())
		}
		if l.LeaseTime > 0 {
			add("lease_time", strconv.FormatUint(uint64(seconds(l.LeaseTime)), 10))
			add("renewal_time", strconv.FormatUint(uint64(seconds(l.T1)), 10))
			add("rebinding_time", strconv.FormatUint(uint64(seconds(l.T2)), 10))
		}
		if !l.Start.IsZero() {
			add("start", strconv.FormatInt(l.Start.Unix(), 10))
		}
		if e := l.Expiry(); !e.IsZero() && l.LeaseTime > 0 {
			add("expiry", strconv.FormatInt(e.Unix(), 10))
		}
	}
	if h.Old != nil && l != nil && h.Old.Addr.Addr() != l.Addr.Addr() {
		add("old_ip", h.Old.Addr.Addr().String())
	}
	return env
}

// maskOf returns the IPv4 netmask of a prefix length.
func maskOf(bits int) netip.Addr {
	v := ^uint32(0) << (32 - bits)
	if bits == 0 {
		v = 0
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func joinAddrs(as []netip.Addr) string {
	var b strings.Builder
	for i, a := range as {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.String())
	}
	return b.String()
}

// ResolvConf returns the contents of a resolv.conf(5) for the lease: a
// comment naming the interface, a search line (the domain search list, or
// else the domain name) and a nameserver line per DNS server. It returns
// nil when the lease has no DNS servers and no domain.
func ResolvConf(iface string, l *Lease) []byte {
	if l == nil || (len(l.DNS) == 0 && l.Domain == "" && len(l.Search) == 0) {
		return nil
	}
	var b strings.Builder
	b.WriteString("# Written by leased client for " + iface + "\n")
	switch {
	case len(l.Search) > 0:
		b.WriteString("search " + strings.Join(l.Search, " ") + "\n")
	case l.Domain != "":
		b.WriteString("search " + l.Domain + "\n")
	}
	for _, a := range l.DNS {
		b.WriteString("nameserver " + a.String() + "\n")
	}
	return []byte(b.String())
}
