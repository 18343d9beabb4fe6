package daemon

import (
	"fmt"

	"leased/config"
	"leased/netio"
	"leased/server"
)

// The engine the DHCP side serves with takes the addresses that answer a
// ping check.
var _ netio.InUseMarker = (*server.Reloadable)(nil)

// openPinger opens the ICMP socket of the ping checks when a subnet of
// cfg asks for them (ping-check), before privileges are dropped; nil when
// none does. The socket is opened at start only: a reload that turns
// ping-check on for the first time takes effect at the next start.
func openPinger(cfg *config.Config) (netio.Pinger, error) {
	if !PingCheckWanted(cfg) {
		return nil, nil
	}
	p, err := netio.OpenICMPPinger()
	if err != nil {
		return nil, fmt.Errorf("ping-check: cannot open an ICMP socket (this needs root or CAP_NET_RAW): %w", err)
	}
	return p, nil
}

// PingCheckWanted reports whether a subnet of cfg does ping checks.
func PingCheckWanted(cfg *config.Config) bool {
	for _, s := range cfg.Subnets {
		if s.PingCheck > 0 {
			return true
		}
	}
	return false
}
