package netio

import (
	"log/slog"
	"net/netip"
	"strconv"
	"strings"

	"leased/udp4"
)

// PortInUseError is the refusal of Listen to serve on a port that another
// socket of the network namespace is bound to (see Options.SharePort).
type PortInUseError struct {
	// Addr is the address the server was to listen on.
	Addr netip.AddrPort
	// Interfaces are the interfaces it was to serve; empty for all.
	Interfaces []string
	// Holders are the sockets on the port and the processes holding
	// them.
	Holders []udp4.PortHolder
}

// Error says which port is held, on which interfaces, and by whom:
// "port 67 on eth0 is held by process 1234 (leased)".
func (e *PortInUseError) Error() string {
	var b strings.Builder
	b.WriteString("port ")
	b.WriteString(strconv.Itoa(int(e.Addr.Port())))
	if len(e.Interfaces) > 0 {
		b.WriteString(" on ")
		b.WriteString(strings.Join(e.Interfaces, ","))
	} else if a := e.Addr.Addr(); !a.IsUnspecified() {
		b.WriteString(" of ")
		b.WriteString(a.String())
	}
	b.WriteString(" is held by ")
	seen := make(map[string]bool)
	n := 0
	for _, h := range e.Holders {
		s := h.String()
		if seen[s] {
			continue
		}
		seen[s] = true
		if n > 0 {
			b.WriteString(" and ")
		}
		b.WriteString(s)
		n++
	}
	b.WriteString(": two DHCP servers on one port answer each other's clients; stop the other one first")
	return b.String()
}

// checkPortAlone returns a *PortInUseError when a socket other than ep's
// is bound to ep's port. When /proc cannot tell, it logs why and lets the
// server start.
func checkPortAlone(ep *udp4.Endpoint, ifaces []string, log *slog.Logger) error {
	local := ep.LocalAddr()
	holders, err := udp4.PortHolders(local, ep.Conn)
	if err != nil {
		log.Warn("could not check that no other process serves the DHCP port", "port", local.Port(), "err", err)
		return nil
	}
	if len(holders) == 0 {
		return nil
	}
	return &PortInUseError{Addr: local, Interfaces: ifaces, Holders: holders}
}
