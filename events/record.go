package events

import (
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"strconv"
	"time"

	"leased/escape"
	"leased/lease"
)

// Type is the kind of a lease event.
type Type uint8

// The lease events.
const (
	// Commit: the client was bound to an address it did not hold.
	Commit Type = iota + 1
	// Renew: the client's binding of the same address was extended.
	Renew
	// Release: the client gave its address back (DHCPRELEASE).
	Release
	// Expire: the lease ran out without being renewed.
	Expire
	// Decline: the client reported the address in use (DHCPDECLINE).
	Decline
)

var typeNames = [...]string{Commit: "commit", Renew: "renew", Release: "release", Expire: "expire", Decline: "decline"}

// String returns the event's name as hooks see it.
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "unknown"
}

// Bounds of the variable-length fields of a Record; longer values are cut.
const (
	MaxClientID = 255
	MaxHostname = 255
)

// Record is one lease event. It has a fixed size and holds no pointers to
// the request it came from, so that a Queue copies it into its ring
// without allocating.
type Record struct {
	Type Type
	// Addr is the address the event is about.
	Addr netip.Addr
	// Subnet is the subnet of Addr; invalid when not known.
	Subnet netip.Prefix
	// ServerID is the server identifier the server answered with;
	// invalid when none (expiries).
	ServerID netip.Addr
	// Start and Expiry bound the lease; zero when not known.
	Start, Expiry time.Time
	// HW is the client's hardware address.
	HW lease.HardwareAddr

	// DNS says which DNS records the server keeps for the lease's FQDN
	// (lease.Lease.DNS); zero when it registers none.
	DNS lease.DNSFlags
	// OldDNS says which records the server kept for OldFQDN, a name the
	// lease had before this event and no longer has.
	OldDNS lease.DNSFlags

	idLen      uint8
	idCut      bool
	hostLen    uint8
	fqdnLen    uint8
	oldFQDNLen uint8
	id         [MaxClientID]byte
	host       [MaxHostname]byte
	fqdn       [lease.MaxFQDN]byte
	oldFQDN    [lease.MaxFQDN]byte
}

// SetFQDN sets the name the server registers in the DNS for the lease
// (lease.Lease.FQDN); "" when none.
func (r *Record) SetFQDN(s string) { r.fqdnLen = uint8(copy(r.fqdn[:], s)) }

// FQDN returns the name set by SetFQDN. It aliases r.
func (r *Record) FQDN() []byte { return r.fqdn[:r.fqdnLen] }

// SetOldFQDN sets the name the lease had before this event when it
// changed (a renewal under a new name, or an address taken over): its
// records are to be removed.
func (r *Record) SetOldFQDN(s string) { r.oldFQDNLen = uint8(copy(r.oldFQDN[:], s)) }

// OldFQDN returns the name set by SetOldFQDN. It aliases r.
func (r *Record) OldFQDN() []byte { return r.oldFQDN[:r.oldFQDNLen] }

// SetClientID sets the client's identity: its client identifier (option
// 61), else its hardware type followed by its hardware address, as the
// lease store keeps it.
func (r *Record) SetClientID(id []byte) {
	r.idLen = uint8(copy(r.id[:], id))
	r.idCut = len(id) > MaxClientID
}

// ClientIDCut reports whether the client's identity was longer than a
// record holds (a client identifier of more than 255 bytes, joined from
// several options by RFC 3396): ClientID then returns its first
// MaxClientID bytes only.
func (r *Record) ClientIDCut() bool { return r.idCut }

// SetHostname sets the host name the client gave, as raw bytes.
func (r *Record) SetHostname(h []byte) { r.hostLen = uint8(copy(r.host[:], h)) }

// ClientID returns the client's identity. It aliases r.
func (r *Record) ClientID() []byte { return r.id[:r.idLen] }

// Hostname returns the client's host name as the client sent it. It
// aliases r.
func (r *Record) Hostname() []byte { return r.host[:r.hostLen] }

// fields returns the record's fields, names and values, in the order of
// the documentation. The host name is escaped (package escape): hooks
// never see the client's control characters.
func (r *Record) fields() [][2]string {
	f := [][2]string{
		{"event", r.Type.String()},
		{"address", addrString(r.Addr)},
		{"subnet", prefixString(r.Subnet)},
		{"client_id", hex.EncodeToString(r.ClientID())},
		{"hw_type", strconv.Itoa(int(r.HW.Type))},
		{"hw_address", hwString(&r.HW)},
		{"hostname", escape.Text(string(r.Hostname()))},
		{"start", timeString(r.Start)},
		{"expiry", timeString(r.Expiry)},
		{"server_id", addrString(r.ServerID)},
		{"fqdn", string(r.FQDN())},
	}
	return f
}

// Env returns the record as environment variables: LEASED_ and the
// field's name in capitals, for each field of AppendJSON.
func (r *Record) Env() []string {
	f := r.fields()
	env := make([]string, 0, len(f))
	for _, kv := range f {
		env = append(env, "LEASED_"+upper(kv[0])+"="+kv[1])
	}
	return env
}

// AppendJSON appends the record to b as one JSON object, with a string
// value for every field (empty when not known), and returns the result.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, kv := range r.fields() {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, kv[0])
		b = append(b, ':')
		v, _ := json.Marshal(kv[1]) // a string: never fails
		b = append(b, v...)
	}
	return append(b, '}')
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func prefixString(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func hwString(h *lease.HardwareAddr) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 3*int(h.Len))
	for i, c := range h.Bytes() {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, digits[c>>4], digits[c&15])
	}
	return string(b)
}
