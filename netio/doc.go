// Package netio puts the server engine on the wire: it receives DHCP
// requests on UDP port 67 with their arrival interface and destination
// address (IP_PKTINFO), hands them to the engine, and sends each reply where
// RFC 2131 §4.1 says (server.Destination, by the rule of
// dhcpv4.ReplyDelivery).
//
// Replies to clients that have no address yet and did not ask for
// broadcast go out as unicast frames to the client's hardware address on a
// packet socket (AF_PACKET), with IPv4 and UDP headers built by hand
// (udp4.LinkSender.SendToHardware), because the kernel cannot ARP for an
// address that is not configured yet. Where that is impossible (no packet
// socket, hardware addresses that are not Ethernet), the reply is
// broadcast.
//
// Several readers read the one socket in batches (recvmmsg(2), through
// udp4.Reader) and pause under load to read several requests per wake-up
// (the receive delay, udp4.Pacer); the requests that wait for a lease
// commit go to committers, whose replies leave together through one
// sender (sendmmsg(2), through udp4.Writer). Workers reuse their buffers
// and packets, so the path from receive to send allocates nothing in
// steady state. A malformed packet is dropped, counted and logged at a
// bounded rate; so are the requests whose lease commit failed: every one
// is counted, and the error log says it at most once a second, with the
// number since its last line.
//
// Before the engine sees a request, it passes the rate limits
// (Options.RateLimits, SetRateLimits): token buckets per relay agent, per
// relay agent circuit (option 82 circuit-id, RFC 3046) and per client, in
// tables of fixed size (package ratelimit), so that a flood of new
// hardware addresses costs no memory and no allocation. What is over is
// dropped, counted as server.ReasonRateLimited, and summed up in one log
// line a second.
//
// Not here: protocol decisions (package server), the wire format (package
// dhcpv4), and sockets, frames and batches (package udp4). The batched
// sockets are Linux's: on other systems Listen returns udp4's error.
package netio
