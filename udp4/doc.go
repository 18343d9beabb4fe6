// Package udp4 is the IPv4/UDP layer that the DHCP server, the relay agent,
// the client's link and the load generator share: it frames and parses
// datagrams by hand, opens sockets, and reads and writes datagrams in
// batches without allocating.
//
// What it holds:
//
//   - AppendUDP4 and ParseUDP4: IPv4 (RFC 791) and UDP (RFC 768) headers
//     built and checked by hand, with the Internet checksum (RFC 1071), for
//     frames sent and received on packet sockets, where the kernel does
//     not do it.
//   - LinkSender: unicast frames to a hardware address on a packet socket,
//     for replies to a client that has no address yet and so cannot be
//     reached through the kernel, which cannot ARP for it (RFC 2131 §4.1).
//     LinkSender.SendToHardware is that delivery, and the fallback to
//     broadcast where it is impossible.
//   - Listen: the UDP socket of a server or relay agent, with the arrival
//     interface and destination address of every datagram (IP_PKTINFO);
//     OpenEndpoint opens it with its Writer and LinkSender, as both need.
//   - Reader and Writer: batches of datagrams read with recvmmsg(2) and
//     written with sendmmsg(2) into and from buffers they own, with the
//     arrival interface read from, and the departure interface written to,
//     IP_PKTINFO control messages; in steady state neither allocates.
//   - Pacer and Pause: the receive delay, by which a busy reader pauses to
//     read several datagrams per wake-up.
//   - PortHolders: the other sockets bound to a port and the processes
//     holding them (from /proc), so that a second server on port 67,
//     which SO_REUSEADDR lets bind, can refuse to start.
//   - ServerPort and ClientPort: the ports of DHCP (RFC 2131 §4.1).
//
// Not here: DHCP itself (package dhcpv4 encodes and decodes messages and
// says where a reply goes), and what the server, relay or client do with
// what they read. The package imports nothing of leased.
//
// The sockets, batches and pauses are Linux's (recvmmsg, sendmmsg,
// AF_PACKET, IP_PKTINFO); on other systems the package builds, framing and
// Batch work, and the constructors that need the system return an error
// saying the system is not supported.
package udp4
