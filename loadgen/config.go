package loadgen

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"time"

	"leased/udp4"
)

// Defaults of Config fields left zero.
const (
	DefaultClients     = 3000
	DefaultOutstanding = 64
	DefaultTimeout     = time.Second
	DefaultBatch       = 64
	DefaultBuffer      = 8 << 20
	DefaultInterval    = time.Second
)

// maxClients bounds Config.Clients: each client costs a few dozen bytes.
const maxClients = 1 << 24

// DefaultBaseMAC is the hardware address of the first simulated client
// when Config.BaseMAC is empty: locally administered, unicast.
func DefaultBaseMAC() net.HardwareAddr { return net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x00} }

// Config describes a load. Server and one of Duration and Count are
// required; every other zero field takes its default.
type Config struct {
	// Server is the DHCP server's address; port 0 means 67.
	Server netip.AddrPort
	// Local is the address the generator binds: the relay agent's address
	// and port, where the server sends its replies (RFC 2131 §4.1: to
	// giaddr, port 67). Default 0.0.0.0:67, which needs
	// CAP_NET_BIND_SERVICE; a server whose relay port can be changed
	// (netio.Options.RelayPort) can be driven from any port.
	Local netip.AddrPort
	// GIAddr is the relay agent address written into every request. The
	// server chooses the subnet by it and replies to it. Default: Local's
	// address, which must then not be 0.0.0.0.
	GIAddr netip.Addr
	// Clients is the number of simulated clients, each with its own
	// hardware address. A client has one exchange in progress at a time.
	// Default 3000.
	Clients int
	// BaseMAC is the hardware address of client 0; client i has BaseMAC
	// plus i in its last four bytes. Six bytes; default DefaultBaseMAC.
	BaseMAC net.HardwareAddr
	// Rate, when positive, is the number of exchanges started per second
	// (open loop: new exchanges start on schedule whatever the replies).
	// Zero selects closed loop: Outstanding exchanges are kept in flight.
	Rate float64
	// Outstanding is the number of exchanges in flight in closed loop,
	// at most Clients. Default 64, or Clients if fewer. Ignored when Rate
	// is set.
	Outstanding int
	// Duration bounds the time during which exchanges are started.
	Duration time.Duration
	// Count bounds the number of exchanges started.
	Count uint64
	// Timeout is how long a DISCOVER waits for its OFFER and a REQUEST for
	// its ACK before the exchange counts as lost. Default 1 s.
	Timeout time.Duration
	// Batch is the most datagrams sent or read per system call
	// (sendmmsg, recvmmsg). Default 64.
	Batch int
	// DiscoverOnly stops each exchange at the OFFER (the two-way exchange
	// of perfdhcp -i): no REQUEST is sent and nothing is committed.
	DiscoverOnly bool
	// HostNames has each client send a host name (option 12, RFC 2132
	// §3.14) in its DHCPDISCOVER and DHCPREQUEST: "lg" and the last four
	// bytes of its hardware address in hexadecimal ("lg0000002a"), so
	// that a server that puts its clients' names in the DNS has one name
	// per client. Flood ignores it.
	HostNames bool
	// Buffer is the size in bytes asked for the socket's receive and send
	// buffers, so that bursts are not dropped on the generator's side.
	// Default 8 MiB (forced beyond the system limit when privileged).
	Buffer int
	// Progress, when set, is called every Interval while Run runs, from a
	// goroutine of its own.
	Progress func(Progress)
	// Interval is the period of Progress calls. Default 1 s.
	Interval time.Duration
	// Clock is the time source of every measurement; default time.Now.
	// It must carry a monotonic reading, as time.Now's does.
	Clock func() time.Time
}

// withDefaults validates c and returns it with its defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if !c.Server.IsValid() || !c.Server.Addr().Unmap().Is4() || c.Server.Addr().IsUnspecified() {
		return c, errors.New("loadgen: Config.Server must be an IPv4 address")
	}
	c.Server = netip.AddrPortFrom(c.Server.Addr().Unmap(), c.Server.Port())
	if c.Server.Port() == 0 {
		c.Server = netip.AddrPortFrom(c.Server.Addr(), udp4.ServerPort)
	}
	if !c.Local.IsValid() {
		c.Local = netip.AddrPortFrom(netip.IPv4Unspecified(), udp4.ServerPort)
	}
	if !c.Local.Addr().Unmap().Is4() {
		return c, fmt.Errorf("loadgen: Config.Local %v is not an IPv4 address", c.Local)
	}
	c.Local = netip.AddrPortFrom(c.Local.Addr().Unmap(), c.Local.Port())
	if !c.GIAddr.IsValid() {
		if c.Local.Addr().IsUnspecified() {
			return c, errors.New("loadgen: Config.GIAddr is needed when Local's address is 0.0.0.0")
		}
		c.GIAddr = c.Local.Addr()
	}
	if c.GIAddr = c.GIAddr.Unmap(); !c.GIAddr.Is4() || c.GIAddr.IsUnspecified() {
		return c, fmt.Errorf("loadgen: Config.GIAddr %v is not a usable IPv4 address", c.GIAddr)
	}
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.Clients < 1 || c.Clients > maxClients {
		return c, fmt.Errorf("loadgen: Config.Clients %d out of range 1-%d", c.Clients, maxClients)
	}
	if c.BaseMAC == nil {
		c.BaseMAC = DefaultBaseMAC()
	}
	if len(c.BaseMAC) != macLen {
		return c, fmt.Errorf("loadgen: Config.BaseMAC %v is not a 6-byte hardware address", c.BaseMAC)
	}
	var base [macLen]byte
	copy(base[:], c.BaseMAC)
	if uint64(tail(base))+uint64(c.Clients) > math.MaxUint32+1 {
		return c, fmt.Errorf("loadgen: %d clients counted from %v run past the last hardware address", c.Clients, c.BaseMAC)
	}
	if math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate < 0 {
		return c, fmt.Errorf("loadgen: Config.Rate %v is not a non-negative number", c.Rate)
	}
	if c.Outstanding == 0 {
		c.Outstanding = min(DefaultOutstanding, c.Clients)
	}
	if c.Outstanding < 0 {
		return c, fmt.Errorf("loadgen: Config.Outstanding %d is negative", c.Outstanding)
	}
	if c.Rate == 0 && c.Outstanding > c.Clients {
		// A client has one exchange at a time.
		return c, fmt.Errorf("loadgen: Config.Outstanding %d exceeds Config.Clients %d", c.Outstanding, c.Clients)
	}
	if c.Duration < 0 {
		return c, fmt.Errorf("loadgen: Config.Duration %v is negative", c.Duration)
	}
	if c.Duration == 0 && c.Count == 0 {
		return c, errors.New("loadgen: a load needs a bound: Config.Duration or Config.Count")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Timeout < 0 {
		return c, fmt.Errorf("loadgen: Config.Timeout %v is negative", c.Timeout)
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.Batch < 1 || c.Batch > 1024 {
		return c, fmt.Errorf("loadgen: Config.Batch %d out of range 1-1024", c.Batch)
	}
	if c.Buffer == 0 {
		c.Buffer = DefaultBuffer
	}
	if c.Buffer < 0 {
		return c, fmt.Errorf("loadgen: Config.Buffer %d is negative", c.Buffer)
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Interval < 0 {
		return c, fmt.Errorf("loadgen: Config.Interval %v is negative", c.Interval)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c, nil
}

// tail returns the last four bytes of a hardware address, the part that
// counts clients.
func tail(mac [macLen]byte) uint32 {
	return uint32(mac[2])<<24 | uint32(mac[3])<<16 | uint32(mac[4])<<8 | uint32(mac[5])
}
