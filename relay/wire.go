package relay

import (
	"encoding/binary"
	"net/netip"

	"leased/dhcpv4"
)

// Offsets of the fixed BOOTP fields (RFC 2131 §2, Figure 1).
const (
	offOp      = 0
	offHType   = 1
	offHLen    = 2
	offHops    = 3
	offSecs    = 8
	offFlags   = 10
	offCIAddr  = 12
	offYIAddr  = 16
	offGIAddr  = 24
	offCHAddr  = 28
	offSName   = 44
	offFile    = 108
	offCookie  = 236
	offOptions = dhcpv4.MinLen
)

// Option framing codes.
const (
	optPad      = byte(dhcpv4.OptPad)
	optEnd      = byte(dhcpv4.OptEnd)
	optAgent    = byte(dhcpv4.OptRelayAgentInfo)
	optType     = byte(dhcpv4.OptMessageType)
	optOverload = byte(dhcpv4.OptOverload)
)

// maxAgentSpans is the most instances of option 82 a message may hold in
// one field: a value split over several instances (RFC 3396) needs one per
// 255 bytes, and no sane message holds more than a few.
const maxAgentSpans = 8

// span is the [start, end) byte range of one option instance, code and
// length bytes included.
type span struct{ start, end int }

// field is what a walk of one options area found.
type field struct {
	end      int // offset of the End option, or of the area's end when missing
	agent    [maxAgentSpans]span
	nAgent   int  // instances of option 82
	msgType  byte // value of option 53 when present with length 1
	overload byte // value of option 52 when present with length 1
}

// walk scans the options area b[start:limit] of a message. It reports false
// when an option runs past the area or option 82 appears more than
// maxAgentSpans times. A missing End is tolerated, as receivers do.
func walk(b []byte, start, limit int, f *field) bool {
	*f = field{end: limit}
	for i := start; i < limit; {
		code := b[i]
		switch code {
		case optPad:
			i++
			continue
		case optEnd:
			f.end = i
			return true
		}
		if i+1 >= limit {
			return false
		}
		next := i + 2 + int(b[i+1])
		if next > limit {
			return false
		}
		switch code {
		case optAgent:
			if f.nAgent == maxAgentSpans {
				return false
			}
			f.agent[f.nAgent] = span{i, next}
			f.nAgent++
		case optType:
			if next-i == 3 {
				f.msgType = b[i+2]
			}
		case optOverload:
			if next-i == 3 {
				f.overload = b[i+2]
			}
		}
		i = next
	}
	return true
}

// header checks the framing every message must have: the length of the
// fixed fields and the cookie, op, hlen and the magic cookie (RFC 2131 §3).
// It returns 0 when they are right, else the reason to drop the message.
func header(b []byte, op dhcpv4.OpCode) Reason {
	if len(b) < dhcpv4.MinLen {
		return DropMalformed
	}
	if b[offOp] != byte(op) {
		if b[offOp] != byte(dhcpv4.BootRequest) && b[offOp] != byte(dhcpv4.BootReply) {
			return DropMalformed
		}
		return DropWrongOp
	}
	if b[offHLen] > 16 {
		return DropMalformed
	}
	if binary.BigEndian.Uint32(b[offCookie:]) != magicCookie {
		return DropMalformed
	}
	return 0
}

// magicCookie starts the options field (RFC 2131 §3).
const magicCookie = 0x63825363

// addr4 returns the IPv4 address at b[off:off+4].
func addr4(b []byte, off int) netip.Addr {
	return netip.AddrFrom4([4]byte(b[off : off+4]))
}

// isSet reports whether a is an address other than 0.0.0.0.
func isSet(a netip.Addr) bool { return a.IsValid() && !a.IsUnspecified() }

// appendWithout appends b[start:end] to dst, leaving out the spans skip
// (sorted, inside [start, end)).
func appendWithout(dst, b []byte, start, end int, skip []span) []byte {
	for _, s := range skip {
		dst = append(dst, b[start:s.start]...)
		start = s.end
	}
	return append(dst, b[start:end]...)
}

// padTo appends zeros to b up to length n.
func padTo(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	return append(b, make([]byte, n-len(b))...)
}
