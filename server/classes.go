package server

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"leased/config"
	"leased/dhcpv4"
)

// Client classes (config.ClientClass): each request is classified once,
// after its subnet is chosen, into a classSet, a fixed-size bit set of the
// classes it matched, which the rest of the request reads: whether to
// answer at all, which pools it may draw from, its options, lease times
// and boot fields. Matchers are compiled when the engine is built, so that
// classifying allocates nothing.

// classSet is a set of class indexes, up to config.MaxClientClasses.
type classSet [config.MaxClientClasses / 64]uint64

func (c *classSet) add(i int)     { c[i>>6] |= 1 << (i & 63) }
func (c classSet) has(i int) bool { return c[i>>6]&(1<<(i&63)) != 0 }
func (c classSet) isEmpty() bool  { return c == classSet{} }
func (c classSet) union(o classSet) classSet {
	for i := range c {
		c[i] |= o[i]
	}
	return c
}

// with returns c with the classes of the reservation res, if any.
func (c classSet) with(res *reservation) classSet {
	if res == nil {
		return c
	}
	return c.union(res.classes)
}

// intersects reports whether c and o share a class.
func (c classSet) intersects(o classSet) bool {
	for i := range c {
		if c[i]&o[i] != 0 {
			return true
		}
	}
	return false
}

// each calls fn for every class in c, in increasing index (file) order.
func (c classSet) each(fn func(i int)) {
	for w, word := range c {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			fn(w*64 + b)
			word &^= 1 << b
		}
	}
}

// Classes is a set of client classes of an engine, as an Outcome reports
// the classes a request matched: a fixed-size bit set and the engine's
// class table, which never changes, to name them by. The zero value is
// the empty set. It holds no pointer into a request, and copying it or
// naming its classes allocates nothing.
type Classes struct {
	set   classSet
	table *classTable
}

// IsEmpty reports whether c holds no class.
func (c Classes) IsEmpty() bool { return c.table == nil || c.set.isEmpty() }

// Len returns the number of classes in c.
func (c Classes) Len() int {
	n := 0
	c.Each(func(string) { n++ })
	return n
}

// Has reports whether c holds the class named name.
func (c Classes) Has(name string) bool {
	if c.table == nil {
		return false
	}
	i, ok := c.table.byName[name]
	return ok && c.set.has(i)
}

// Each calls fn with the name of every class in c, in the order of the
// configuration file.
func (c Classes) Each(fn func(name string)) {
	if c.table == nil {
		return
	}
	t := c.table
	c.set.each(func(i int) {
		if i < len(t.list) {
			fn(t.list[i].name)
		}
	})
}

// Names returns the names of the classes in c, in the order of the
// configuration file; nil when c is empty. It allocates: it is meant
// for display, not for the request path.
func (c Classes) Names() []string { return c.table.names(c.set) }

// String returns the names of the classes in c separated by commas.
func (c Classes) String() string { return strings.Join(c.Names(), ",") }

// setClasses records cls as the classes of the request out is about.
func (e *Engine) setClasses(out *Outcome, cls classSet) {
	if len(e.classes.list) > 0 {
		out.Classes = Classes{set: cls, table: e.classes}
	}
}

// class is one compiled client class.
type class struct {
	name     string
	match    matcher
	opts     []config.Option
	optIndex [256]uint8 // index+1 into opts, 0 = absent
	lease    time.Duration
	t1, t2   time.Duration
	boot     config.Boot
	v6Only   time.Duration // IPv6-only preferred wait; 0 with v6Off
	v6Off    bool
}

// classTable is the engine's client classes, immutable once built.
type classTable struct {
	list   []class
	byName map[string]int
	ignore classSet // the classes whose clients get no answer
	timed  classSet // the classes that set a lease, renewal or rebinding time
	booted classSet // the classes that set a boot field
	v6     classSet // the classes that set ipv6-only-preferred (a wait or off)
}

func newClassTable(cfg []config.ClientClass) *classTable {
	t := &classTable{byName: make(map[string]int, len(cfg))}
	for i := range cfg {
		c := &cfg[i]
		if i >= config.MaxClientClasses {
			break // Validate refuses it
		}
		cl := class{name: c.Name, opts: c.Options, lease: c.LeaseTime, t1: c.T1, t2: c.T2, boot: c.Boot,
			v6Only: c.IPv6OnlyWait, v6Off: c.IPv6OnlyOff}
		cl.match = t.compile(&c.Match, i)
		for j, o := range c.Options {
			if j < 255 {
				cl.optIndex[o.Code] = uint8(j + 1)
			}
		}
		if c.Ignore {
			t.ignore.add(i)
		}
		if c.LeaseTime > 0 || c.T1 > 0 || c.T2 > 0 {
			t.timed.add(i)
		}
		if !c.Boot.IsZero() {
			t.booted.add(i)
		}
		if c.IPv6OnlyWait > 0 || c.IPv6OnlyOff {
			t.v6.add(i)
		}
		t.list = append(t.list, cl)
		if _, dup := t.byName[c.Name]; !dup {
			t.byName[c.Name] = i
		}
	}
	return t
}

// set returns the set of the named classes; unknown names are left out
// (Validate refuses them).
func (t *classTable) set(names []string) classSet {
	var s classSet
	for _, n := range names {
		if i, ok := t.byName[n]; ok {
			s.add(i)
		}
	}
	return s
}

// reservable returns the set of the named classes for a reservation
// added at run time; the error names a class that is not configured, or
// one that ignores its clients, as the configuration file's rule for its
// reservations.
func (t *classTable) reservable(names []string) (classSet, error) {
	var s classSet
	for _, n := range names {
		i, ok := -1, false
		if t != nil {
			i, ok = t.byName[n]
		}
		switch {
		case !ok:
			return classSet{}, fmt.Errorf("unknown class %q", n)
		case t.ignore.has(i):
			return classSet{}, fmt.Errorf("class %s ignores its clients: a reservation cannot be in it", n)
		}
		s.add(i)
	}
	return s, nil
}

// names returns the names of the classes in s, in file order; nil when
// s is empty.
func (t *classTable) names(s classSet) []string {
	if t == nil || s.isEmpty() {
		return nil
	}
	var out []string
	s.each(func(i int) {
		if i < len(t.list) {
			out = append(out, t.list[i].name)
		}
	})
	return out
}

// classify returns the classes req matches, served from s (nil when no
// subnet is chosen), having arrived as in.
func (t *classTable) classify(req *dhcpv4.Packet, in *Arrival, s *subnet) classSet {
	var set classSet
	if len(t.list) == 0 {
		return set
	}
	q := query{req: req, in: in, s: s}
	for i := range t.list {
		if t.list[i].match.matches(&q, &set) {
			set.add(i)
		}
	}
	return set
}

// matcher is a compiled config.ClassMatch.
type matcher struct {
	kind   config.MatchKind
	text   string
	values []uint16
	code   dhcpv4.OptionCode
	prefix netip.Prefix
	ref    int // MatchClass: the index of the class named
	of     []matcher
}

func (t *classTable) compile(m *config.ClassMatch, self int) matcher {
	c := matcher{kind: m.Kind, text: m.Text, values: m.Values, code: m.Code, prefix: m.Prefix.Masked(), ref: -1}
	if m.Kind == config.MatchClass {
		if i, ok := t.byName[m.Text]; ok && i < self {
			c.ref = i
		}
	}
	for i := range m.Of {
		c.of = append(c.of, t.compile(&m.Of[i], self))
	}
	return c
}

// query is what a matcher looks at.
type query struct {
	req *dhcpv4.Packet
	in  *Arrival
	s   *subnet
}

// matches reports whether the request matches m; set holds the classes
// matched so far (those defined earlier).
func (m *matcher) matches(q *query, set *classSet) bool {
	o := &q.req.Options
	switch m.kind {
	case config.MatchVendorClass:
		v, ok := o.Get(dhcpv4.OptVendorClass)
		return ok && string(v) == m.text
	case config.MatchVendorClassPrefix:
		v, ok := o.Get(dhcpv4.OptVendorClass)
		return ok && len(v) >= len(m.text) && string(v[:len(m.text)]) == m.text
	case config.MatchUserClass:
		v, ok := o.Get(dhcpv4.OptUserClass)
		return ok && userClassHas(v, m.text)
	case config.MatchArch:
		v, ok := o.Get(dhcpv4.OptionCode(93))
		return ok && archHas(v, m.values)
	case config.MatchCircuitID, config.MatchRemoteID, config.MatchSubscriberID:
		return relaySubOptionIs(q.req, m.kind, m.text)
	case config.MatchHWPrefix:
		hw := q.req.HardwareAddr()
		return q.req.HType == 1 && len(hw) >= len(m.text) && string(hw[:len(m.text)]) == m.text
	case config.MatchInterface:
		return !isSet(q.req.GIAddr) && q.in.IfName == m.text
	case config.MatchSubnet:
		return q.s != nil && q.s.prefix == m.prefix
	case config.MatchHostname:
		v, ok := o.Get(dhcpv4.OptHostName)
		return ok && globMatch(m.text, bytes.TrimRight(v, "\x00"))
	case config.MatchOption:
		return o.Has(m.code)
	case config.MatchClass:
		return m.ref >= 0 && set.has(m.ref)
	case config.MatchAllOf:
		for i := range m.of {
			if !m.of[i].matches(q, set) {
				return false
			}
		}
		return true
	case config.MatchAnyOf:
		for i := range m.of {
			if m.of[i].matches(q, set) {
				return true
			}
		}
		return false
	case config.MatchNot:
		return len(m.of) == 1 && !m.of[0].matches(q, set)
	}
	return false
}

// userClassHas reports whether the user class option v (RFC 3004 §2: a
// list of length-prefixed entries) holds an entry equal to s, or, as iPXE
// and Windows send it, is the plain text s.
func userClassHas(v []byte, s string) bool {
	if string(v) == s {
		return true
	}
	for len(v) > 0 {
		n := int(v[0])
		if n == 0 || 1+n > len(v) {
			return false
		}
		if string(v[1:1+n]) == s {
			return true
		}
		v = v[1+n:]
	}
	return false
}

// archHas reports whether the client system architecture option v (RFC
// 4578 §2.1: a list of 16-bit types) holds one of want.
func archHas(v []byte, want []uint16) bool {
	for ; len(v) >= 2; v = v[2:] {
		a := binary.BigEndian.Uint16(v)
		for _, w := range want {
			if a == w {
				return true
			}
		}
	}
	return false
}

// Relay agent information sub-options (RFC 3046 §2.0, RFC 3993).
const relaySubscriberID uint8 = 6

func relaySubOptionIs(req *dhcpv4.Packet, k config.MatchKind, want string) bool {
	info, ok := req.Options.Get(dhcpv4.OptRelayAgentInfo)
	if !ok {
		return false
	}
	code := dhcpv4.RelayCircuitID
	switch k {
	case config.MatchRemoteID:
		code = dhcpv4.RelayRemoteID
	case config.MatchSubscriberID:
		code = relaySubscriberID
	}
	v, ok := dhcpv4.SubOption(info, code)
	return ok && string(v) == want
}

// globMatch reports whether name matches pattern, in the syntax and
// the rune semantics of path.Match ('*', '?', '[...]' classes, '\\'
// escapes), on bytes, without allocating. pattern has passed path.Match's
// syntax check.
func globMatch(pattern string, name []byte) bool {
	px, nx := 0, 0
	starP, starN := -1, -1
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) && pattern[px] == '*' {
			starP, starN = px, nx
			px++
			continue
		}
		if px < len(pattern) && nx < len(name) {
			r, w := utf8.DecodeRune(name[nx:])
			switch pattern[px] {
			case '?':
				if r != '/' {
					px++
					nx += w
					continue
				}
			case '[':
				if ok, end := matchClass(pattern, px, r); ok {
					px = end
					nx += w
					continue
				}
			case '\\':
				// Literals compare byte by byte, as in path.Match.
				if px+1 < len(pattern) && pattern[px+1] == name[nx] {
					px += 2
					nx++
					continue
				}
			default:
				if pattern[px] == name[nx] {
					px++
					nx++
					continue
				}
			}
		}
		// Backtrack: let the last star take one more byte (as
		// path.Match does), never a '/'.
		if starP < 0 || starN >= len(name) || name[starN] == '/' {
			return false
		}
		starN++
		px, nx = starP+1, starN
	}
	return true
}

// matchClass matches r against the character class that begins at
// pattern[at] ('['), returning whether it matched and the index after the
// class.
func matchClass(p string, at int, r rune) (bool, int) {
	i := at + 1
	negate := false
	if i < len(p) && p[i] == '^' {
		negate = true
		i++
	}
	matched := false
	for first := true; i < len(p) && (first || p[i] != ']'); first = false {
		lo, n := classChar(p, i)
		i += n
		hi := lo
		if i+1 < len(p) && p[i] == '-' {
			hi, n = classChar(p, i+1)
			i += 1 + n
		}
		if lo <= r && r <= hi {
			matched = true
		}
	}
	if i >= len(p) {
		return false, i
	}
	return matched != negate, i + 1
}

// classChar returns the rune at p[i], taking a '\\' escape, and its
// length in p.
func classChar(p string, i int) (rune, int) {
	if p[i] == '\\' && i+1 < len(p) {
		r, w := utf8.DecodeRuneInString(p[i+1:])
		return r, 1 + w
	}
	return utf8.DecodeRuneInString(p[i:])
}
