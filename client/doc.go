// Package client is the DHCPv4 client: the RFC 2131 state machine that
// obtains, keeps, renews and gives back an address lease, and a small
// runner that drives it against a network link, a clock and a hook.
//
// The Machine is sans-I/O. It takes events (Start, a received message, a
// timer firing, the result of an ARP probe, a release request), each with
// the current time, and answers with Actions: send this message broadcast or
// unicast to this server, probe this address, configure or deconfigure this
// lease, run the hook with this reason, save or forget the lease file. It
// never sleeps, reads a clock or touches a socket; its one timer is the
// instant Deadline reports, and the caller calls Timer when it passes.
// Random transaction IDs and retransmission jitter come from the Rand in its
// Config, so that a test with a fixed source is deterministic.
//
// It implements, from RFC 2131:
//
//   - §4.4 and Figure 5: the states INIT, SELECTING, REQUESTING, BOUND,
//     RENEWING, REBINDING, INIT-REBOOT and REBOOTING, plus PROBING (the
//     final check of §4.4.1 between DHCPACK and BOUND), INFORMING and
//     INFORMED (§4.4.3) and STOPPED (after DHCPRELEASE, §4.4.6).
//   - §4.4.1: DHCPDISCOVER and DHCPREQUEST with the fields of Table 5 in
//     each state (ciaddr, requested address, server identifier, broadcast
//     flag, secs); the choice among several offers (the previous address
//     first, else the first offer); DHCPDECLINE when the address is in use,
//     and a restart after ten seconds.
//   - §4.1: retransmission with randomised exponential backoff, 4, 8, 16,
//     32 and then 64 seconds, each ±1 second.
//   - §4.4.2: INIT-REBOOT from a remembered, unexpired lease.
//   - §4.4.5: T1 and T2 (options 58 and 59, by default 1/2 and 7/8 of the
//     lease), unicast renewal to the server, broadcast rebinding,
//     retransmission at half the remaining time down to 60 seconds, and the
//     end of the lease.
//   - §3.1 step 5 and §4.4.1: a DHCPNAK restarts from INIT, removing any
//     configured address; a DHCPNAK from a server other than the one
//     selected is ignored.
//   - §4.4.3: DHCPINFORM for a host with an address configured by hand.
//   - §4.4.6: DHCPRELEASE.
//
// It also follows RFC 2132 §9.14 and RFC 4361 for the client identifier,
// RFC 3442 for classless static routes (which override the routers option),
// and RFC 6842 (a reply whose client identifier is not ours is not ours).
//
// Lease records a lease and its configuration; it marshals to JSON, the
// format of the lease file (WriteLeaseFile, ReadLeaseFile) that INIT-REBOOT
// starts from and of "leased client --once". Hook.Env gives the environment
// of the hook script.
//
// Runner drives a Machine: it reads messages from a Link, arms the timer on
// a Clock, runs probes, executes the actions in order and writes the lease
// file. Package client/link is the Linux Link: packet sockets with a kernel
// filter, netlink configuration, the ARP probe and the hook script.
//
// Not here: sockets, netlink and processes (package client/link), flags
// (cmd/leased), and the wire format (package dhcpv4).
package client
