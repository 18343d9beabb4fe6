package config

import (
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"leased/dhcpv4"
)

// SharedNetwork is a set of subnets on one link, such as a primary and a
// secondary range on one VLAN. The engine selects a subnet as ever (the
// relay's, the link selection's, the arrival interface's) and, when that
// one has no address to offer, offers from the others in the order
// given; a client holding an address in any of them is served on the
// same link.
type SharedNetwork struct {
	// Name names the shared network in messages: lower-case letters,
	// digits and '-'.
	Name string

	// Subnets are the prefixes of subnets in Config.Subnets, at least
	// one, in the order addresses are offered from.
	Subnets []netip.Prefix

	// Options are the shared network's own options, for reference:
	// parsing merges them into each member subnet's effective options,
	// over the global ones and under the subnet's own.
	Options []Option
}

// OptIPv6OnlyPreferred is option 108, IPv6-only preferred (RFC 8925 §3.1).
const OptIPv6OnlyPreferred dhcpv4.OptionCode = 108

// OptSubnetSelection is option 118, subnet selection (RFC 3011 §3): a
// client or relay names the subnet to be served from; the server echoes
// it.
const OptSubnetSelection dhcpv4.OptionCode = 118

// MinIPv6OnlyWait is MIN_V6ONLY_WAIT (RFC 8925 §3.4): a client waits at
// least this long whatever the server says, so a shorter configured wait
// would mislead the operator.
const MinIPv6OnlyWait = 300 * time.Second

var (
	sharedNetworkKeys = []string{"name", "subnets", "options", "vendor-options"}
	sharedNetworkName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// sharedNetworks decodes the shared-networks list.
func (d *decoder) sharedNetworks(n *yaml.Node, path string) []SharedNetwork {
	var out []SharedNetwork
	d.sequence(n, path, "a list of shared networks", func(_ int, item *yaml.Node, p string) {
		var sn SharedNetwork
		var vendor []Option
		d.mapping(item, p, "a shared network (a mapping with name and subnets)", sharedNetworkKeys, func(key string, _, v *yaml.Node, kp string) {
			switch key {
			case "name":
				if s, ok := d.text(v, kp, "a name"); ok {
					sn.Name = s
				}
			case "subnets":
				d.sequence(v, kp, "a list of subnet prefixes", func(_ int, item *yaml.Node, ip string) {
					if pfx, ok := d.prefix(item, ip); ok {
						sn.Subnets = append(sn.Subnets, pfx)
					}
				})
			case "options":
				sn.Options = MergeOptions(d.options(v, kp), vendor)
			case "vendor-options":
				if o, ok := d.vendorOptions(v, kp); ok {
					vendor = []Option{o}
					sn.Options = MergeOptions(sn.Options, vendor)
				}
			}
		})
		out = append(out, sn)
	})
	return out
}

// sharedOptions returns the options of the shared network that holds the
// subnet p, or nil.
func sharedOptions(nets []SharedNetwork, p netip.Prefix) []Option {
	for _, sn := range nets {
		for _, q := range sn.Subnets {
			if q.Masked() == p.Masked() {
				return sn.Options
			}
		}
	}
	return nil
}

// sharedNetworks checks the shared networks of c: names, members that
// are subnets, each in one network at most.
func (v *validator) sharedNetworks(c *Config) {
	names := make(map[string]bool)
	member := make(map[netip.Prefix]string)
	for i, sn := range c.SharedNetworks {
		p := "shared-networks[" + strconv.Itoa(i) + "]"
		switch {
		case !sharedNetworkName.MatchString(sn.Name):
			v.add(p+".name", "%q is not a name of lower-case letters, digits and '-'", clip(sn.Name))
		case names[sn.Name]:
			v.add(p+".name", "%s is already the name of a shared network", sn.Name)
		}
		names[sn.Name] = true
		if len(sn.Subnets) == 0 {
			v.add(p+".subnets", "a shared network needs at least one subnet")
		}
		for j, pfx := range sn.Subnets {
			sp := p + ".subnets[" + strconv.Itoa(j) + "]"
			if !subnetExists(c.Subnets, pfx) {
				v.add(sp, "%v is not the prefix of a subnet under subnets", pfx)
				continue
			}
			if other, dup := member[pfx]; dup {
				v.add(sp, "%v is already in shared network %s", pfx, other)
				continue
			}
			member[pfx] = sn.Name
		}
		v.options(p+".options", sn.Options, c.Defaults.Options)
	}
}

func subnetExists(subnets []Subnet, p netip.Prefix) bool {
	for _, s := range subnets {
		if s.Prefix == p {
			return true
		}
	}
	return false
}

// ipv6OnlyWait checks a subnet's IPv6-only preferred wait.
func (v *validator) ipv6OnlyWait(path string, w time.Duration) {
	switch {
	case w == 0:
	case w < MinIPv6OnlyWait:
		v.add(path, "must be at least %s (MIN_V6ONLY_WAIT, RFC 8925 §3.4), got %s", formatDuration(MinIPv6OnlyWait), formatDuration(w))
	case w%time.Second != 0 || w > math.MaxUint32*time.Second:
		v.add(path, "must be a whole number of seconds up to %d, got %s", uint32(math.MaxUint32), formatDuration(w))
	}
}

// pingCheck decodes a subnet's ping-check: a mapping with wait, which
// defaults to DefaultPingWait; an empty mapping turns it on.
func (d *decoder) pingCheck(n *yaml.Node, path string) time.Duration {
	wait := DefaultPingWait
	d.mapping(n, path, "a mapping such as {wait: 300ms}", []string{"wait"}, func(_ string, _, v *yaml.Node, p string) {
		if t, ok := d.duration(v, p, false); ok {
			wait = t
		}
	})
	return wait
}

// pingCheck checks a subnet's ping-check wait.
func (v *validator) pingCheck(path string, w time.Duration) {
	if w != 0 && (w < time.Millisecond || w > MaxPingWait) {
		v.add(path, "must be from 1ms to %s, got %s", formatDuration(MaxPingWait), formatDuration(w))
	}
}
