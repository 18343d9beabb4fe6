package alloc

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func mustAddr(t testing.TB, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustRange(t testing.TB, s string) Range {
	t.Helper()
	r, err := ParseRange(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rng builds a Range from two address strings without validating it, so
// that tests can build invalid ranges too. An empty string is the zero
// Addr.
func rng(first, last string) Range {
	var r Range
	if first != "" {
		r.First = netip.MustParseAddr(first)
	}
	if last != "" {
		r.Last = netip.MustParseAddr(last)
	}
	return r
}

func TestNewPoolValidation(t *testing.T) {
	tests := []struct {
		name   string
		ranges []Range
		want   error    // sentinel; nil means NewPool must succeed
		index  int      // RangeError.Index when want != nil
		text   []string // substrings of the message
		size   int      // Size() when want == nil
	}{
		{name: "no ranges make an empty pool", size: 0},
		{name: "single address range", ranges: []Range{rng("198.18.0.1", "198.18.0.1")}, size: 1},
		{name: "adjacent ranges are not overlapping",
			ranges: []Range{rng("198.18.0.10", "198.18.0.19"), rng("198.18.0.20", "198.18.0.29")}, size: 20},
		{name: "unsorted ranges are accepted",
			ranges: []Range{rng("198.18.1.0", "198.18.1.9"), rng("198.18.0.0", "198.18.0.9")}, size: 20},
		{name: "exactly a /8 is accepted", ranges: []Range{rng("10.0.0.0", "10.255.255.255")}, size: MaxAddresses},
		{name: "edges of the address space",
			ranges: []Range{rng("255.255.255.0", "255.255.255.255"), rng("0.0.0.0", "0.0.0.255")}, size: 512},

		{name: "missing first address", ranges: []Range{rng("", "198.18.0.1")},
			want: ErrNotIPv4, index: 0, text: []string{"ranges[0]", "first address is missing"}},
		{name: "missing last address", ranges: []Range{rng("198.18.0.1", "198.18.0.9"), rng("198.18.0.10", "")},
			want: ErrNotIPv4, index: 1, text: []string{"ranges[1]", "last address is missing"}},
		{name: "IPv6 first address", ranges: []Range{rng("2001:db8::1", "198.18.0.1")},
			want: ErrNotIPv4, index: 0, text: []string{"first address 2001:db8::1 is IPv6"}},
		{name: "IPv6 range", ranges: []Range{rng("2001:db8::1", "2001:db8::9")},
			want: ErrNotIPv4, index: 0, text: []string{"2001:db8::1-2001:db8::9", "IPv6"}},
		{name: "IPv4-mapped IPv6 last address", ranges: []Range{rng("198.18.0.1", "::ffff:198.18.0.9")},
			want: ErrNotIPv4, index: 0, text: []string{"last address ::ffff:198.18.0.9 is IPv4-mapped IPv6"}},
		{name: "first after last", ranges: []Range{rng("198.18.0.1", "198.18.0.5"), rng("198.18.0.20", "198.18.0.10")},
			want: ErrReversed, index: 1,
			text: []string{"alloc: ranges[1] 198.18.0.20-198.18.0.10: first address is after last address"}},
		{name: "identical ranges overlap",
			ranges: []Range{rng("198.18.0.10", "198.18.0.20"), rng("198.18.0.10", "198.18.0.20")},
			want:   ErrOverlap, index: 1,
			text: []string{"ranges[1] 198.18.0.10-198.18.0.20", "198.18.0.10-198.18.0.20 is also in ranges[0]"}},
		{name: "partial overlap names the shared addresses",
			ranges: []Range{rng("198.18.0.15", "198.18.0.30"), rng("198.18.0.10", "198.18.0.20")},
			want:   ErrOverlap, index: 1,
			text: []string{"198.18.0.15-198.18.0.20 is also in ranges[0] 198.18.0.15-198.18.0.30"}},
		{name: "one shared address at the boundary",
			ranges: []Range{rng("198.18.0.10", "198.18.0.20"), rng("198.18.0.20", "198.18.0.30")},
			want:   ErrOverlap, index: 1, text: []string{"198.18.0.20-198.18.0.20 is also in ranges[0]"}},
		{name: "range inside another",
			ranges: []Range{rng("198.18.0.12", "198.18.0.14"), rng("198.18.1.0", "198.18.1.1"), rng("198.18.0.0", "198.18.0.255")},
			want:   ErrOverlap, index: 2, text: []string{"198.18.0.12-198.18.0.14 is also in ranges[0]"}},
		{name: "whole IPv4 space is more than a /8", ranges: []Range{rng("0.0.0.0", "255.255.255.255")},
			want: ErrTooLarge, index: 0, text: []string{"4294967296 addresses", "16777216"}},
		{name: "a /8 plus one address is too large",
			ranges: []Range{rng("10.0.0.0", "10.255.255.255"), rng("198.18.0.1", "198.18.0.1")},
			want:   ErrTooLarge, index: 1, text: []string{"ranges[0] to ranges[1] hold 16777217 addresses"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPool(tt.ranges...)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("NewPool: %v", err)
				}
				if p.Size() != tt.size || p.Available() != tt.size || p.Used() != 0 {
					t.Errorf("Size, Available, Used = %d, %d, %d; want %d, %d, 0",
						p.Size(), p.Available(), p.Used(), tt.size, tt.size)
				}
				return
			}
			if p != nil || err == nil {
				t.Fatalf("NewPool = %v, %v; want nil and an error", p, err)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %q does not wrap %q", err, tt.want)
			}
			var re *RangeError
			if !errors.As(err, &re) {
				t.Fatalf("error %q is %T, not a *RangeError", err, err)
			}
			if re.Index != tt.index || re.Range != tt.ranges[tt.index] {
				t.Errorf("RangeError names ranges[%d] %s; want ranges[%d] %s", re.Index, re.Range, tt.index, tt.ranges[tt.index])
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestNewPoolDoesNotModifyArguments(t *testing.T) {
	in := []Range{mustRange(t, "198.18.2.0-198.18.2.9"), mustRange(t, "198.18.0.0-198.18.0.9")}
	saved := append([]Range(nil), in...)
	p, err := NewPool(in...)
	if err != nil {
		t.Fatal(err)
	}
	if in[0] != saved[0] || in[1] != saved[1] {
		t.Errorf("NewPool reordered its arguments: %v, was %v", in, saved)
	}
	got := p.Ranges()
	if len(got) != 2 || got[0] != saved[1] || got[1] != saved[0] {
		t.Errorf("Ranges() = %v; want %v in ascending order", got, []Range{saved[1], saved[0]})
	}
	got[0] = Range{}
	if p.Ranges()[0] != saved[1] {
		t.Error("Ranges() returned the pool's own slice")
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in      string
		want    Range
		wantErr error  // sentinel, when the error wraps one
		errText string // substring of the error; "" means no error
	}{
		{in: "198.18.0.10-198.18.0.20", want: rng("198.18.0.10", "198.18.0.20")},
		{in: "0.0.0.0-255.255.255.255", want: rng("0.0.0.0", "255.255.255.255")},
		{in: "198.18.0.7-198.18.0.7", want: rng("198.18.0.7", "198.18.0.7")},
		{in: "198.18.0.10", errText: "want first-last"},
		{in: "", errText: "want first-last"},
		{in: "198.18.0.10 - 198.18.0.20", errText: "first address"},
		{in: "198.18.0.10-", errText: "last address"},
		{in: "198.18.0.300-198.18.0.301", errText: "first address"},
		{in: "198.18.0.20-198.18.0.10", wantErr: ErrReversed, errText: `"198.18.0.20-198.18.0.10"`},
		{in: "2001:db8::1-2001:db8::2", wantErr: ErrNotIPv4, errText: "IPv6"},
		{in: "::ffff:198.18.0.1-::ffff:198.18.0.2", wantErr: ErrNotIPv4, errText: "IPv4-mapped"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRange(tt.in)
			if tt.errText == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseRange(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
				}
				if s := got.String(); s != tt.in {
					t.Errorf("String() = %q; want %q", s, tt.in)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseRange(%q) = %v, nil; want an error", tt.in, got)
			}
			if got != (Range{}) {
				t.Errorf("ParseRange(%q) returned %v with its error; want the zero Range", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("error %q does not contain %q", err, tt.errText)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q does not wrap %q", err, tt.wantErr)
			}
		})
	}
}

func TestRangeMethods(t *testing.T) {
	tests := []struct {
		name  string
		r     Range
		valid bool
		size  uint64
		in    []string
		out   []string
	}{
		{name: "ordinary range", r: rng("198.18.0.10", "198.18.0.20"), valid: true, size: 11,
			in: []string{"198.18.0.10", "198.18.0.15", "198.18.0.20"}, out: []string{"198.18.0.9", "198.18.0.21", "::ffff:198.18.0.15", "2001:db8::1"}},
		{name: "single address", r: rng("198.18.0.5", "198.18.0.5"), valid: true, size: 1,
			in: []string{"198.18.0.5"}, out: []string{"198.18.0.4", "198.18.0.6"}},
		{name: "whole space does not overflow", r: rng("0.0.0.0", "255.255.255.255"), valid: true, size: 1 << 32,
			in: []string{"0.0.0.0", "255.255.255.255"}, out: []string{"::"}},
		{name: "top of the space", r: rng("255.255.255.250", "255.255.255.255"), valid: true, size: 6,
			in: []string{"255.255.255.255"}, out: []string{"255.255.255.249", "0.0.0.0"}},
		{name: "zero Range is invalid", r: Range{}, out: []string{"0.0.0.0"}},
		{name: "reversed range contains nothing", r: rng("198.18.0.20", "198.18.0.10"),
			out: []string{"198.18.0.10", "198.18.0.15", "198.18.0.20"}},
		{name: "IPv6 range contains nothing", r: rng("::", "::ffff"), out: []string{"::1", "0.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.IsValid(); got != tt.valid {
				t.Errorf("IsValid() = %v; want %v", got, tt.valid)
			}
			if got := tt.r.Size(); got != tt.size {
				t.Errorf("Size() = %d; want %d", got, tt.size)
			}
			for _, s := range tt.in {
				if !tt.r.Contains(mustAddr(t, s)) {
					t.Errorf("Contains(%s) = false; want true", s)
				}
			}
			for _, s := range tt.out {
				if tt.r.Contains(mustAddr(t, s)) {
					t.Errorf("Contains(%s) = true; want false", s)
				}
			}
			if got := tt.r.Contains(netip.Addr{}); got {
				t.Error("Contains(zero Addr) = true")
			}
		})
	}
}
