package client

import (
	"fmt"
	"net/netip"

	"leased/dhcpv4"
)

// Action is something the Machine asks its caller to do: Send, Probe,
// Configure, Deconfigure, RunHook, Save or Forget. The caller performs the
// actions of one call in order.
type Action interface {
	isAction()
	// String describes the action for logs.
	String() string
}

// Send asks for a message to be transmitted from port 68 to port 67.
type Send struct {
	// Msg is the message. It belongs to the caller from now on.
	Msg *dhcpv4.Packet
	// To is the server to unicast to, from Msg.CIAddr (RFC 2131 §4.4.5,
	// RENEWING, and DHCPRELEASE); the zero Addr means broadcast to
	// 255.255.255.255, from Msg.CIAddr or 0.0.0.0.
	To netip.Addr
}

// Probe asks whether another host on the link uses Addr (ARP, RFC 5227).
// The answer goes to Machine.ProbeResult.
type Probe struct {
	Addr netip.Addr
}

// Configure asks for the interface to be set up for Lease: address and
// prefix, broadcast address, routes and MTU. Old, when not nil, is the
// lease configured until now; whatever it set that Lease does not (another
// address, routes no longer given) is to be removed.
type Configure struct {
	Lease, Old *Lease
}

// Deconfigure asks for what Configure set up for Lease to be removed.
type Deconfigure struct {
	Lease *Lease
}

// RunHook asks for the hook script to run; see Hook.
type RunHook struct {
	Hook Hook
}

// Save asks for the lease to be written to the lease file, for INIT-REBOOT
// after a restart.
type Save struct {
	Lease *Lease
}

// Forget asks for the lease file to be removed: its address must not be
// asked for again (after DHCPNAK, DHCPDECLINE or DHCPRELEASE).
type Forget struct{}

func (Send) isAction()        {}
func (Probe) isAction()       {}
func (Configure) isAction()   {}
func (Deconfigure) isAction() {}
func (RunHook) isAction()     {}
func (Save) isAction()        {}
func (Forget) isAction()      {}

func (a Send) String() string {
	to := "broadcast"
	if a.To.IsValid() {
		to = "unicast to " + a.To.String()
	}
	return fmt.Sprintf("send %s %s", to, a.Msg)
}

func (a Probe) String() string { return "probe " + a.Addr.String() }

func (a Configure) String() string {
	if a.Old != nil {
		return fmt.Sprintf("configure %v (was %v)", a.Lease.Addr, a.Old.Addr)
	}
	return fmt.Sprintf("configure %v", a.Lease.Addr)
}

func (a Deconfigure) String() string { return fmt.Sprintf("deconfigure %v", a.Lease.Addr) }

func (a RunHook) String() string {
	if a.Hook.Lease != nil {
		return fmt.Sprintf("hook %s %v", a.Hook.Reason, a.Hook.Lease.Addr)
	}
	return fmt.Sprintf("hook %s", a.Hook.Reason)
}

func (a Save) String() string { return fmt.Sprintf("save %v", a.Lease.Addr) }

func (Forget) String() string { return "forget the saved lease" }
