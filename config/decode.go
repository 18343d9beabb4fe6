package config

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"leased/dhcpv4"
)

// The keys each mapping of the file may hold, in the order of the
// documentation.
var (
	topKeys = []string{
		"interfaces", "server-id", "lease-store", "store", "commit-delay", "receive-delay", "lease-time", "renewal-time",
		"rebinding-time", "offer-hold", "decline-probation", "check-release-source", "pool-start-percent", "authoritative",
		"options", "option-definitions", "vendor-options", "shared-networks", "subnets", "rate-limit", "offer-limit", "client-classes",
		"hooks", "ddns",
	}
	subnetKeys = []string{
		"prefix", "pools", "lease-time", "renewal-time", "rebinding-time",
		"authoritative", "reservations-in-pool", "options", "vendor-options", "ipv6-only-preferred", "ping-check", "reservations", "boot", "ddns",
	}
	reservationKeys = []string{"hw-address", "client-id", "relay-match", "address", "hostname", "options", "classes", "boot"}
	poolKeys        = []string{"range", "relay-match", "classes", "deny-classes", "options"}
	relayMatchKeys  = []string{"circuit-id", "remote-id"}
	routeKeys       = []string{"destination", "router"}
)

// decoder turns a node tree into a Config, collecting errors as it goes and
// the line of every key path it meets.
type decoder struct {
	file  string
	errs  []*Error
	lines map[string]int
	defs  map[string]optionDef // option-definitions, by name
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// line returns the line of path in the file, or of its closest enclosing
// key that is there, or 0.
func (d *decoder) line(path string) int {
	for {
		if l, ok := d.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			path = ""
		} else {
			path = path[:i]
		}
	}
}

func (d *decoder) mark(path string, n *yaml.Node) {
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = n.Line
	}
}

// resolve follows aliases. readYAML has ruled out cycles; the bound on hops
// is a second guard.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.AliasNode ||
		n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe says what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	n = resolve(n)
	if isNull(n) {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!str":
			return fmt.Sprintf("the string %q", clip(n.Value))
		case "!!int":
			return "the integer " + clip(n.Value)
		case "!!float":
			return "the number " + clip(n.Value)
		case "!!bool":
			return "the boolean " + clip(n.Value)
		case "!!timestamp":
			return "the timestamp " + clip(n.Value)
		default:
			return "a value tagged " + clip(tag)
		}
	}
	return "a YAML document"
}

// clip shortens s for a message.
func clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping calls each for every entry of the mapping n, in order. It
// reports a node that is not a mapping, keys that are not plain scalars,
// merge keys, duplicate keys and, when known is not nil, keys not in known.
// A null node is an empty mapping. It returns false when n is not a
// mapping.
func (d *decoder) mapping(n *yaml.Node, path, want string, known []string, each func(key string, k, v *yaml.Node, p string)) bool {
	r := resolve(n)
	if isNull(r) {
		return true
	}
	if r.Kind != yaml.MappingNode {
		d.errorf(n, path, "want %s, got %s", want, describe(r))
		return false
	}
	seen := make(map[string]int, len(r.Content)/2)
	for i := 0; i+1 < len(r.Content); i += 2 {
		korig, v := r.Content[i], r.Content[i+1]
		k := resolve(korig)
		if k == nil || k.Kind != yaml.ScalarNode || isNull(k) {
			d.errorf(korig, path, "keys must be names, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.errorf(korig, path, "merge keys (<<) are not supported; use an alias for the whole value")
			continue
		}
		key := k.Value
		p := join(path, key)
		if first, dup := seen[key]; dup {
			d.errorf(korig, p, "duplicate key (first at line %d)", first)
			continue
		}
		seen[key] = korig.Line
		if known != nil && !slices.Contains(known, key) {
			d.errorf(korig, p, "unknown key%s", suggest(key, known))
			continue
		}
		d.mark(p, korig)
		each(key, korig, v, p)
	}
	return true
}

// sequence calls each for every item of the list n. A null node is an empty
// list. It returns false, after reporting it, when n is not a list.
func (d *decoder) sequence(n *yaml.Node, path, want string, each func(i int, item *yaml.Node, p string)) bool {
	r := resolve(n)
	if isNull(r) {
		return true
	}
	if r.Kind != yaml.SequenceNode {
		hint := ""
		if r.Kind == yaml.ScalarNode {
			hint = fmt.Sprintf(" (write [%s] for a list of one)", clip(r.Value))
		}
		d.errorf(n, path, "want %s, got %s%s", want, describe(r), hint)
		return false
	}
	for i, item := range r.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		d.mark(p, item)
		each(i, item, p)
	}
	return true
}

// text returns the literal text of a scalar. Plain scalars that YAML reads
// as numbers, booleans or timestamps are taken as written, so that a hex
// string of digits or a host name such as "true" reads as text.
func (d *decoder) text(n *yaml.Node, path, want string) (string, bool) {
	r := resolve(n)
	if !isNull(r) && r.Kind == yaml.ScalarNode {
		switch r.ShortTag() {
		case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
			return r.Value, true
		}
	}
	d.errorf(n, path, "want %s, got %s", want, describe(r))
	return "", false
}

// integer returns an integer scalar within lo to hi.
func (d *decoder) integer(n *yaml.Node, path, want string, lo, hi int64) (int64, bool) {
	r := resolve(n)
	if isNull(r) || r.Kind != yaml.ScalarNode || r.ShortTag() != "!!int" {
		d.errorf(n, path, "want %s, got %s", want, describe(r))
		return 0, false
	}
	var v int64
	if err := r.Decode(&v); err != nil || v < lo || v > hi {
		d.errorf(n, path, "%s is out of range %d to %d", clip(r.Value), lo, hi)
		return 0, false
	}
	return v, true
}

// boolean returns a true or false scalar.
func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	r := resolve(n)
	var v bool
	if isNull(r) || r.Kind != yaml.ScalarNode || r.ShortTag() != "!!bool" || r.Decode(&v) != nil {
		d.errorf(n, path, "want true or false, got %s", describe(r))
		return false, false
	}
	return v, true
}

// maxSeconds is the largest number of seconds a time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// duration returns a duration written as a Go duration string ("90s",
// "1h30m") or an integer number of seconds. With infinite set, the word
// "infinite" stands for dhcpv4.Infinite. Signs are kept: Validate says
// which durations must be positive.
func (d *decoder) duration(n *yaml.Node, path string, infinite bool) (time.Duration, bool) {
	r := resolve(n)
	want := "a duration such as 90s, 1h or 3600 (seconds)"
	if infinite {
		want = "a duration such as 90s, 1h or 3600 (seconds), or infinite"
	}
	if !isNull(r) && r.Kind == yaml.ScalarNode {
		switch r.ShortTag() {
		case "!!int":
			s, ok := d.integer(n, path, want, -maxSeconds, maxSeconds)
			return time.Duration(s) * time.Second, ok
		case "!!str":
			if infinite && r.Value == "infinite" {
				return dhcpv4.Infinite, true
			}
			v, err := time.ParseDuration(r.Value)
			if err == nil {
				return v, true
			}
			hint := ""
			if strings.HasSuffix(r.Value, "d") {
				hint = " (there is no d unit: write 24h for a day)"
			}
			d.errorf(n, path, "want %s, got %q%s", want, clip(r.Value), hint)
			return 0, false
		}
	}
	d.errorf(n, path, "want %s, got %s", want, describe(r))
	return 0, false
}

// timer returns a renewal or rebinding time. Zero stands for "not
// configured" in a Config, so an explicit zero is refused here.
func (d *decoder) timer(n *yaml.Node, path string) (time.Duration, bool) {
	t, ok := d.duration(n, path, false)
	if ok && t <= 0 {
		d.errorf(n, path, "must be positive, got %s", formatDuration(t))
		return 0, false
	}
	return t, ok
}

// addr returns an IPv4 address.
func (d *decoder) addr(n *yaml.Node, path string) (netip.Addr, bool) {
	s, ok := d.text(n, path, "an IPv4 address")
	if !ok {
		return netip.Addr{}, false
	}
	a, err := parseAddr4(s)
	if err != nil {
		d.errorf(n, path, "%v", err)
		return netip.Addr{}, false
	}
	return a, true
}

// prefix returns an IPv4 prefix as written, canonical or not.
func (d *decoder) prefix(n *yaml.Node, path string) (netip.Prefix, bool) {
	s, ok := d.text(n, path, "an IPv4 prefix such as 198.18.0.0/24")
	if !ok {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		d.errorf(n, path, "%q is not a prefix such as 198.18.0.0/24", clip(s))
		return netip.Prefix{}, false
	}
	if !p.Addr().Is4() {
		d.errorf(n, path, "%v is not an IPv4 prefix", p)
		return netip.Prefix{}, false
	}
	return p, true
}
