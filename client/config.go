package client

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"time"

	"leased/dhcpv4"
)

// Defaults of the Config durations, from RFC 2131 where it gives them.
const (
	// DefaultOfferWait is how long SELECTING collects offers, counted
	// from the first DHCPDISCOVER, before it takes the first one.
	DefaultOfferWait = 500 * time.Millisecond
	// DefaultDeclineWait is the pause after a DHCPDECLINE before the next
	// DHCPDISCOVER (RFC 2131 §3.1 step 5: "at least 10 seconds").
	DefaultDeclineWait = 10 * time.Second
	// DefaultRetransmitBase and DefaultRetransmitMax are the first and
	// the longest wait before a retransmission (RFC 2131 §4.1: 4 seconds,
	// doubling up to 64).
	DefaultRetransmitBase = 4 * time.Second
	DefaultRetransmitMax  = 64 * time.Second
	// DefaultJitter is the bound of the uniform random change to each
	// retransmission wait (RFC 2131 §4.1: "-1 to +1" second).
	DefaultJitter = time.Second
	// DefaultRenewMin is the shortest wait between retransmissions in
	// RENEWING and REBINDING (RFC 2131 §4.4.5: 60 seconds).
	DefaultRenewMin = 60 * time.Second
	// DefaultRebootTimeout is how long REBOOTING waits for an answer
	// before it gives up the remembered lease and starts from INIT.
	DefaultRebootTimeout = 10 * time.Second
	// DefaultRequestAttempts is how many DHCPREQUESTs REQUESTING sends
	// before it starts over from INIT (RFC 2131 §4.4.1 leaves the number
	// to the retransmission algorithm: 4+8+16+32+64 seconds).
	DefaultRequestAttempts = 5
)

// DefaultParams is the parameter request list (option 55) sent when
// Config.Params is nil: subnet mask, classless routes, routers, DNS
// servers, domain name, domain search, broadcast address, NTP servers,
// interface MTU, host name, lease time, renewal (T1) and rebinding (T2)
// times. Classless routes come before routers, as RFC 3442 §4 suggests.
var DefaultParams = []dhcpv4.OptionCode{
	dhcpv4.OptSubnetMask,
	dhcpv4.OptClasslessRoutes,
	dhcpv4.OptRouter,
	dhcpv4.OptDNSServers,
	dhcpv4.OptDomainName,
	dhcpv4.OptDomainSearch,
	dhcpv4.OptBroadcastAddress,
	dhcpv4.OptNTPServers,
	dhcpv4.OptInterfaceMTU,
	dhcpv4.OptHostName,
	dhcpv4.OptLeaseTime,
	dhcpv4.OptRenewalTime,
	dhcpv4.OptRebindingTime,
}

// Rand is the source of transaction IDs and retransmission jitter.
// *math/rand/v2.Rand satisfies it; tests pass a fixed source.
type Rand interface {
	Uint32() uint32
	// Int64N returns a number in [0, n).
	Int64N(n int64) int64
}

// Config configures a Machine. HardwareAddr is required; every other zero
// field has the default its comment gives.
type Config struct {
	// Interface is the name of the interface, recorded in leases and
	// given to the hook. It does not change the protocol.
	Interface string
	// HardwareType is the htype field; zero means 1 (Ethernet).
	HardwareType uint8
	// HardwareAddr is chaddr: the interface's hardware address, 1 to 16
	// bytes.
	HardwareAddr []byte
	// ClientID is the value of the client identifier (option 61). Nil
	// means the hardware type followed by the hardware address (RFC 2132
	// §9.14); ClientIDFromDUID gives the RFC 4361 form.
	ClientID []byte
	// Hostname, when set, is sent as option 12.
	Hostname string
	// VendorClass, when set, is sent as option 60.
	VendorClass string
	// Params is the parameter request list (option 55); nil means
	// DefaultParams.
	Params []dhcpv4.OptionCode
	// MaxMessageSize, when at least 576, is sent as option 57: the
	// largest IP datagram the client accepts (RFC 2132 §9.10).
	MaxMessageSize int
	// Broadcast sets the broadcast flag in DHCPDISCOVER and DHCPREQUEST
	// before the client has an address, for links that cannot receive
	// unicast until configured (RFC 2131 §4.1). A packet socket can, so
	// the default is unset.
	Broadcast bool
	// Inform, when valid, puts the machine in DHCPINFORM mode: the host
	// has this address (configured by other means) and asks only for
	// options (RFC 2131 §4.4.3).
	Inform netip.Prefix
	// NoProbe skips the ARP check of an acknowledged address.
	NoProbe bool
	// OfferWait is how long SELECTING collects offers, counted from the
	// first DHCPDISCOVER; an offer of the address the client had before
	// ends it at once. Zero means DefaultOfferWait; a negative value
	// takes the first offer as soon as it arrives.
	OfferWait time.Duration
	// DeclineWait is the pause after a DHCPDECLINE; zero means
	// DefaultDeclineWait.
	DeclineWait time.Duration
	// RetransmitBase and RetransmitMax bound the exponential backoff;
	// zero means DefaultRetransmitBase and DefaultRetransmitMax.
	RetransmitBase, RetransmitMax time.Duration
	// Jitter bounds the random change to each backoff wait; zero means
	// DefaultJitter, a negative value none.
	Jitter time.Duration
	// RenewMin is the shortest wait between retransmissions in RENEWING
	// and REBINDING; zero means DefaultRenewMin.
	RenewMin time.Duration
	// RebootTimeout bounds REBOOTING; zero means DefaultRebootTimeout.
	RebootTimeout time.Duration
	// RequestAttempts bounds the DHCPREQUESTs of REQUESTING; zero means
	// DefaultRequestAttempts.
	RequestAttempts int
	// InitDelay, when positive, delays the first DHCPDISCOVER after Start
	// by a random time up to it, to desynchronise clients that start
	// together (RFC 2131 §4.4.1 suggests one to ten seconds).
	InitDelay time.Duration
	// Rand is the random source; nil means a private generator seeded
	// from crypto/rand.
	Rand Rand
}

// Errors of New.
var (
	ErrHardwareAddr = errors.New("hardware address must be 1 to 16 bytes")
	ErrClientID     = errors.New("client identifier must be 2 to 255 bytes")
	ErrOptionText   = errors.New("host name and vendor class must be 1 to 255 bytes")
	ErrInform       = errors.New("inform address must be an IPv4 unicast address with a prefix length")
)

// normalize checks c and fills in the defaults.
func (c Config) normalize() (Config, error) {
	if len(c.HardwareAddr) == 0 || len(c.HardwareAddr) > 16 {
		return c, fmt.Errorf("client: %w, got %d", ErrHardwareAddr, len(c.HardwareAddr))
	}
	c.HardwareAddr = append([]byte(nil), c.HardwareAddr...)
	if c.HardwareType == 0 {
		c.HardwareType = 1
	}
	if c.ClientID == nil {
		c.ClientID = ClientIDFromHardware(c.HardwareType, c.HardwareAddr)
	} else if len(c.ClientID) < 2 || len(c.ClientID) > 255 {
		return c, fmt.Errorf("client: %w, got %d", ErrClientID, len(c.ClientID))
	} else {
		c.ClientID = append([]byte(nil), c.ClientID...)
	}
	if len(c.Hostname) > 255 || len(c.VendorClass) > 255 {
		return c, fmt.Errorf("client: %w", ErrOptionText)
	}
	if c.Params == nil {
		c.Params = DefaultParams
	}
	if c.Inform.IsValid() {
		a := c.Inform.Addr()
		if !a.Is4() || !usable(a) {
			return c, fmt.Errorf("client: %w, got %v", ErrInform, c.Inform)
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.OfferWait, DefaultOfferWait)
	def(&c.DeclineWait, DefaultDeclineWait)
	def(&c.RetransmitBase, DefaultRetransmitBase)
	def(&c.RetransmitMax, DefaultRetransmitMax)
	def(&c.Jitter, DefaultJitter)
	def(&c.RenewMin, DefaultRenewMin)
	def(&c.RebootTimeout, DefaultRebootTimeout)
	if c.RetransmitMax < c.RetransmitBase {
		c.RetransmitMax = c.RetransmitBase
	}
	if c.RequestAttempts <= 0 {
		c.RequestAttempts = DefaultRequestAttempts
	}
	if c.Rand == nil {
		var seed [32]byte
		rand.Read(seed[:])
		c.Rand = mrand.New(mrand.NewChaCha8(seed))
	}
	return c, nil
}

// ClientIDFromHardware returns the client identifier of RFC 2132 §9.14
// made of the hardware type and address: 01 02:c6:12:00:00:01 for an
// Ethernet interface.
func ClientIDFromHardware(htype uint8, hwaddr []byte) []byte {
	return append([]byte{htype}, hwaddr...)
}

// ClientIDFromDUID returns the client identifier of RFC 4361 §6.1: type
// 255, the 4-byte IAID and the DUID.
func ClientIDFromDUID(iaid uint32, duid []byte) []byte {
	id := make([]byte, 5, 5+len(duid))
	id[0] = 255
	binary.BigEndian.PutUint32(id[1:5], iaid)
	return append(id, duid...)
}

// DUIDLL returns a DUID based on the link-layer address (DUID-LL, RFC 8415
// §11.4): type 3, the hardware type (1 for Ethernet) and the address. It is
// stable for as long as the interface keeps its hardware address.
func DUIDLL(htype uint16, hwaddr []byte) []byte {
	d := make([]byte, 4, 4+len(hwaddr))
	binary.BigEndian.PutUint16(d[0:2], 3)
	binary.BigEndian.PutUint16(d[2:4], htype)
	return append(d, hwaddr...)
}

// IAIDFromHardware returns an IAID for RFC 4361 made of the last four bytes
// of the hardware address (fewer bytes are right-aligned), which stays the
// same across restarts as long as the address does.
func IAIDFromHardware(hwaddr []byte) uint32 {
	var b [4]byte
	if len(hwaddr) >= 4 {
		copy(b[:], hwaddr[len(hwaddr)-4:])
	} else {
		copy(b[4-len(hwaddr):], hwaddr)
	}
	return binary.BigEndian.Uint32(b[:])
}

// usable reports whether a is an address a host can be given: IPv4, not
// unspecified, broadcast, multicast, loopback or in 0.0.0.0/8.
func usable(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	return b[0] != 0 && !a.IsLoopback() && !a.IsMulticast() && b != [4]byte{255, 255, 255, 255} && b[0] < 240
}
