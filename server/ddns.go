package server

import (
	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

// Client DNS names (RFC 4702). In a subnet with dynamic DNS updates on
// (config.DDNS.Enabled), the engine decides the name of each lease it
// binds and which DNS records the server keeps for it, and stores both
// with the lease: the lease store is the durable queue of the DNS updater
// (package ddns), which does the updates later, off the hot path.
//
// The name comes from, in order: the reservation's hostname; the name of
// the client FQDN option (81); the host name option (12). It is cleaned
// (sanitize) and qualified: a single label gets the qualifying suffix (or,
// without one, the forward zone); a longer name below the forward zone
// is kept; any other longer name keeps its first label only, with the
// suffix after it. A name that is empty once cleaned, or longer than 253
// characters once qualified, is no name: the lease gets no DNS records.
//
// Which records (RFC 4702 §3.1, §4): without option 81, the server keeps
// the A and the PTR record and sends no option 81. With it: S=1, both;
// S=0, the PTR only (the client does its A record), or both with
// override-client-update; N=1, none, or both with override-no-update.
// A zone configured as "none" takes its records out. The reply's option
// 81 says what the server does: S when it updates the A record, O when
// that is not what the client asked, N when it does no update at all; the
// name in the client's encoding, fully qualified; RCODE1 and RCODE2 255
// (§2.2).

// ddnsConf is what the engine needs of a subnet's config.DDNS.
type ddnsConf struct {
	enabled bool
	// suffix qualifies a single-label name: the qualifying suffix, else
	// the forward zone.
	suffix string
	// zone is the forward zone (else the suffix): a longer name inside
	// it is kept as it is.
	zone string
	// records are the records the zones allow.
	records        lease.DNSFlags
	overrideClient bool
	overrideNo     bool
}

func newDDNSConf(c *config.DDNS) ddnsConf {
	if !c.Enabled {
		return ddnsConf{}
	}
	d := ddnsConf{enabled: true, suffix: c.QualifyingSuffix, overrideClient: c.OverrideClientUpdate, overrideNo: c.OverrideNoUpdate}
	if c.ForwardZone != "" && c.ForwardZone != config.DDNSNoZone {
		d.zone = c.ForwardZone
		d.records |= lease.DNSForward
	}
	if d.suffix == "" {
		d.suffix = d.zone
	}
	if d.zone == "" {
		d.zone = d.suffix
	}
	if c.ReverseZone != config.DDNSNoZone {
		d.records |= lease.DNSReverse
	}
	return d
}

// fqdnChoice is the engine's decision about a client's DNS name.
type fqdnChoice struct {
	buf [lease.MaxFQDN]byte
	n   int            // the name is buf[:n]; 0: no name
	dns lease.DNSFlags // the records the server keeps for it
	// reply says that the client sent option 81, and the reply carries
	// one with flags.
	reply bool
	flags dhcpv4.FQDNFlags

	// Set by nameBinding: the binding's name, and the name and records
	// it had before when they changed.
	fqdn    string
	oldFQDN string
	oldDNS  lease.DNSFlags
}

func (c *fqdnChoice) name() []byte { return c.buf[:c.n] }

// chooseName decides the name and records of req's client, whose
// reservation is res (nil: none), into c. It does nothing in a subnet
// without dynamic DNS updates. It allocates nothing.
func (s *subnet) chooseName(req *dhcpv4.Packet, res *reservation, c *fqdnChoice) {
	d := &s.ddns
	if !d.enabled {
		return
	}
	var scratch [256]byte
	var f dhcpv4.ClientFQDN
	if v, ok := req.Options.Get(dhcpv4.OptClientFQDN); ok {
		var err error
		f, err = dhcpv4.ParseClientFQDN(v, scratch[:0])
		c.reply = err == nil // a malformed option is ignored
	}
	n, first := 0, 0
	switch {
	case res != nil && res.hostname != "":
		n, first = sanitize(&c.buf, res.hostname)
	case c.reply && len(f.Name) > 0:
		n, first = sanitize(&c.buf, f.Name)
	default:
		if h, ok := req.Options.Get(dhcpv4.OptHostName); ok {
			n, first = sanitize(&c.buf, h)
		}
	}
	c.n = d.qualify(&c.buf, n, first)
	c.dns = lease.DNSForward | lease.DNSReverse
	if c.reply {
		c.dns, c.flags = d.decideFlags(f.Flags)
	}
	if c.n == 0 {
		c.dns = 0
	}
	c.dns &= d.records
	if !c.reply || c.flags&dhcpv4.FQDNNoUpdate != 0 {
		return
	}
	if c.dns&lease.DNSForward != 0 {
		c.flags |= dhcpv4.FQDNServerUpdate
	}
	if c.dns&lease.DNSForward != 0 != (f.Flags&dhcpv4.FQDNServerUpdate != 0) {
		c.flags |= dhcpv4.FQDNOverride
	}
}

// decideFlags returns the records the server updates for a client that
// sent option 81 with flags (RFC 4702 §3.1, §4), and the reply's flags
// as far as they follow from the client's alone: its encoding, and N
// when the server does no update.
func (d *ddnsConf) decideFlags(flags dhcpv4.FQDNFlags) (lease.DNSFlags, dhcpv4.FQDNFlags) {
	both := lease.DNSForward | lease.DNSReverse
	out := flags & dhcpv4.FQDNEncoded
	switch {
	case flags&dhcpv4.FQDNNoUpdate != 0 && !d.overrideNo:
		return 0, out | dhcpv4.FQDNNoUpdate
	case flags&dhcpv4.FQDNNoUpdate != 0, flags&dhcpv4.FQDNServerUpdate != 0, d.overrideClient:
		return both, out
	default:
		return lease.DNSReverse, out
	}
}

// sanitize writes name into buf cleaned to RFC 1123 §2.1 host name
// labels, and returns its length and the length of its first label
// (0, 0 when nothing is left, or it is longer than 253 characters).
// Labels are split at '.'; letters are lower-cased; every byte but a
// letter, a digit and '-' becomes '-'; a label loses its leading and
// trailing '-' and is cut to 63 characters; labels left empty are
// dropped.
func sanitize[T string | []byte](buf *[lease.MaxFQDN]byte, name T) (n, first int) {
	for len(name) > 0 {
		label := name
		name = name[len(name):]
		for i := 0; i < len(label); i++ {
			if label[i] == '.' {
				label, name = label[:i], label[i+1:]
				break
			}
		}
		var ok bool
		if n, ok = appendLabel(buf, n, label); !ok {
			return 0, 0
		}
		if first == 0 {
			first = n
		}
	}
	return n, first
}

// appendLabel appends label, cleaned, to the name buf[:n], and returns
// the new length; false when it does not fit.
func appendLabel[T string | []byte](buf *[lease.MaxFQDN]byte, n int, label T) (int, bool) {
	for len(label) > 0 && !isLetterDigit(lower(label[0])) {
		label = label[1:]
	}
	for len(label) > 0 && !isLetterDigit(lower(label[len(label)-1])) {
		label = label[:len(label)-1]
	}
	if len(label) > 63 {
		label = label[:63]
		for !isLetterDigit(lower(label[len(label)-1])) {
			label = label[:len(label)-1]
		}
	}
	if len(label) == 0 {
		return n, true
	}
	at := n
	if n > 0 {
		at++
	}
	if at+len(label) > len(buf) {
		return 0, false
	}
	if n > 0 {
		buf[n] = '.'
	}
	for i := 0; i < len(label); i++ {
		ch := lower(label[i])
		if !isLetterDigit(ch) {
			ch = '-'
		}
		buf[at+i] = ch
	}
	return at + len(label), true
}

func lower(ch byte) byte {
	if 'A' <= ch && ch <= 'Z' {
		return ch + 'a' - 'A'
	}
	return ch
}

func isLetterDigit(ch byte) bool { return 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' }

// qualify completes the cleaned name buf[:n], whose first label ends at
// first, into a fully qualified one (see the rules above), and returns
// its length: 0 for no name.
func (d *ddnsConf) qualify(buf *[lease.MaxFQDN]byte, n, first int) int {
	if n == 0 {
		return 0
	}
	if first < n && d.zone != "" && inZone(buf[:n], d.zone) {
		return n
	}
	if d.suffix == "" {
		if first < n {
			return n // nothing to qualify with; keep the client's domain
		}
		return 0
	}
	if first+1+len(d.suffix) > len(buf) {
		return 0
	}
	buf[first] = '.'
	return first + 1 + copy(buf[first+1:], d.suffix)
}

// inZone reports whether name is below zone: the zone's own name is not
// a host's, so that no client can name itself after the zone's apex.
func inZone(name []byte, zone string) bool {
	return len(name) > len(zone) && name[len(name)-len(zone)-1] == '.' && string(name[len(name)-len(zone):]) == zone
}

// nameBinding gives b the name and records of c, and notes in c the name
// it now has and, when they changed, the name and records it had. The
// name's string is built only when it changes: a renewal under the same
// name allocates nothing.
func (s *subnet) nameBinding(b *binding, c *fqdnChoice) {
	name := c.name()
	if c.dns == 0 {
		name = nil // the server keeps no record of it: the lease has no name
	}
	if len(b.client)+len(b.hostname)+len(name) > lease.MaxClientBytes {
		// A client identifier and host name that fill what a lease
		// record holds leave no room for a name: the client keeps its
		// lease, without one.
		name = nil
	}
	old, oldDNS := b.fqdn, b.dns
	if string(name) != b.fqdn {
		b.fqdn = string(name)
	}
	b.dns = c.dns
	if b.fqdn == "" {
		b.dns = 0
	}
	c.fqdn = b.fqdn
	if old != "" && (old != b.fqdn || oldDNS != b.dns) {
		c.oldFQDN, c.oldDNS = old, oldDNS
	}
}

// addClientFQDN adds option 81 to reply, an OFFER or ACK giving a lease
// to req's client, when the client sent one and the subnet updates DNS
// (RFC 4702 §4), before the relay agent information, which stays last.
func (s *subnet) addClientFQDN(reply, req *dhcpv4.Packet, res *reservation) {
	if !s.ddns.enabled || !req.Options.Has(dhcpv4.OptClientFQDN) {
		return
	}
	var c fqdnChoice
	s.chooseName(req, res, &c)
	if !c.reply {
		return
	}
	reply.Options.SetClientFQDN(c.flags, dhcpv4.FQDNServerRCode, dhcpv4.FQDNServerRCode, c.name(), false)
}
