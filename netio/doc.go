// Package netio puts the server engine on the wire: it receives DHCP
// requests on UDP port 67 with their arrival interface and destination
// address (IP_PKTINFO), hands them to the engine, and sends each reply where
// RFC 2131 §4.1 says (see server.Destination).
//
// Replies to clients that have no address yet and did not ask for
// broadcast go out as unicast frames to the client's hardware address on a
// packet socket (AF_PACKET), with IPv4 and UDP headers built here, because
// the kernel cannot ARP for an address that is not configured yet. Where
// that is impossible (hardware addresses that are not Ethernet), the reply
// is broadcast.
//
// Several workers read the one socket in batches (recvmmsg through
// golang.org/x/net/ipv4) and reuse their buffers and packets, so the path
// from receive to send allocates little in steady state. A malformed packet
// is dropped, counted and logged at a bounded rate.
//
// Not here: protocol decisions (package server) and the wire format
// (package dhcpv4). Only this package, the client's link package and the
// command touch the operating system.
package netio
