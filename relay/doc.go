// Package relay is the DHCP relay agent: it carries client broadcasts from
// the networks it serves (the downstream interfaces) to DHCP servers on
// other networks, and the servers' replies back to the clients.
//
// The package has two halves. The forwarding logic, Relay, is pure: given a
// request and the downstream interface it arrived on, it produces the
// message to forward to the servers or the reason to drop it; given a
// server's reply, it produces the message to deliver, the interface and the
// destination to deliver it to, or the reason to drop it. It does no I/O,
// keeps no clock and allocates nothing when the caller's buffer is large
// enough, and it is tested without root. The socket half, Agent, receives on
// UDP port 67 with the arrival interface of each datagram (IP_PKTINFO), in
// batches, hands each datagram to the Relay, sends the results, and counts
// every outcome by its Reason. It reads and writes through package udp4
// (recvmmsg, sendmmsg, and a packet socket for frames to a hardware
// address) and allocates nothing per datagram; those are Linux's, and on
// other systems Listen returns udp4's error.
//
// A relay changes as little of a message as it can: it edits the bytes it
// received instead of decoding and re-encoding them, so that options it
// does not know, their order and their encoding reach the server and the
// client as they were sent.
//
// What it implements:
//
//   - RFC 1542 §4.1.1 (requests): a request whose hops field exceeds the
//     configured maximum (default 4, at most 16) is dropped; hops is
//     incremented; giaddr is set to the address of the arrival interface
//     when zero and never changed otherwise; secs is left alone, and
//     requests with secs below an optional threshold are held back
//     (dropped, for the client to retry).
//   - RFC 1542 §4.1.2 and RFC 2131 §4.1 (replies): a reply is delivered on
//     the downstream interface it belongs to, broadcast when it is a
//     DHCPNAK, unicast to ciaddr when that is set, broadcast when the
//     client asked for it (broadcast flag) or there is no yiaddr, and
//     otherwise unicast to yiaddr at the client's hardware address, with a
//     frame built by hand since the client cannot answer ARP yet
//     (dhcpv4.ReplyDelivery, the rule the server follows too).
//   - RFC 3046 (relay agent information, option 82), when enabled: the
//     agent circuit ID (the interface name unless configured) and,
//     optionally, the agent remote ID are added as the last option before
//     End, in the options field only (never in sname or file, and never
//     with option overload); a message that would grow past the configured
//     maximum size is forwarded without the option, and counted (§2.1). A
//     request with giaddr zero that already carries option 82 is dropped,
//     forwarded with that option as it is (a trusted circuit), or has it
//     replaced by ours, as configured (§2.1); a request that a relay closer
//     to the client already handled (giaddr set) is forwarded without
//     adding anything, and one whose giaddr is one of our own addresses is
//     dropped (§2.1.1). The option we added is removed from the reply
//     before delivery; replies carrying an option 82 that is not ours are
//     dropped and counted, unless existing options are forwarded, in which
//     case they are delivered as they are, for the downstream element that
//     added the option to remove it.
//   - RFC 3527 (link selection sub-option), when enabled: giaddr is the
//     relay's upstream address, which the server can reach, and the
//     sub-option names the client's subnet by the downstream interface's
//     address. The reply is matched to its interface by circuit ID.
//   - RFC 5107 (server identifier override sub-option), when enabled: the
//     downstream interface's address, so that servers that honour it name
//     the relay as server identifier and renewals come through the relay,
//     which then adds option 82 to them too.
//
// Not here: the wire format (package dhcpv4), the server's use of option
// 82 (package server), and flags and configuration files (the command).
// Only the Agent touches the operating system.
package relay
