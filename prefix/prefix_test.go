package prefix

import (
	"net/netip"
	"testing"
)

func TestLast(t *testing.T) {
	for _, tc := range []struct {
		name, prefix, want string
	}{
		{"IPv4 /24", "198.18.0.0/24", "198.18.0.255"},
		{"not masked", "198.18.0.77/24", "198.18.0.255"},
		{"IPv4 /15", "198.18.0.0/15", "198.19.255.255"},
		{"IPv4 /20, a bit inside a byte", "198.18.16.0/20", "198.18.31.255"},
		{"RFC3021 /31", "198.18.0.4/31", "198.18.0.5"},
		{"IPv4 /32", "198.18.0.9/32", "198.18.0.9"},
		{"IPv4 /0", "0.0.0.0/0", "255.255.255.255"},
		{"IPv6 /64", "2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff"},
		{"IPv6 /128", "2001:db8::1/128", "2001:db8::1"},
		{"IPv4-mapped IPv6", "::ffff:198.18.0.0/120", "::ffff:198.18.0.255"},
	} {
		if got := Last(netip.MustParsePrefix(tc.prefix)); got != netip.MustParseAddr(tc.want) {
			t.Errorf("%s: Last(%s) = %v, want %s", tc.name, tc.prefix, got, tc.want)
		}
	}
	if got := Last(netip.Prefix{}); got.IsValid() {
		t.Errorf("Last of the zero Prefix = %v, want the zero Addr", got)
	}
}

func BenchmarkLast(b *testing.B) {
	p := netip.MustParsePrefix("198.18.0.0/15")
	b.ReportAllocs()
	for b.Loop() {
		_ = Last(p)
	}
}
