package dhcpv4

import (
	"encoding/hex"
	"errors"
	"strings"
)

// ErrHex is returned by ParseHex for text that is not hex bytes.
var ErrHex = errors.New("dhcpv4: not hex bytes such as 01:02:0a or 01020a")

// ParseHex parses bytes written in hex, as operators write hardware
// addresses, client identifiers (RFC 2132 §9.14) and raw option values:
// pairs of hex digits, either all separated by ':' ("01:02:0a"), all by
// '-' ("01-02-0a"), or not separated at all ("01020a"). Upper and lower
// case digits are accepted. The empty string is zero bytes; callers that
// need at least one byte check the length. Anything else, such as a pair
// of one digit ("1:02"), an empty pair ("01::02") or mixed separators,
// is refused with ErrHex.
func ParseHex(s string) ([]byte, error) {
	sep := byte(0)
	switch {
	case strings.IndexByte(s, ':') >= 0:
		sep = ':'
	case strings.IndexByte(s, '-') >= 0:
		sep = '-'
	}
	if sep == 0 {
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, ErrHex
		}
		return b, nil
	}
	if len(s)%3 != 2 {
		return nil, ErrHex
	}
	b := make([]byte, (len(s)+1)/3)
	for i := range b {
		p := s[3*i:]
		if i > 0 && s[3*i-1] != sep {
			return nil, ErrHex
		}
		hi, ok1 := fromHexChar(p[0])
		lo, ok2 := fromHexChar(p[1])
		if !ok1 || !ok2 {
			return nil, ErrHex
		}
		b[i] = hi<<4 | lo
	}
	return b, nil
}

func fromHexChar(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// FormatHex writes b as lower-case hex pairs separated by ':'
// ("01:02:0a"), the form ParseHex reads and hardware addresses are shown
// in. It returns "" for no bytes.
func FormatHex(b []byte) string {
	return string(AppendHex(nil, b))
}

// AppendHex appends the FormatHex form of b to dst.
func AppendHex(dst, b []byte) []byte {
	const digits = "0123456789abcdef"
	for i, c := range b {
		if i > 0 {
			dst = append(dst, ':')
		}
		dst = append(dst, digits[c>>4], digits[c&0xf])
	}
	return dst
}
