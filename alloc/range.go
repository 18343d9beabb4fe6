package alloc

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// MaxAddresses is the largest number of addresses one Pool can hold: a /8.
const MaxAddresses = 1 << 24

// Errors that NewPool and ParseRange wrap. Test for them with errors.Is.
var (
	// ErrNotIPv4 means a range bound is missing, IPv6, or IPv4-mapped IPv6.
	ErrNotIPv4 = errors.New("not an IPv4 range")
	// ErrReversed means a range's first address is after its last address.
	ErrReversed = errors.New("first address is after last address")
	// ErrOverlap means two ranges share at least one address.
	ErrOverlap = errors.New("ranges overlap")
	// ErrTooLarge means the ranges hold more than MaxAddresses addresses.
	ErrTooLarge = errors.New("too many addresses")
)

// Range is an inclusive range of IPv4 addresses, First through Last.
//
// A Range is valid when both bounds are IPv4 addresses (not IPv4-mapped
// IPv6) and First is not after Last. A range of one address has First ==
// Last. The zero Range is invalid.
type Range struct {
	First, Last netip.Addr
}

// ParseRange parses s as two IPv4 addresses joined by a hyphen, without
// spaces, such as "198.18.0.10-198.18.0.20", and returns the Range they
// bound. It is the inverse of Range.String for valid ranges. The result is
// always valid when the error is nil.
func ParseRange(s string) (Range, error) {
	first, last, ok := strings.Cut(s, "-")
	if !ok {
		return Range{}, fmt.Errorf("alloc: parsing range %q: want first-last", s)
	}
	var r Range
	var err error
	if r.First, err = netip.ParseAddr(first); err != nil {
		return Range{}, fmt.Errorf("alloc: parsing range %q: first address: %w", s, err)
	}
	if r.Last, err = netip.ParseAddr(last); err != nil {
		return Range{}, fmt.Errorf("alloc: parsing range %q: last address: %w", s, err)
	}
	if err := r.check(); err != nil {
		return Range{}, fmt.Errorf("alloc: parsing range %q: %w", s, err)
	}
	return r, nil
}

// IsValid reports whether r is a valid range: both bounds IPv4 and First
// not after Last.
func (r Range) IsValid() bool { return r.check() == nil }

// check returns nil if r is valid, else an error wrapping ErrNotIPv4 or
// ErrReversed that says which bound is at fault.
func (r Range) check() error {
	if err := checkBound("first", r.First); err != nil {
		return err
	}
	if err := checkBound("last", r.Last); err != nil {
		return err
	}
	if r.First.Compare(r.Last) > 0 {
		return ErrReversed
	}
	return nil
}

func checkBound(which string, a netip.Addr) error {
	switch {
	case a.Is4():
		return nil
	case !a.IsValid():
		return fmt.Errorf("%w: %s address is missing", ErrNotIPv4, which)
	case a.Is4In6():
		return fmt.Errorf("%w: %s address %s is IPv4-mapped IPv6", ErrNotIPv4, which, a)
	default:
		return fmt.Errorf("%w: %s address %s is IPv6", ErrNotIPv4, which, a)
	}
}

// Contains reports whether a is an IPv4 address within r. It reports
// false for every address if r is invalid, and for IPv4-mapped IPv6
// addresses.
func (r Range) Contains(a netip.Addr) bool {
	if !a.Is4() || !r.IsValid() {
		return false
	}
	u := u32(a)
	return u32(r.First) <= u && u <= u32(r.Last)
}

// Size returns the number of addresses in r, from 1 up to 1<<32, or 0 if r
// is invalid.
func (r Range) Size() uint64 {
	if !r.IsValid() {
		return 0
	}
	return uint64(u32(r.Last)-u32(r.First)) + 1
}

// String returns r as "first-last", such as "198.18.0.10-198.18.0.20".
// Each bound is formatted by netip.Addr.String, so an invalid bound shows
// as "invalid IP".
func (r Range) String() string {
	return r.First.String() + "-" + r.Last.String()
}

// RangeError reports a range that NewPool refused: which one (its index in
// the arguments), what it is, and why (Err, which wraps one of ErrNotIPv4,
// ErrReversed, ErrOverlap or ErrTooLarge).
type RangeError struct {
	Index int   // position of the range in NewPool's arguments
	Range Range // the range itself
	Err   error // what is wrong with it
}

// Error returns a message such as
// "alloc: ranges[1] 198.18.0.20-198.18.0.10: first address is after last address".
func (e *RangeError) Error() string {
	return fmt.Sprintf("alloc: ranges[%d] %s: %v", e.Index, e.Range, e.Err)
}

// Unwrap returns e.Err.
func (e *RangeError) Unwrap() error { return e.Err }

// u32 returns the IPv4 address a as a big-endian integer. a must be IPv4.
func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// addrFrom32 is the inverse of u32.
func addrFrom32(u uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
}
