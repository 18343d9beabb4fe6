package config

import (
	"net"
	"slices"

	"go.yaml.in/yaml/v3"
)

// config decodes the whole file.
func (d *decoder) config(root *yaml.Node) *Config {
	c := newDefaults()
	var drafts []subnetDraft
	var vendor []Option
	d.optionDefinitions(root)
	d.mapping(root, "", "a mapping of settings", topKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "interfaces":
			d.sequence(v, p, "a list of interface names", func(_ int, item *yaml.Node, ip string) {
				if s, ok := d.text(item, ip, "an interface name"); ok {
					c.Interfaces = append(c.Interfaces, s)
				}
			})
		case "server-id":
			if a, ok := d.addr(v, p); ok {
				c.ServerID = a
			}
		case "lease-store":
			if s, ok := d.text(v, p, "a directory path"); ok {
				c.LeaseStore = s
			}
		case "store":
			d.store(v, p, &c.Store)
		case "hooks":
			d.hooks(v, p, &c.Hooks)
		case "ddns":
			d.ddns(v, p, &c.DDNS, true)
		case "commit-delay":
			if t, ok := d.duration(v, p, false); ok {
				c.CommitDelay = t
			}
		case "receive-delay":
			if t, ok := d.duration(v, p, false); ok {
				c.ReceiveDelay = t
			}
		case "lease-time":
			if t, ok := d.duration(v, p, true); ok {
				c.Defaults.LeaseTime = t
			}
		case "renewal-time":
			if t, ok := d.timer(v, p); ok {
				c.Defaults.T1 = t
			}
		case "rebinding-time":
			if t, ok := d.timer(v, p); ok {
				c.Defaults.T2 = t
			}
		case "offer-hold":
			if t, ok := d.duration(v, p, false); ok {
				c.OfferHold = t
			}
		case "decline-probation":
			if t, ok := d.duration(v, p, false); ok {
				c.DeclineProbation = t
			}
		case "check-release-source":
			if b, ok := d.boolean(v, p); ok {
				c.CheckReleaseSource = b
			}
		case "pool-start-percent":
			if n, ok := d.integer(v, p, "a percentage from 0 to 99", 0, 99); ok {
				c.PoolStartPercent = int(n)
			}
		case "authoritative":
			if b, ok := d.boolean(v, p); ok {
				c.Defaults.Authoritative = b
			}
		case "options":
			c.Defaults.Options = d.options(v, p)
		case "option-definitions":
			// Read first, by optionDefinitions.
		case "vendor-options":
			if o, ok := d.vendorOptions(v, p); ok {
				vendor = append(vendor, o)
			}
		case "shared-networks":
			c.SharedNetworks = d.sharedNetworks(v, p)
		case "rate-limit":
			d.rateLimits(v, p, &c.RateLimits)
		case "offer-limit":
			if pct, ok := d.offerLimit(v, p); ok {
				c.OfferLimit = pct
			}
		case "client-classes":
			c.ClientClasses = d.clientClasses(v, p)
		case "subnets":
			d.sequence(v, p, "a list of subnets", func(_ int, item *yaml.Node, sp string) {
				drafts = append(drafts, d.subnet(item, sp))
			})
		}
	})
	// The global keys may come after the subnets in the file: apply
	// inheritance once everything is read.
	if len(vendor) > 0 {
		c.Defaults.Options = MergeOptions(c.Defaults.Options, vendor)
	}
	for _, dr := range drafts {
		s := dr.s
		if !dr.leaseSet {
			s.LeaseTime = c.Defaults.LeaseTime
		}
		if !dr.t1Set {
			s.T1 = c.Defaults.T1
		}
		if !dr.t2Set {
			s.T2 = c.Defaults.T2
		}
		if !dr.authSet {
			s.Authoritative = c.Defaults.Authoritative
		}
		s.Options = MergeOptions(c.Defaults.Options, MergeOptions(sharedOptions(c.SharedNetworks, s.Prefix), s.Options))
		s.DDNS = c.DDNS
		if dr.ddns != nil {
			d.ddns(dr.ddns, dr.ddnsPath, &s.DDNS, false)
		}
		s.DDNS = effectiveDDNS(s.DDNS, s.Prefix)
		c.Subnets = append(c.Subnets, s)
	}
	c.DDNS = fillDDNS(c.DDNS)
	return c
}

// subnetDraft is a subnet as written, with what it sets itself.
type subnetDraft struct {
	s                               Subnet
	leaseSet, t1Set, t2Set, authSet bool
	vendor                          []Option   // option 125 from vendor-options
	ddns                            *yaml.Node // the subnet's ddns section, read over the global one
	ddnsPath                        string
}

func (d *decoder) subnet(n *yaml.Node, path string) subnetDraft {
	var dr subnetDraft
	s := &dr.s
	d.mapping(n, path, "a subnet (a mapping with prefix, pools, ...)", subnetKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "prefix":
			if pfx, ok := d.prefix(v, p); ok {
				s.Prefix = pfx
			}
		case "pools":
			d.sequence(v, p, "a list of address ranges such as 198.18.0.100-198.18.0.199", func(_ int, item *yaml.Node, ip string) {
				if r, ok := d.pool(item, ip); ok {
					s.Pools = append(s.Pools, r)
				}
			})
		case "lease-time":
			s.LeaseTime, dr.leaseSet = d.duration(v, p, true)
		case "renewal-time":
			s.T1, dr.t1Set = d.timer(v, p)
		case "rebinding-time":
			s.T2, dr.t2Set = d.timer(v, p)
		case "authoritative":
			s.Authoritative, dr.authSet = d.boolean(v, p)
		case "reservations-in-pool":
			s.ReservationsInPool, _ = d.boolean(v, p)
		case "options":
			s.Options = MergeOptions(d.options(v, p), dr.vendor)
		case "vendor-options":
			if o, ok := d.vendorOptions(v, p); ok {
				dr.vendor = []Option{o}
				s.Options = MergeOptions(s.Options, dr.vendor)
			}
		case "ipv6-only-preferred":
			s.IPv6OnlyWait, _ = d.duration(v, p, false)
		case "ping-check":
			s.PingCheck = d.pingCheck(v, p)
		case "reservations":
			d.sequence(v, p, "a list of reservations", func(_ int, item *yaml.Node, rp string) {
				s.Reservations = append(s.Reservations, d.reservation(item, rp))
			})
		case "boot":
			s.Boot = d.boot(v, p)
		case "ddns":
			dr.ddns, dr.ddnsPath = v, p
		}
	})
	return dr
}

// pool decodes one pool: "first-last", or a mapping with range and
// relay-match.
func (d *decoder) pool(item *yaml.Node, path string) (Range, bool) {
	item = resolve(item)
	if item.Kind == yaml.MappingNode {
		var r Range
		var rangeSet bool
		d.mapping(item, path, "a pool (a mapping with range, relay-match, classes, deny-classes, options)", poolKeys, func(key string, _, v *yaml.Node, p string) {
			switch key {
			case "range":
				r2, ok := d.poolRange(v, p)
				if ok {
					r.First, r.Last, rangeSet = r2.First, r2.Last, true
				}
			case "relay-match":
				r.Match = d.relayMatch(v, p)
			case "classes":
				r.Classes = d.classNames(v, p)
			case "deny-classes":
				r.DenyClasses = d.classNames(v, p)
			case "options":
				r.Options = d.options(v, p)
			}
		})
		if !rangeSet {
			d.errorf(item, path, "a pool needs a range")
			return Range{}, false
		}
		return r, true
	}
	return d.poolRange(item, path)
}

func (d *decoder) poolRange(n *yaml.Node, path string) (Range, bool) {
	t, ok := d.text(n, path, "an address range such as 198.18.0.100-198.18.0.199")
	if !ok {
		return Range{}, false
	}
	r, err := ParseRange(t)
	if err != nil {
		d.errorf(n, path, "%v", err)
		return Range{}, false
	}
	return r, true
}

// relayMatch decodes a mapping of circuit-id and remote-id, each text
// (its bytes) or {hex: "..."}.
func (d *decoder) relayMatch(n *yaml.Node, path string) RelayMatch {
	var m RelayMatch
	keys := 0
	ok := d.mapping(n, path, "a relay match (a mapping with circuit-id and/or remote-id)", nil, func(key string, k, v *yaml.Node, p string) {
		keys++
		if !slices.Contains(relayMatchKeys, key) {
			d.errorf(k, p, "unknown key%s", suggest(key, relayMatchKeys))
			return
		}
		b, ok := d.bytesValue(v, p)
		if !ok {
			return
		}
		switch key {
		case "circuit-id":
			m.CircuitID = string(b)
		case "remote-id":
			m.RemoteID = string(b)
		}
	})
	if ok && keys == 0 {
		d.errorf(n, path, "a relay match needs circuit-id or remote-id")
	}
	return m
}

// bytesValue decodes text as its bytes, or {hex: "..."} as hex bytes.
func (d *decoder) bytesValue(n *yaml.Node, path string) ([]byte, bool) {
	n = resolve(n)
	if n.Kind == yaml.MappingNode {
		var out []byte
		ok := false
		d.mapping(n, path, `{hex: "..."}`, []string{"hex"}, func(_ string, _, v *yaml.Node, p string) {
			s, good := d.text(v, p, "hex bytes such as 00:01:0a")
			if !good {
				return
			}
			b, err := parseHex(s)
			if err != nil {
				d.errorf(v, p, "%v", err)
				return
			}
			out, ok = b, true
		})
		return out, ok
	}
	s, ok := d.text(n, path, `text, or {hex: "..."}`)
	if !ok {
		return nil, false
	}
	if s == "" || len(s) > 255 {
		d.errorf(n, path, "must be 1 to 255 bytes long")
		return nil, false
	}
	return []byte(s), true
}

func (d *decoder) reservation(n *yaml.Node, path string) Reservation {
	var r Reservation
	d.mapping(n, path, "a reservation (a mapping with hw-address or client-id, and address)", reservationKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "hw-address":
			s, ok := d.text(v, p, "a hardware address such as 02:00:00:00:00:01")
			if !ok {
				return
			}
			hw, err := net.ParseMAC(s)
			if err != nil {
				d.errorf(v, p, "%q is not a hardware address such as 02:00:00:00:00:01", clip(s))
				return
			}
			r.HWAddr = hw
		case "client-id":
			s, ok := d.text(v, p, "hex bytes such as 01:02:00:00:00:00:01")
			if !ok {
				return
			}
			b, err := parseHex(s)
			if err != nil {
				d.errorf(v, p, "%v", err)
				return
			}
			r.ClientID = b
		case "relay-match":
			r.Relay = d.relayMatch(v, p)
		case "address":
			if a, ok := d.addr(v, p); ok {
				r.Addr = a
			}
		case "hostname":
			if s, ok := d.text(v, p, "a host name"); ok {
				r.Hostname = s
			}
		case "options":
			r.Options = d.options(v, p)
		case "classes":
			r.Classes = d.classNames(v, p)
		case "boot":
			r.Boot = d.boot(v, p)
		}
	})
	return r
}

// options decodes a mapping of option names to values into wire values, in
// increasing code order.
