package config

import (
	"path"
	"strconv"
	"strings"
	"time"
)

// clientClasses checks the client classes and the names that pools and
// reservations give them:
//
//   - at most MaxClientClasses classes, each with a unique name of 1 to 64
//     characters from a-z, 0-9 and '-';
//   - matches that name only classes defined earlier, valid globs, valid
//     interface names, canonical prefixes and non-empty text;
//   - options as anywhere else; lease times as for a subnet when the
//     lease time is set, positive whole seconds otherwise;
//   - boot fields that fit the header: a unicast next server, a server
//     name of at most 63 bytes, a file of at most 127;
//   - pools and reservations naming only defined classes, and no
//     reservation naming an ignore class (ignore a client by matching it).
func (v *validator) clientClasses(c *Config) {
	if len(c.ClientClasses) > MaxClientClasses {
		v.add("client-classes", "%d classes are more than the %d allowed", len(c.ClientClasses), MaxClientClasses)
	}
	index := make(map[string]int, len(c.ClientClasses))
	for i := range c.ClientClasses {
		cl := &c.ClientClasses[i]
		p := "client-classes[" + strconv.Itoa(i) + "]"
		switch j, dup := index[cl.Name]; {
		case !validClassName(cl.Name):
			v.add(p+".name", "%q is not a class name (1 to 64 characters of a-z, 0-9 and -)", clip(cl.Name))
		case dup:
			v.add(p+".name", "%s is already defined at client-classes[%d]", cl.Name, j)
		}
		v.classMatch(p+".match", cl.Match, index, cl.Name)
		if cl.Name != "" {
			if _, dup := index[cl.Name]; !dup {
				index[cl.Name] = i
			}
		}
		v.options(p+".options", cl.Options, nil)
		if cl.LeaseTime != 0 {
			v.times(p, cl.LeaseTime, cl.T1, cl.T2, nil)
		} else {
			v.classTimer(p+".renewal-time", cl.T1)
			v.classTimer(p+".rebinding-time", cl.T2)
			if cl.T1 > 0 && cl.T2 > 0 && cl.T1 >= cl.T2 {
				v.add(p+".renewal-time", "%s must be shorter than rebinding-time %s", formatDuration(cl.T1), formatDuration(cl.T2))
			}
		}
		v.boot(p+".boot", cl.Boot)
		v.ipv6OnlyWait(p+".ipv6-only-preferred", cl.IPv6OnlyWait)
		if cl.IPv6OnlyOff && cl.IPv6OnlyWait != 0 {
			v.add(p+".ipv6-only-preferred", "is both off and %s", formatDuration(cl.IPv6OnlyWait))
		}
	}
	for i := range c.Subnets {
		s := &c.Subnets[i]
		sp := "subnets[" + strconv.Itoa(i) + "]"
		v.boot(sp+".boot", s.Boot)
		for j, r := range s.Pools {
			pp := sp + ".pools[" + strconv.Itoa(j) + "]"
			v.classNames(pp+".classes", r.Classes, c.ClientClasses, index, false)
			v.classNames(pp+".deny-classes", r.DenyClasses, c.ClientClasses, index, false)
			v.options(pp+".options", r.Options, nil)
		}
		for j := range s.Reservations {
			r := &s.Reservations[j]
			rp := sp + ".reservations[" + strconv.Itoa(j) + "]"
			v.classNames(rp+".classes", r.Classes, c.ClientClasses, index, true)
			v.boot(rp+".boot", r.Boot)
		}
	}
}

func (v *validator) classTimer(p string, t time.Duration) {
	if t < 0 || t%time.Second != 0 {
		v.add(p, "must be a positive whole number of seconds, got %s", formatDuration(t))
	}
}

// validClassName reports whether s is a class name.
func validClassName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// classMatch checks m, a match of the class self; index holds the classes
// defined before it.
func (v *validator) classMatch(p string, m ClassMatch, index map[string]int, self string) {
	switch m.Kind {
	case MatchVendorClass, MatchVendorClassPrefix, MatchUserClass, MatchCircuitID, MatchRemoteID, MatchSubscriberID, MatchHWPrefix:
		key := matchKeyOf(m.Kind)
		if m.Text == "" || len(m.Text) > 255 {
			v.add(join(p, key), "must be 1 to 255 bytes long")
		}
	case MatchHostname:
		if _, err := path.Match(m.Text, ""); err != nil || m.Text == "" {
			v.add(join(p, "hostname"), "%q is not a glob such as printer-* (path.Match syntax)", clip(m.Text))
		}
	case MatchInterface:
		if !validInterfaceName(m.Text) {
			v.add(join(p, "interface"), "%q is not an interface name", clip(m.Text))
		}
	case MatchSubnet:
		if !canonical4(m.Prefix) {
			v.add(join(p, "subnet"), "%v is not a canonical IPv4 prefix (write %v)", m.Prefix, m.Prefix.Masked())
		}
	case MatchArch:
		if len(m.Values) == 0 {
			v.add(join(p, "arch"), "want at least one architecture type")
		}
	case MatchOption:
		if m.Code == 0 || m.Code == 255 {
			v.add(join(p, "option"), "%d is not an option code (1 to 254)", m.Code)
		}
	case MatchClass:
		if _, ok := index[m.Text]; !ok {
			msg := "unknown class %q: a match may name only a class defined before it"
			if m.Text == self {
				msg = "class %q cannot match itself"
			}
			v.add(join(p, "class"), msg, clip(m.Text))
		}
	case MatchAllOf, MatchAnyOf:
		key := "all-of"
		if m.Kind == MatchAnyOf {
			key = "any-of"
		}
		if len(m.Of) == 0 {
			v.add(join(p, key), "want at least one match")
		}
		for i, sub := range m.Of {
			v.classMatch(join(p, key)+"["+strconv.Itoa(i)+"]", sub, index, self)
		}
	case MatchNot:
		if len(m.Of) != 1 {
			v.add(join(p, "not"), "want one match")
			return
		}
		v.classMatch(join(p, "not"), m.Of[0], index, self)
	}
}

// matchKeyOf returns the file's key of a text match kind.
func matchKeyOf(k MatchKind) string {
	for key, kind := range textKinds {
		if kind == k {
			return key
		}
	}
	for key, kind := range bytesKinds {
		if kind == k {
			return key
		}
	}
	if k == MatchHWPrefix {
		return "hw-prefix"
	}
	return ""
}

// classNames checks a list of class names given to a pool or a
// reservation.
func (v *validator) classNames(p string, names []string, classes []ClientClass, index map[string]int, reservation bool) {
	for i, name := range names {
		ip := p + "[" + strconv.Itoa(i) + "]"
		j, ok := index[name]
		switch {
		case !ok:
			v.add(ip, "unknown class %q%s", clip(name), suggest(name, classNamesOf(classes)))
		case reservation && classes[j].Ignore:
			v.add(ip, "class %s ignores its clients: a reservation cannot be in it (match the client in the class instead)", name)
		}
	}
}

func classNamesOf(classes []ClientClass) []string {
	out := make([]string, 0, len(classes))
	for _, c := range classes {
		out = append(out, c.Name)
	}
	return out
}

// boot checks boot fields.
func (v *validator) boot(p string, b Boot) {
	if a := b.NextServer; a.IsValid() && (!a.Is4() || a.IsUnspecified() || a == broadcastAll || a.IsMulticast()) {
		v.add(join(p, "next-server"), "%v is not a unicast IPv4 address", a)
	}
	if len(b.ServerName) > 63 || strings.ContainsRune(b.ServerName, 0) {
		v.add(join(p, "server-name"), "must be at most 63 bytes, without NUL (it goes in the 64-byte sname field)")
	}
	if len(b.File) > 127 || strings.ContainsRune(b.File, 0) {
		v.add(join(p, "file"), "must be at most 127 bytes, without NUL (it goes in the 128-byte file field)")
	}
}
