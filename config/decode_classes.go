package config

import (
	"go.yaml.in/yaml/v3"

	"leased/dhcpv4"
)

// The keys of the client-class mappings, in the order of the
// documentation.
var (
	classKeys = []string{"name", "match", "options", "lease-time", "renewal-time", "rebinding-time", "boot", "ignore", "ipv6-only-preferred"}
	bootKeys  = []string{"next-server", "server-name", "file"}
	matchKeys = []string{
		"vendor-class", "vendor-class-prefix", "user-class", "arch", "circuit-id", "remote-id", "subscriber-id",
		"hw-prefix", "interface", "subnet", "hostname", "option", "class", "all-of", "any-of", "not",
	}
)

// maxMatchDepth bounds the nesting of all-of, any-of and not.
const maxMatchDepth = 8

func (d *decoder) clientClasses(n *yaml.Node, path string) []ClientClass {
	var out []ClientClass
	d.sequence(n, path, "a list of client classes", func(_ int, item *yaml.Node, p string) {
		out = append(out, d.clientClass(item, p))
	})
	return out
}

func (d *decoder) clientClass(n *yaml.Node, path string) ClientClass {
	var c ClientClass
	d.mapping(n, path, "a client class (a mapping with name, match, ...)", classKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "name":
			c.Name, _ = d.text(v, p, "a class name such as ip-phones")
		case "match":
			c.Match = d.classMatch(v, p, 0)
		case "options":
			c.Options = d.options(v, p)
		case "lease-time":
			c.LeaseTime, _ = d.duration(v, p, true)
		case "renewal-time":
			c.T1, _ = d.timer(v, p)
		case "rebinding-time":
			c.T2, _ = d.timer(v, p)
		case "boot":
			c.Boot = d.boot(v, p)
		case "ignore":
			c.Ignore, _ = d.boolean(v, p)
		case "ipv6-only-preferred":
			if r := resolve(v); r.Kind == yaml.ScalarNode && r.Value == "off" {
				c.IPv6OnlyOff = true
			} else {
				c.IPv6OnlyWait, _ = d.duration(v, p, false)
			}
		}
	})
	return c
}

// boot decodes a mapping of next-server, server-name and file.
func (d *decoder) boot(n *yaml.Node, path string) Boot {
	var b Boot
	d.mapping(n, path, "a boot mapping (next-server, server-name, file)", bootKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "next-server":
			b.NextServer, _ = d.addr(v, p)
		case "server-name":
			b.ServerName, _ = d.text(v, p, "a server name")
		case "file":
			b.File, _ = d.text(v, p, "a boot file name")
		}
	})
	return b
}

// classMatch decodes a match mapping; several keys in one mapping must
// all match.
func (d *decoder) classMatch(n *yaml.Node, path string, depth int) ClassMatch {
	if depth > maxMatchDepth {
		d.errorf(n, path, "matches nest deeper than %d levels", maxMatchDepth)
		return ClassMatch{}
	}
	var all []ClassMatch
	ok := d.mapping(n, path, "a match (a mapping such as {vendor-class: PXEClient})", matchKeys, func(key string, _, v *yaml.Node, p string) {
		if m, good := d.matchKey(key, v, p, depth); good {
			all = append(all, m)
		}
	})
	switch {
	case !ok:
		return ClassMatch{}
	case isNull(resolve(n)) || len(resolve(n).Content) == 0:
		d.errorf(n, path, "a match needs at least one of %s", joinKeys(matchKeys))
		return ClassMatch{}
	case len(all) == 0:
		return ClassMatch{}
	case len(all) == 1:
		return all[0]
	}
	return ClassMatch{Kind: MatchAllOf, Of: all}
}

func joinKeys(keys []string) string {
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	return s
}

// textKinds are the match keys whose value is text.
var textKinds = map[string]MatchKind{
	"vendor-class": MatchVendorClass, "vendor-class-prefix": MatchVendorClassPrefix, "user-class": MatchUserClass,
	"interface": MatchInterface, "hostname": MatchHostname, "class": MatchClass,
}

// bytesKinds are the match keys whose value is text or {hex: ...}.
var bytesKinds = map[string]MatchKind{"circuit-id": MatchCircuitID, "remote-id": MatchRemoteID, "subscriber-id": MatchSubscriberID}

func (d *decoder) matchKey(key string, v *yaml.Node, p string, depth int) (ClassMatch, bool) {
	if k, ok := textKinds[key]; ok {
		s, good := d.text(v, p, "text")
		return ClassMatch{Kind: k, Text: s}, good
	}
	if k, ok := bytesKinds[key]; ok {
		b, good := d.bytesValue(v, p)
		return ClassMatch{Kind: k, Text: string(b)}, good
	}
	switch key {
	case "arch":
		return d.archMatch(v, p)
	case "hw-prefix":
		s, ok := d.text(v, p, "a hardware address prefix such as 00:1b:21")
		if !ok {
			return ClassMatch{}, false
		}
		hw, err := parseHex(s)
		if err != nil || len(hw) == 0 || len(hw) > 16 {
			d.errorf(v, p, "%q is not a hardware address prefix such as 00:1b:21 (1 to 16 bytes)", clip(s))
			return ClassMatch{}, false
		}
		return ClassMatch{Kind: MatchHWPrefix, Text: string(hw)}, true
	case "subnet":
		pfx, ok := d.prefix(v, p)
		return ClassMatch{Kind: MatchSubnet, Prefix: pfx}, ok
	case "option":
		c, ok := d.integer(v, p, "an option code from 1 to 254", 1, 254)
		return ClassMatch{Kind: MatchOption, Code: dhcpv4.OptionCode(c)}, ok
	case "all-of", "any-of":
		kind := MatchAllOf
		if key == "any-of" {
			kind = MatchAnyOf
		}
		m := ClassMatch{Kind: kind}
		ok := d.sequence(v, p, "a list of matches", func(_ int, item *yaml.Node, ip string) {
			m.Of = append(m.Of, d.classMatch(item, ip, depth+1))
		})
		if ok && len(m.Of) == 0 {
			d.errorf(v, p, "want at least one match")
			ok = false
		}
		return m, ok
	case "not":
		return ClassMatch{Kind: MatchNot, Of: []ClassMatch{d.classMatch(v, p, depth+1)}}, true
	}
	return ClassMatch{}, false
}

// archMatch decodes an architecture type (RFC 4578 §2.1) or a list of them.
func (d *decoder) archMatch(v *yaml.Node, p string) (ClassMatch, bool) {
	m := ClassMatch{Kind: MatchArch}
	want := "an architecture type from 0 to 65535"
	if r := resolve(v); r != nil && r.Kind == yaml.SequenceNode {
		ok := d.sequence(v, p, "a list of architecture types", func(_ int, item *yaml.Node, ip string) {
			if a, good := d.integer(item, ip, want, 0, 65535); good {
				m.Values = append(m.Values, uint16(a))
			}
		})
		if ok && len(m.Values) == 0 {
			d.errorf(v, p, "want at least one architecture type")
			ok = false
		}
		return m, ok
	}
	a, ok := d.integer(v, p, want+", or a list of them", 0, 65535)
	m.Values = append(m.Values, uint16(a))
	return m, ok
}

// classNames decodes a list of class names.
func (d *decoder) classNames(n *yaml.Node, path string) []string {
	var out []string
	d.sequence(n, path, "a list of class names", func(_ int, item *yaml.Node, p string) {
		if s, ok := d.text(item, p, "a class name"); ok {
			out = append(out, s)
		}
	})
	return out
}
