package ddns

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"

	"github.com/miekg/dns"

	"leased/lease"
)

// The identifier types of a DHCID record (RFC 4701 §3.3).
const (
	idHWAddr   = 0 // htype and chaddr
	idClientID = 1 // the DHCPv4 client identifier option
	idDUID     = 2 // a DUID (RFC 4361 client identifier, or DHCPv6)
)

// digestSHA256 is the digest type of a DHCID record (RFC 4701 §3.4).
const digestSHA256 = 1

// Client is what identifies a client in a DHCID record: its client
// identifier as lease.Lease.ClientID holds it, and its hardware address.
type Client struct {
	ID string
	HW lease.HardwareAddr
}

// identifier returns the DHCID identifier type and bytes of c (RFC 4701
// §3.3): the type and hardware address when c.ID is empty or is exactly
// them (the identity a server takes when the client sent no client
// identifier); the DUID when c.ID is an RFC 4361 identifier (type 255,
// a 4-byte IAID, then the DUID); else the client identifier.
func (c *Client) identifier() (uint16, []byte) {
	hw := append([]byte{c.HW.Type}, c.HW.Bytes()...)
	switch {
	case c.ID == "" || c.ID == string(hw):
		return idHWAddr, hw
	case len(c.ID) > 5 && c.ID[0] == 255:
		return idDUID, []byte(c.ID[5:])
	}
	return idClientID, []byte(c.ID)
}

// DHCID returns the RDATA of the DHCID record of c for fqdn in base64, as
// the presentation format writes it (RFC 4701 §3): the identifier type,
// digest type 1 and the SHA-256 digest of the identifier followed by the
// name in canonical wire format (lower case).
func DHCID(c *Client, fqdn string) (string, error) {
	typ, id := c.identifier()
	name := make([]byte, 256)
	n, err := dns.PackDomainName(dns.CanonicalName(fqdn), name, 0, nil, false)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(id)
	h.Write(name[:n])
	rdata := make([]byte, 3, 3+sha256.Size)
	binary.BigEndian.PutUint16(rdata, typ)
	rdata[2] = digestSHA256
	rdata = h.Sum(rdata)
	return base64.StdEncoding.EncodeToString(rdata), nil
}

// fqdnOf returns name fully qualified and in lower case.
func fqdnOf(name string) string { return dns.Fqdn(strings.ToLower(name)) }
