package client

import "strconv"

// State is a state of the client (RFC 2131 §4.4, Figure 5), with four more
// that the figure leaves implicit.
type State uint8

// The states. The zero State is Init.
const (
	// Init: no lease; the next step is a DHCPDISCOVER, at once or when the
	// deadline passes (after a DHCPDECLINE, or repeated DHCPNAKs).
	Init State = iota
	// Selecting: DHCPDISCOVER sent, collecting offers.
	Selecting
	// Requesting: DHCPREQUEST sent to the chosen server, waiting for its
	// DHCPACK or DHCPNAK.
	Requesting
	// Probing: acknowledged, checking with ARP that no other host uses
	// the address (RFC 2131 §4.4.1, RFC 5227) before binding.
	Probing
	// Bound: the lease is configured; the next step is at T1.
	Bound
	// Renewing: past T1, asking the server that gave the lease, by
	// unicast.
	Renewing
	// Rebinding: past T2, asking any server, by broadcast.
	Rebinding
	// InitReboot: about to ask for a remembered lease back.
	InitReboot
	// Rebooting: DHCPREQUEST for the remembered lease sent, waiting.
	Rebooting
	// Informing: DHCPINFORM sent for an address configured by hand,
	// waiting for the options (RFC 2131 §4.4.3).
	Informing
	// Informed: the options have arrived; nothing more to do.
	Informed
	// Stopped: the lease was released (or there was none to release);
	// nothing more to do.
	Stopped
)

var stateNames = [...]string{
	Init:       "INIT",
	Selecting:  "SELECTING",
	Requesting: "REQUESTING",
	Probing:    "PROBING",
	Bound:      "BOUND",
	Renewing:   "RENEWING",
	Rebinding:  "REBINDING",
	InitReboot: "INIT-REBOOT",
	Rebooting:  "REBOOTING",
	Informing:  "INFORMING",
	Informed:   "INFORMED",
	Stopped:    "STOPPED",
}

// String returns the state's name as RFC 2131 spells it ("INIT-REBOOT"),
// or "state(N)".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Configured reports whether a lease is configured on the interface in
// state s: Bound, Renewing and Rebinding.
func (s State) Configured() bool {
	return s == Bound || s == Renewing || s == Rebinding
}

// Reason is why the hook runs: the value of $reason in its environment.
type Reason string

// The reasons.
const (
	// ReasonBound: a new lease was configured (from SELECTING, or an
	// acknowledgement in RENEWING or REBINDING that gave another address).
	ReasonBound Reason = "BOUND"
	// ReasonReboot: the remembered lease was confirmed (INIT-REBOOT) and
	// configured.
	ReasonReboot Reason = "REBOOT"
	// ReasonRenew: the lease was renewed with its server (RENEWING).
	ReasonRenew Reason = "RENEW"
	// ReasonRebind: the lease was extended by some server (REBINDING).
	ReasonRebind Reason = "REBIND"
	// ReasonExpire: the lease ran out and was removed.
	ReasonExpire Reason = "EXPIRE"
	// ReasonRelease: the lease was released (DHCPRELEASE) and removed.
	ReasonRelease Reason = "RELEASE"
	// ReasonNak: a server refused the address (DHCPNAK); a configured
	// lease was removed.
	ReasonNak Reason = "NAK"
	// ReasonInform: the options asked for with DHCPINFORM arrived.
	ReasonInform Reason = "INFORM"
)

// Configures reports whether the reason comes with a lease now in use:
// BOUND, REBOOT, RENEW, REBIND and INFORM.
func (r Reason) Configures() bool {
	switch r {
	case ReasonBound, ReasonReboot, ReasonRenew, ReasonRebind, ReasonInform:
		return true
	}
	return false
}
