package alloc

import "net/netip"

// PrefixRange returns the range of every address of the IPv4 prefix p,
// from its network address to its last (broadcast) address, both
// included: 198.18.0.0/24 gives 198.18.0.0-198.18.0.255. p need not be
// masked. For a prefix that is invalid or not IPv4 (IPv4-mapped IPv6
// included), it returns the zero Range, which is invalid.
//
// It lives here, the lowest package that works with address ranges, so
// that the configuration, the server engine and the control API share it
// without an arrow pointing up.
func PrefixRange(p netip.Prefix) Range {
	if !p.IsValid() || !p.Addr().Is4() {
		return Range{}
	}
	first := p.Masked().Addr()
	host := uint32(uint64(1)<<(32-p.Bits()) - 1)
	return Range{First: first, Last: addrFrom32(u32(first) | host)}
}
