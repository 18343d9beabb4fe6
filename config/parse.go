package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"leased/dhcpv4"
)

// MaxFileSize is the largest configuration file Load reads, in bytes.
const MaxFileSize = 32 << 20

// maxAliasExpansion bounds how many values YAML aliases may add to a
// document when expanded, so that a small file cannot stand for a huge one
// ("billion laughs").
const maxAliasExpansion = 100_000

// The keys each mapping of the file may hold, in the order of the
// documentation.
var (
	topKeys = []string{
		"interfaces", "server-id", "lease-store", "commit-delay", "receive-delay", "lease-time", "renewal-time",
		"rebinding-time", "offer-hold", "decline-probation", "authoritative",
		"options", "subnets",
	}
	subnetKeys = []string{
		"prefix", "pools", "lease-time", "renewal-time", "rebinding-time",
		"authoritative", "reservations-in-pool", "options", "reservations",
	}
	reservationKeys = []string{"hw-address", "client-id", "relay-match", "address", "hostname", "options"}
	poolKeys        = []string{"range", "relay-match"}
	relayMatchKeys  = []string{"circuit-id", "remote-id"}
	routeKeys       = []string{"destination", "router"}
)

// Load reads the configuration file at path and returns it parsed and
// validated, as Parse does. Errors reading the file are returned as they
// come from package os; errors in its content are *Error values naming
// path, joined with errors.Join. Files larger than MaxFileSize are
// refused.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, errors.Join(&Error{File: path, Msg: fmt.Sprintf("file is larger than %d MiB", MaxFileSize>>20)})
	}
	return Parse(path, data)
}

// Parse parses and validates a configuration. name is the file name that
// error messages start with.
//
// On failure, Parse returns a nil Config and every error it found, each an
// *Error, joined with errors.Join in file order (errors about missing keys,
// which have no line, come first). Errors found while decoding values
// (syntax, unknown or duplicate keys, wrong types, malformed values) are
// reported alone; the checks of Validate, which relate values to each
// other, run only once decoding succeeded.
//
// An empty document is an empty configuration, which fails validation for
// want of interfaces and subnets. Only one YAML document is read; a second
// one is an error. Aliases (*name) are expanded, up to a bound; merge keys
// (<<) are not supported.
func Parse(name string, data []byte) (*Config, error) {
	root, perr := readYAML(name, data)
	if perr != nil {
		return nil, errors.Join(perr)
	}
	d := &decoder{file: name, lines: make(map[string]int)}
	c := d.config(root)
	if len(d.errs) > 0 {
		return nil, joinErrors(d.errs)
	}
	errs := c.validate()
	if len(errs) > 0 {
		for _, e := range errs {
			e.File = name
			e.Line = d.line(e.Path)
		}
		return nil, joinErrors(errs)
	}
	return c, nil
}

// joinErrors sorts errs by line, keeping the order of errors on one line,
// and joins them.
func joinErrors(errs []*Error) error {
	slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}

// readYAML parses data into a node tree and returns its root, or nil for an
// empty document.
func readYAML(name string, data []byte) (root *yaml.Node, err *Error) {
	// The YAML parser reports errors by panicking and recovering
	// internally; should a panic ever escape it, a configuration file
	// must still not bring the process down.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{File: name, Msg: fmt.Sprintf("invalid YAML: parser failed: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if e := dec.Decode(&doc); e != nil {
		if e == io.EOF {
			return nil, nil
		}
		return nil, yamlError(name, data, e)
	}
	var extra yaml.Node
	switch e := dec.Decode(&extra); {
	case e == io.EOF:
	case e != nil:
		return nil, yamlError(name, data, e)
	default:
		return nil, &Error{File: name, Line: extra.Line, Msg: "a second YAML document: the configuration is one document"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root = doc.Content[0]
	a := aliasCheck{sizes: make(map[*yaml.Node]int64), active: make(map[*yaml.Node]bool)}
	total := a.size(root)
	switch {
	case a.cycle != nil:
		return nil, &Error{File: name, Line: a.cycle.Line, Msg: fmt.Sprintf("alias *%s refers to a value that contains it", a.cycle.Value)}
	case total-a.nodes > maxAliasExpansion:
		return nil, &Error{File: name, Line: a.first.Line, Msg: fmt.Sprintf("aliases expand the file by more than %d values; write the values out", maxAliasExpansion)}
	}
	return root, nil
}

// yamlParserProblems are the messages of the YAML parser proper, as
// opposed to its scanner. The library reports the line of these counting
// from zero (it adds one for scanner errors only), and leaves out line
// zero, so yamlError adds one, or says line 1.
var yamlParserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"found undefined tag handle",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

// yamlError turns an error of the YAML parser, "yaml: line 3: message",
// into an *Error. Errors at the end of the input are put on the last line
// of data rather than on the line after it.
func yamlError(name string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if slices.Contains(yamlParserProblems, msg) {
		line = 1
	}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, after
				if slices.Contains(yamlParserProblems, msg) {
					line++
				}
			}
		}
	}
	last := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		last++
	}
	if line > last && last > 0 {
		line = last
	}
	return &Error{File: name, Line: line, Msg: "invalid YAML: " + msg}
}

// aliasCheck measures a node tree as if its aliases were expanded, and
// finds aliases that refer to a value containing them.
type aliasCheck struct {
	sizes  map[*yaml.Node]int64 // expanded size of anchored nodes measured
	active map[*yaml.Node]bool  // anchored nodes being measured
	nodes  int64                // distinct nodes
	first  *yaml.Node           // the first alias
	cycle  *yaml.Node           // an alias inside the value it refers to
}

func (a *aliasCheck) size(n *yaml.Node) int64 {
	const limit = 1 << 40
	if n == nil || a.cycle != nil {
		return 0
	}
	if n.Kind == yaml.AliasNode {
		if a.first == nil {
			a.first = n
		}
		if a.active[n.Alias] {
			a.cycle = n
			return 0
		}
		return a.size(n.Alias)
	}
	if n.Anchor != "" {
		if s, ok := a.sizes[n]; ok {
			return s
		}
		a.active[n] = true
		defer delete(a.active, n)
	}
	a.nodes++
	s := int64(1)
	for _, c := range n.Content {
		s = min(s+a.size(c), limit)
	}
	if n.Anchor != "" {
		a.sizes[n] = s
	}
	return s
}

// decoder turns a node tree into a Config, collecting errors as it goes and
// the line of every key path it meets.
type decoder struct {
	file  string
	errs  []*Error
	lines map[string]int
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

// config decodes the whole file.
func (d *decoder) config(root *yaml.Node) *Config {
	c := &Config{
		LeaseStore:       DefaultLeaseStore,
		CommitDelay:      DefaultCommitDelay,
		ReceiveDelay:     DefaultReceiveDelay,
		OfferHold:        DefaultOfferHold,
		DeclineProbation: DefaultDeclineProbation,
		Defaults:         SubnetDefaults{LeaseTime: DefaultLeaseTime},
	}
	var drafts []subnetDraft
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
		case "authoritative":
			if b, ok := d.boolean(v, p); ok {
				c.Defaults.Authoritative = b
			}
		case "options":
			c.Defaults.Options = d.options(v, p)
		case "subnets":
			d.sequence(v, p, "a list of subnets", func(_ int, item *yaml.Node, sp string) {
				drafts = append(drafts, d.subnet(item, sp))
			})
		}
	})
	// The global keys may come after the subnets in the file: apply
	// inheritance once everything is read.
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
		s.Options = MergeOptions(c.Defaults.Options, s.Options)
		c.Subnets = append(c.Subnets, s)
	}
	return c
}

// subnetDraft is a subnet as written, with what it sets itself.
type subnetDraft struct {
	s                               Subnet
	leaseSet, t1Set, t2Set, authSet bool
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
			s.Options = d.options(v, p)
		case "reservations":
			d.sequence(v, p, "a list of reservations", func(_ int, item *yaml.Node, rp string) {
				s.Reservations = append(s.Reservations, d.reservation(item, rp))
			})
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
		d.mapping(item, path, "a pool (a mapping with range and relay-match)", poolKeys, func(key string, _, v *yaml.Node, p string) {
			switch key {
			case "range":
				r2, ok := d.poolRange(v, p)
				if ok {
					r.First, r.Last, rangeSet = r2.First, r2.Last, true
				}
			case "relay-match":
				r.Match = d.relayMatch(v, p)
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
		}
	})
	return r
}

// options decodes a mapping of option names to values into wire values, in
// increasing code order.
func (d *decoder) options(n *yaml.Node, path string) []Option {
	var opts []Option
	d.mapping(n, path, "a mapping of option names to values", nil, func(name string, k, v *yaml.Node, p string) {
		code, ok := dhcpv4.OptionCodeByName(name)
		canonical := "option-" + strconv.Itoa(int(code))
		switch {
		case !ok && strings.HasPrefix(name, "option-"):
			if n, err := strconv.ParseUint(name[len("option-"):], 10, 8); err == nil {
				d.errorf(k, p, "unknown option (did you mean option-%d?)", n)
			} else {
				d.errorf(k, p, "unknown option: codes go from 1 to 254")
			}
			return
		case !ok:
			d.errorf(k, p, "unknown option%s", suggest(name, optionNames()))
			return
		case strings.HasPrefix(name, "option-") && name != canonical:
			d.errorf(k, p, "unknown option (did you mean %s?)", canonical)
			return
		}
		spec, known := namedOptions[code]
		switch {
		case known && spec.kind == kindRefused:
			d.errorf(k, p, "%s cannot be configured as an option: %s", code, spec.refused)
			return
		case code.String() != canonical && name != code.String():
			d.errorf(k, p, "%s is %s: write it by name", name, code)
			return
		}
		var val []byte
		if known {
			val, ok = d.optionValue(spec.kind, v, p)
		} else {
			val, ok = d.typedValue(v, p)
		}
		if ok {
			opts = append(opts, Option{Code: code, Value: val})
		}
	})
	slices.SortFunc(opts, func(a, b Option) int { return cmp.Compare(a.Code, b.Code) })
	return opts
}

// typedValue decodes the value of an option given by code: a mapping with
// one key that says the type ({ip: 198.18.0.9}, {hex: 0a0b}).
func (d *decoder) typedValue(n *yaml.Node, path string) ([]byte, bool) {
	want := "a typed value such as {hex: 0a0b0c} or {ip: 198.18.0.9}"
	if r := resolve(n); isNull(r) || r.Kind == yaml.MappingNode && len(r.Content) != 2 {
		d.errorf(n, path, "want exactly one type: %s", strings.Join(typedKeys, ", "))
		return nil, false
	}
	var (
		val []byte
		ok  bool
	)
	good := d.mapping(n, path, want, typedKeys, func(key string, _, v *yaml.Node, p string) {
		kind := typedKinds[key]
		val, ok = d.optionValue(kind, v, p)
		if !ok {
			return
		}
		// Named options are checked by Validate, which knows their
		// kind; a typed value has its type checked here. An empty hex
		// value is a valid zero-length option.
		if kind != kindHex {
			if err := (optionSpec{kind: kind}).checkWire(val); err != nil {
				d.errorf(v, p, "%v", err)
				ok = false
			}
		}
	})
	return val, good && ok
}

// optionValue decodes a value of kind k into wire format.
func (d *decoder) optionValue(k valueKind, n *yaml.Node, path string) ([]byte, bool) {
	switch k {
	case kindAddr, kindMask:
		a, ok := d.addr(n, path)
		return a.AsSlice(), ok
	case kindAddrs:
		var b []byte
		ok := d.sequence(n, path, k.want(), func(_ int, item *yaml.Node, p string) {
			if a, good := d.addr(item, p); good {
				b = append(b, a.AsSlice()...)
			}
		})
		if ok && isNull(resolve(n)) {
			d.errorf(n, path, "want %s, got nothing", k.want())
			ok = false
		}
		return b, ok
	case kindText, kindDomain:
		s, ok := d.text(n, path, k.want())
		return []byte(s), ok
	case kindHex:
		s, ok := d.text(n, path, k.want())
		if !ok {
			return nil, false
		}
		b, err := parseHex(s)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return nil, false
		}
		return b, true
	case kindDomainList:
		var names []string
		good := true
		ok := d.sequence(n, path, k.want(), func(_ int, item *yaml.Node, p string) {
			s, ok := d.text(item, p, "a domain name")
			if ok {
				if err := checkDomainName(s); err != nil {
					d.errorf(item, p, "%v", err)
					ok = false
				}
			}
			good = good && ok
			names = append(names, s)
		})
		if !ok || !good {
			return nil, false
		}
		b, err := dhcpv4.AppendDomainList(nil, names)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return nil, false
		}
		return b, true
	case kindClasslessRoutes, kindStaticRoutes:
		var routes []dhcpv4.Route
		good := true
		ok := d.sequence(n, path, k.want(), func(_ int, item *yaml.Node, p string) {
			r, ok := d.route(item, p, k == kindClasslessRoutes)
			good = good && ok
			routes = append(routes, r)
		})
		if !ok || !good {
			return nil, false
		}
		if k == kindStaticRoutes {
			b := make([]byte, 0, 8*len(routes))
			for _, r := range routes {
				b = append(b, r.Dest.Addr().AsSlice()...)
				b = append(b, r.Router.AsSlice()...)
			}
			return b, true
		}
		b, err := dhcpv4.AppendClasslessRoutes(nil, routes)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return nil, false
		}
		return b, true
	case kindUint8:
		v, ok := d.integer(n, path, k.want(), 0, math.MaxUint8)
		return []byte{byte(v)}, ok
	case kindUint16:
		v, ok := d.integer(n, path, k.want(), 0, math.MaxUint16)
		return []byte{byte(v >> 8), byte(v)}, ok
	case kindUint32:
		v, ok := d.integer(n, path, k.want(), 0, math.MaxUint32)
		return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}, ok
	case kindInt32:
		var v int64
		if r := resolve(n); !isNull(r) && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!int" {
			s, ok := d.integer(n, path, k.want(), math.MinInt32, math.MaxInt32)
			if !ok {
				return nil, false
			}
			v = s
		} else {
			t, ok := d.duration(n, path, false)
			if !ok {
				return nil, false
			}
			if t%time.Second != 0 || t < math.MinInt32*time.Second || t > math.MaxInt32*time.Second {
				d.errorf(n, path, "%v is not a whole number of seconds within ±%d", t, math.MaxInt32)
				return nil, false
			}
			v = int64(t / time.Second)
		}
		u := uint32(int32(v))
		return []byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}, true
	case kindBool:
		v, ok := d.boolean(n, path)
		if v {
			return []byte{1}, ok
		}
		return []byte{0}, ok
	}
	d.errorf(n, path, "this option cannot be configured")
	return nil, false
}

// route decodes one route, written as a mapping {destination, router} or
// as "destination via router". Classless routes have a prefix as their
// destination; static routes (option 33) an address, returned as a /32.
func (d *decoder) route(n *yaml.Node, path string, classless bool) (dhcpv4.Route, bool) {
	var (
		r          dhcpv4.Route
		dest, gw   *yaml.Node
		dPath, gwP string
	)
	if rn := resolve(n); !isNull(rn) && rn.Kind == yaml.ScalarNode {
		s, _ := d.text(n, path, "")
		f := strings.Fields(s)
		if len(f) != 3 || f[1] != "via" {
			d.errorf(n, path, "%q is not a route such as \"198.19.0.0/16 via 198.18.0.1\"", clip(s))
			return r, false
		}
		return d.routeEnds(n, path, f[0], n, path, f[2], classless)
	}
	want := "a route such as {destination: 198.19.0.0/16, router: 198.18.0.1}"
	if !classless {
		want = "a route such as {destination: 198.19.0.1, router: 198.18.0.1}"
	}
	good := d.mapping(n, path, want, routeKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "destination":
			dest, dPath = v, p
		case "router":
			gw, gwP = v, p
		}
	})
	if !good {
		return r, false
	}
	if dest == nil || gw == nil {
		d.errorf(n, path, "want both destination and router")
		return r, false
	}
	ds, ok1 := d.text(dest, dPath, "a destination")
	gs, ok2 := d.text(gw, gwP, "a router address")
	if !ok1 || !ok2 {
		return r, false
	}
	return d.routeEnds(dest, dPath, ds, gw, gwP, gs, classless)
}

func (d *decoder) routeEnds(dn *yaml.Node, dPath, ds string, gn *yaml.Node, gPath, gs string, classless bool) (dhcpv4.Route, bool) {
	var r dhcpv4.Route
	ok := true
	if classless {
		p, err := netip.ParsePrefix(ds)
		switch {
		case err != nil || !p.Addr().Is4():
			d.errorf(dn, dPath, "%q is not an IPv4 prefix such as 198.19.0.0/16", clip(ds))
			ok = false
		case p.Masked() != p:
			d.errorf(dn, dPath, "%v is not a network prefix (did you mean %v?)", p, p.Masked())
			ok = false
		}
		r.Dest = p
	} else {
		a, err := parseAddr4(ds)
		if err != nil {
			d.errorf(dn, dPath, "%v", err)
			ok = false
		}
		r.Dest = netip.PrefixFrom(a, 32)
	}
	g, err := parseAddr4(gs)
	if err != nil {
		d.errorf(gn, gPath, "%v", err)
		ok = false
	}
	r.Router = g
	return r, ok
}

// suggest returns " (did you mean X?)" for the known name closest to key,
// or "" when none is close.
func suggest(key string, known []string) string {
	if len(key) > 64 {
		return ""
	}
	norm := strings.ToLower(strings.ReplaceAll(key, "_", "-"))
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(norm, k); dist < bestDist && dist < len(norm) {
			best, bestDist = k, dist
		}
	}
	if best == "" && len(norm) >= 3 {
		for _, k := range known {
			if strings.HasPrefix(k, norm) {
				best = k
				break
			}
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
