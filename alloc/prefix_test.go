package alloc

import (
	"net/netip"
	"testing"
)

func TestPrefixRange(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		want   string // "" for the zero Range
	}{
		{"198.18.0.0/24", "198.18.0.0-198.18.0.255"},
		{"198.18.0.77/24", "198.18.0.0-198.18.0.255"}, // not masked
		{"198.18.0.0/15", "198.18.0.0-198.19.255.255"},
		{"198.18.0.4/31", "198.18.0.4-198.18.0.5"},
		{"198.18.0.9/32", "198.18.0.9-198.18.0.9"},
		{"0.0.0.0/0", "0.0.0.0-255.255.255.255"},
		{"2001:db8::/64", ""},
		{"::ffff:198.18.0.0/120", ""},
	} {
		got := PrefixRange(netip.MustParsePrefix(tc.prefix))
		if tc.want == "" {
			if got != (Range{}) {
				t.Errorf("PrefixRange(%s) = %v, want the zero Range", tc.prefix, got)
			}
			continue
		}
		if got.String() != tc.want || !got.IsValid() {
			t.Errorf("PrefixRange(%s) = %v, want %s", tc.prefix, got, tc.want)
		}
	}
	if got := PrefixRange(netip.Prefix{}); got != (Range{}) {
		t.Errorf("PrefixRange of the zero Prefix = %v", got)
	}
}
