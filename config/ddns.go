package config

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"leased/dhcpv4"
)

// DDNS configures dynamic DNS updates (RFC 2136); Config.DDNS is the
// global block, and each Subnet.DDNS the effective block of that subnet
// (the subnet's `ddns:` keys over the global ones, defaults filled in).
//
// Zone names and the qualifying suffix are held in lower case without a
// trailing dot. In a parsed Config, a subnet's ForwardZone is its
// QualifyingSuffix when not given, and its ReverseZone the one derived
// from its prefix (see ReverseZoneOf) when not given; Config.DDNS keeps
// ReverseZone as written, since it is derived per subnet.
type DDNS struct {
	Enabled          bool             // ddns.enabled, default false
	QualifyingSuffix string           // ddns.qualifying-suffix: appended to a bare host name ("example.net")
	ForwardZone      string           // ddns.forward-zone: zone of the A and DHCID records; default QualifyingSuffix
	ReverseZone      string           // ddns.reverse-zone: zone of the PTR records; default derived from the subnet; DDNSNoZone = no PTR
	Servers          []netip.AddrPort // ddns.servers: where updates go ("198.18.0.53" or "198.18.0.53:5353"; port 53 by default); required when enabled
	KeyFile          string           // ddns.key-file: TSIG key file (BIND's or Knot's format); "" = unsigned updates
	KeyName          string           // ddns.key-name: which key of the file; default its only key
	Protocol         string           // ddns.protocol: DDNSProtocolUDP (default; falls back to TCP on truncation) or DDNSProtocolTCP
	Timeout          time.Duration    // ddns.timeout: per attempt, default DefaultDDNSTimeout
	Retries          int              // ddns.retries: attempts per server before backing off, default DefaultDDNSRetries
	ConflictPolicy   string           // ddns.conflict-policy: DDNSCheckWithDHCID (default, RFC 4703) or DDNSNoCheckWithDHCID
	TTL              time.Duration    // ddns.ttl: TTL of the records; 0 (default) = a third of the lease time (RFC 4702 §5)
	// OverrideClientUpdate has the server update the A record even when
	// the client asked to do it (S=0); it answers with O=1.
	OverrideClientUpdate bool // ddns.override-client-update
	// OverrideNoUpdate has the server update even when the client asked
	// for no update (N=1); it answers with O=1.
	OverrideNoUpdate bool          // ddns.override-no-update
	Workers          int           // ddns.workers (global only), default DefaultDDNSWorkers
	Queue            int           // ddns.queue (global only), default DefaultDDNSQueue events
	Rescan           time.Duration // ddns.rescan (global only), default DefaultDDNSRescan
}

// The words of the ddns keys.
const (
	// DDNSNoZone as reverse-zone (or forward-zone) says that no records
	// of that kind are updated.
	DDNSNoZone = "none"
	// DDNSProtocolUDP sends updates over UDP, and again over TCP when
	// the answer comes back truncated; DDNSProtocolTCP always uses TCP.
	DDNSProtocolUDP = "udp"
	DDNSProtocolTCP = "tcp"
	// DDNSCheckWithDHCID resolves name conflicts with DHCID records
	// (RFC 4703 §5); DDNSNoCheckWithDHCID overwrites whatever is there.
	DDNSCheckWithDHCID   = "check-with-dhcid"
	DDNSNoCheckWithDHCID = "no-check-with-dhcid"
)

// DefaultDDNS returns the ddns block of a file that sets none: updates
// off, every other key at its default.
func DefaultDDNS() DDNS {
	return DDNS{
		Protocol:       DDNSProtocolUDP,
		Timeout:        DefaultDDNSTimeout,
		Retries:        DefaultDDNSRetries,
		ConflictPolicy: DDNSCheckWithDHCID,
		Workers:        DefaultDDNSWorkers,
		Queue:          DefaultDDNSQueue,
		Rescan:         DefaultDDNSRescan,
	}
}

// WithDefaults returns dd with its zero Protocol, Timeout, Retries,
// ConflictPolicy, Workers, Queue and Rescan set to their defaults, for a
// DDNS built in Go (a parsed Config holds them already).
func (dd DDNS) WithDefaults() DDNS {
	def := DefaultDDNS()
	if dd.Protocol == "" {
		dd.Protocol = def.Protocol
	}
	if dd.Timeout == 0 {
		dd.Timeout = def.Timeout
	}
	if dd.Retries == 0 {
		dd.Retries = def.Retries
	}
	if dd.ConflictPolicy == "" {
		dd.ConflictPolicy = def.ConflictPolicy
	}
	if dd.Workers == 0 {
		dd.Workers = def.Workers
	}
	if dd.Queue == 0 {
		dd.Queue = def.Queue
	}
	if dd.Rescan == 0 {
		dd.Rescan = def.Rescan
	}
	return dd
}

// ReverseZoneOf returns the in-addr.arpa zone that holds the PTR records
// of prefix p: "0.18.198.in-addr.arpa" for 198.18.0.0/24,
// "18.198.in-addr.arpa" for 198.18.0.0/16. A prefix not on an octet
// boundary gets the zone of the enclosing octet boundary (198.18.0.0/20
// gets "18.198.in-addr.arpa", 198.18.0.128/25 "0.18.198.in-addr.arpa").
func ReverseZoneOf(p netip.Prefix) string {
	if !p.Addr().Is4() {
		return ""
	}
	a := p.Addr().As4()
	octets := min(p.Bits()/8, 3)
	var b strings.Builder
	for i := octets - 1; i >= 0; i-- {
		b.WriteString(strconv.Itoa(int(a[i])))
		b.WriteByte('.')
	}
	b.WriteString("in-addr.arpa")
	return b.String()
}

var (
	ddnsKeys       = []string{"enabled", "qualifying-suffix", "forward-zone", "reverse-zone", "servers", "key-file", "key-name", "protocol", "timeout", "retries", "conflict-policy", "ttl", "override-client-update", "override-no-update", "workers", "queue", "rescan"}
	ddnsGlobalOnly = []string{"workers", "queue", "rescan"}
)

// ddns decodes a ddns section over dd, which holds what applies when a
// key is left out. global says whether it is the top-level section, the
// one place for the keys of ddnsGlobalOnly.
func (d *decoder) ddns(n *yaml.Node, path string, dd *DDNS, global bool) {
	d.mapping(n, path, "a mapping of dynamic DNS settings", ddnsKeys, func(key string, _, v *yaml.Node, p string) {
		if !global && containsString(ddnsGlobalOnly, key) {
			d.errorf(v, p, "applies to the whole server: set it in the top-level ddns section")
			return
		}
		switch key {
		case "enabled":
			if b, ok := d.boolean(v, p); ok {
				dd.Enabled = b
			}
		case "qualifying-suffix":
			if s, ok := d.zone(v, p, false); ok {
				dd.QualifyingSuffix = s
			}
		case "forward-zone":
			if s, ok := d.zone(v, p, true); ok {
				dd.ForwardZone = s
			}
		case "reverse-zone":
			if s, ok := d.zone(v, p, true); ok {
				dd.ReverseZone = s
			}
		case "servers":
			dd.Servers = nil
			d.sequence(v, p, "a list of DNS server addresses such as 198.18.0.53 or 198.18.0.53:5353", func(_ int, item *yaml.Node, ip string) {
				s, ok := d.text(item, ip, "a DNS server address such as 198.18.0.53 or 198.18.0.53:5353")
				if !ok {
					return
				}
				ap, err := ParseDNSServer(s)
				if err != nil {
					d.errorf(item, ip, "%v", err)
					return
				}
				dd.Servers = append(dd.Servers, ap)
			})
		case "key-file":
			if s, ok := d.text(v, p, "a file path"); ok {
				dd.KeyFile = s
			}
		case "key-name":
			if s, ok := d.text(v, p, "a TSIG key name"); ok {
				dd.KeyName = s
			}
		case "protocol":
			if s, ok := d.text(v, p, "udp or tcp"); ok {
				if s != DDNSProtocolUDP && s != DDNSProtocolTCP {
					d.errorf(v, p, "want udp or tcp, got %q", clip(s))
					return
				}
				dd.Protocol = s
			}
		case "conflict-policy":
			if s, ok := d.text(v, p, "check-with-dhcid or no-check-with-dhcid"); ok {
				if s != DDNSCheckWithDHCID && s != DDNSNoCheckWithDHCID {
					d.errorf(v, p, "want check-with-dhcid or no-check-with-dhcid, got %q", clip(s))
					return
				}
				dd.ConflictPolicy = s
			}
		case "override-client-update":
			if b, ok := d.boolean(v, p); ok {
				dd.OverrideClientUpdate = b
			}
		case "override-no-update":
			if b, ok := d.boolean(v, p); ok {
				dd.OverrideNoUpdate = b
			}
		default:
			d.ddnsNumber(key, v, p, dd)
		}
	})
}

// ddnsNumber decodes the numeric keys of a ddns section.
func (d *decoder) ddnsNumber(key string, v *yaml.Node, p string, dd *DDNS) {
	switch key {
	case "timeout":
		if t, ok := d.duration(v, p, false); ok {
			if t <= 0 {
				d.errorf(v, p, "must be positive, got %s", formatDuration(t))
				return
			}
			dd.Timeout = t
		}
	case "ttl":
		if t, ok := d.duration(v, p, false); ok {
			dd.TTL = t
		}
	case "rescan":
		if t, ok := d.duration(v, p, false); ok {
			if t <= 0 {
				d.errorf(v, p, "must be positive, got %s", formatDuration(t))
				return
			}
			dd.Rescan = t
		}
	case "retries":
		if i, ok := d.integer(v, p, "a number of attempts", 1, MaxDDNSRetries); ok {
			dd.Retries = int(i)
		}
	case "workers":
		if i, ok := d.integer(v, p, "a number of workers", 1, MaxDDNSWorkers); ok {
			dd.Workers = int(i)
		}
	case "queue":
		if i, ok := d.integer(v, p, "a number of events", 1, MaxDDNSQueue); ok {
			dd.Queue = int(i)
		}
	}
}

// zone decodes a zone name or qualifying suffix into its held form.
// With none, the word DDNSNoZone is accepted too.
func (d *decoder) zone(n *yaml.Node, path string, none bool) (string, bool) {
	s, ok := d.text(n, path, "a domain name such as example.net")
	if !ok {
		return "", false
	}
	z, err := parseZone(s, none)
	if err != nil {
		d.errorf(n, path, "%v", err)
		return "", false
	}
	return z, true
}

// parseZone returns a domain name in lower case without its trailing dot,
// or an error when it is not one. With none, DDNSNoZone is returned as
// is.
func parseZone(s string, none bool) (string, error) {
	if none && s == DDNSNoZone {
		return s, nil
	}
	z := strings.ToLower(strings.TrimSuffix(s, "."))
	if z == "" || !dhcpv4.ValidHostname(z) {
		return "", &zoneError{s}
	}
	return z, nil
}

type zoneError struct{ name string }

func (e *zoneError) Error() string {
	return strconv.Quote(clip(e.name)) + " is not a domain name (labels of letters, digits, '-' and '_', 1 to 63 characters each, 253 in all)"
}

// ParseDNSServer parses the address of a DNS server, "198.18.0.53" (port
// 53) or "198.18.0.53:5353"; an IPv6 address is written "[2001:db8::53]"
// with a port or bare without one.
func ParseDNSServer(s string) (netip.AddrPort, error) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return netip.AddrPortFrom(a, 53), nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Port() != 0 && ap.Addr().Zone() == "" {
		return ap, nil
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil && a.Zone() == "" && strings.HasPrefix(s, "[") {
		return netip.AddrPortFrom(a, 53), nil
	}
	return netip.AddrPort{}, &serverError{s}
}

type serverError struct{ s string }

func (e *serverError) Error() string {
	return strconv.Quote(clip(e.s)) + " is not a DNS server address such as 198.18.0.53 or 198.18.0.53:5353"
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// effectiveDDNS returns a subnet's effective ddns block: raw, the global
// keys with the subnet's over them as written, with the zones derived
// from the others filled in for prefix p.
func effectiveDDNS(raw DDNS, p netip.Prefix) DDNS {
	dd := fillDDNS(raw)
	if dd.ReverseZone == "" {
		dd.ReverseZone = ReverseZoneOf(p)
	}
	return dd
}

// fillDDNS fills in the forward zone from the qualifying suffix.
func fillDDNS(dd DDNS) DDNS {
	if dd.ForwardZone == "" {
		dd.ForwardZone = dd.QualifyingSuffix
	}
	return dd
}

// ddns checks a ddns block; path is where it is ("ddns" or
// "subnets[0].ddns"). global, when not nil, is the top-level block: a
// subnet's keys that hold the global's value were checked there, and are
// not reported again.
func (v *validator) ddns(path string, dd, global *DDNS) {
	d := dd.WithDefaults()
	dd = &d
	sub := global != nil
	g := &DDNS{}
	if global != nil {
		*g = global.WithDefaults()
	}
	namesOK := true
	for _, z := range []struct {
		key, val, g string
		none        bool
	}{
		{"qualifying-suffix", dd.QualifyingSuffix, g.QualifyingSuffix, false},
		{"forward-zone", dd.ForwardZone, g.ForwardZone, true},
		{"reverse-zone", dd.ReverseZone, g.ReverseZone, true},
	} {
		if z.val == "" || sub && z.val == z.g {
			continue
		}
		if held, err := parseZone(z.val, z.none); err != nil || held != z.val {
			v.add(join(path, z.key), "%q is not a domain name in lower case without a trailing dot", clip(z.val))
			namesOK = false
		}
	}
	if namesOK && dd.QualifyingSuffix != "" && dd.ForwardZone != "" && dd.ForwardZone != DDNSNoZone && !inZone(dd.QualifyingSuffix, dd.ForwardZone) &&
		!(sub && dd.QualifyingSuffix == g.QualifyingSuffix && dd.ForwardZone == g.ForwardZone) {
		v.add(join(path, "qualifying-suffix"), "%s is not inside the forward zone %s: the names it makes could not be updated", dd.QualifyingSuffix, dd.ForwardZone)
	}
	for i, s := range dd.Servers {
		if !s.IsValid() || s.Port() == 0 {
			v.add(join(path, "servers")+"["+strconv.Itoa(i)+"]", "%v is not a DNS server address such as 198.18.0.53 or 198.18.0.53:5353", s)
		}
	}
	if !sub || dd.Protocol != g.Protocol {
		if dd.Protocol != DDNSProtocolUDP && dd.Protocol != DDNSProtocolTCP {
			v.add(join(path, "protocol"), "want udp or tcp, got %q", clip(dd.Protocol))
		}
	}
	if !sub || dd.ConflictPolicy != g.ConflictPolicy {
		if dd.ConflictPolicy != DDNSCheckWithDHCID && dd.ConflictPolicy != DDNSNoCheckWithDHCID {
			v.add(join(path, "conflict-policy"), "want check-with-dhcid or no-check-with-dhcid, got %q", clip(dd.ConflictPolicy))
		}
	}
	if sub {
		v.ddnsNumbers(path, dd, g)
	} else {
		v.ddnsNumbers(path, dd, nil)
	}
	if dd.Enabled && len(dd.Servers) == 0 && !(sub && g.Enabled && len(g.Servers) == 0) {
		v.add(join(path, "servers"), "dynamic DNS updates need at least one server to send them to")
	}
	if dd.Enabled && dd.ForwardZone == "" && !(sub && g.Enabled && g.ForwardZone == "") {
		v.add(join(path, "forward-zone"), "dynamic DNS updates need a forward-zone or a qualifying-suffix")
	}
}

// ddnsNumbers checks the durations and counts of a ddns block; global is
// as for ddns.
func (v *validator) ddnsNumbers(path string, dd, global *DDNS) {
	if global == nil || dd.Timeout != global.Timeout {
		if dd.Timeout <= 0 || dd.Timeout > MaxDDNSTimeout {
			v.add(join(path, "timeout"), "must be positive and at most %s, got %s", formatDuration(MaxDDNSTimeout), formatDuration(dd.Timeout))
		}
	}
	if global == nil || dd.TTL != global.TTL {
		if dd.TTL < 0 || dd.TTL > MaxDDNSTTL || dd.TTL%time.Second != 0 {
			v.add(join(path, "ttl"), "must be a whole number of seconds from 0 to %s, got %s", formatDuration(MaxDDNSTTL), formatDuration(dd.TTL))
		}
	}
	if global == nil || dd.Retries != global.Retries {
		if dd.Retries < 1 || dd.Retries > MaxDDNSRetries {
			v.add(join(path, "retries"), "must be from 1 to %d, got %d", MaxDDNSRetries, dd.Retries)
		}
	}
	if global != nil {
		return
	}
	if dd.Workers < 1 || dd.Workers > MaxDDNSWorkers {
		v.add(join(path, "workers"), "must be from 1 to %d, got %d", MaxDDNSWorkers, dd.Workers)
	}
	if dd.Queue < 1 || dd.Queue > MaxDDNSQueue {
		v.add(join(path, "queue"), "must be from 1 to %d, got %d", MaxDDNSQueue, dd.Queue)
	}
	if dd.Rescan < MinDDNSRescan {
		v.add(join(path, "rescan"), "must be at least %s, got %s", formatDuration(MinDDNSRescan), formatDuration(dd.Rescan))
	}
}

// inZone reports whether name is zone or a name below it; both are held
// forms (lower case, no trailing dot).
func inZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}
