// Package prefix answers a question about IP prefixes that net/netip does
// not: which address is a prefix's last. For an IPv4 subnet that is its
// broadcast address (RFC 919, RFC 922), except for /31 and /32
// (RFC 3021), whose last address is a host's.
//
// It is a package of its own, on the floor beside dhcpv4, so that every
// part that needs the answer shares one definition: the configuration and
// the server engine (a subnet's broadcast address), the control API (the
// span of a subnet filter) and the client (the broadcast address it
// configures), which must not import the server's packages. Package
// dhcpv4, the wire format, is no home for address arithmetic.
//
// Not here: address ranges and pools (package alloc), parsing (net/netip).
package prefix
