// Package link is the Linux side of the DHCP client: it puts the
// client.Machine on an interface.
//
// Socket sends and receives DHCP messages on a packet socket (AF_PACKET,
// SOCK_DGRAM, ETH_P_IP) bound to the interface, so that the client works
// before the interface has an address. A classic BPF program, attached
// before the socket is bound, lets through only unfragmented IPv4 UDP
// datagrams for port 68 (Filter), so the process never sees the rest of the
// traffic. The client builds the IPv4 and UDP headers of what it
// broadcasts itself (udp4.AppendUDP4); it checks the IPv4 header checksum
// of what it receives (udp4.ParseUDP4), and the UDP checksum too unless the kernel reports that it has
// not been filled in yet (PACKET_AUXDATA, TP_STATUS_CSUMNOTREADY: a
// datagram from the same host or a virtual link with checksum offload).
// Unicast to a server (RENEWING, DHCPRELEASE) goes through an ordinary UDP
// socket bound to the leased address and port 68 (SO_REUSEADDR,
// SO_BINDTODEVICE), so the kernel routes it and resolves the next hop;
// when the address is not configured (--no-configure), the datagram goes
// out on the packet socket to the hardware address the server's replies
// came from.
//
// Probe checks that no other host uses an address before the client takes
// it (RFC 5227 §2.1.1: PROBE_NUM ARP probes with sender address 0.0.0.0,
// PROBE_MIN to PROBE_MAX apart, after a random wait up to PROBE_WAIT, then
// ANNOUNCE_WAIT for answers; any ARP packet from another host claiming the
// address, or probing for it, is a conflict); Announce sends the
// gratuitous ARP announcements of §2.3 once it has.
//
// Configurator configures the interface through rtnetlink: the address
// with its prefix length, broadcast address and the lease's remaining time
// as its lifetime (so the kernel removes it even if the client dies), the
// routes (the classless static routes of option 121 when the server sent
// them, which override the routers of option 3 as RFC 3442 §3 requires,
// else a default route through the first router), each with protocol
// "dhcp", and the MTU of option 26; Deconfigure undoes all of it and
// restores the MTU.
//
// Script runs the hook script with the reason as its argument and the
// lease in its environment (client.Hook.Env); WriteResolvConf writes a
// resolv.conf for --resolv-conf.
//
// Link puts these together as a client.Link. Only Ethernet interfaces are
// supported (hardware type 1, 6-byte addresses). Everything here needs
// CAP_NET_RAW and CAP_NET_ADMIN, and Linux: on other systems the package
// builds, and Open, OpenSocket, Probe, Announce and the Configurator's
// methods return an error saying the system is not supported.
//
// Not here: protocol decisions (package client), the wire format
// (package dhcpv4), and IPv4/UDP framing and the DHCP ports (package
// udp4).
package link
