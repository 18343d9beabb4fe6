package netio

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/ratelimit"
)

// The buckets a request passes, in the order they are asked.
const (
	bucketRelay = iota
	bucketCircuit
	bucketClient
	bucketCount
)

var bucketNames = [bucketCount]string{"relay", "circuit", "client"}

// limiter applies Options.RateLimits to requests before the engine sees
// them, and keeps what it dropped for a summary line in the log. Its
// tables have a fixed size: a flood of new keys costs no memory and no
// allocation (package ratelimit).
type limiter struct {
	cfg    config.RateLimits
	tables [bucketCount]*ratelimit.Table // nil: that bucket is off

	dropped   [bucketCount]atomic.Uint64 // since the last summary line
	lastHW    atomic.Uint64              // hardware address of the last client dropped
	lastRelay atomic.Uint32              // giaddr of the last relayed request dropped
}

// newLimiter returns the limiter of l, or nil when l limits nothing.
func newLimiter(l config.RateLimits) *limiter {
	if l.Off() {
		return nil
	}
	lim := &limiter{cfg: l}
	for i, r := range [bucketCount]config.Rate{bucketRelay: l.Relay, bucketCircuit: l.Circuit, bucketClient: l.Client} {
		lim.tables[i] = ratelimit.New(ratelimit.Limit{Rate: r.PerSecond, Burst: r.Burst}, l.Buckets)
	}
	return lim
}

// allow takes a token from each bucket of req at now: its relay agent's
// and circuit's when relayed, and its client's. It reports false, and
// notes the drop, when one of them is empty. A nil limiter allows all.
func (l *limiter) allow(req *dhcpv4.Packet, now time.Time) bool {
	if l == nil {
		return true
	}
	var gi [4]byte
	if isSet(req.GIAddr) {
		gi = req.GIAddr.As4()
		if t := l.tables[bucketRelay]; t != nil && !t.Allow(t.Key(gi[:], nil), now) {
			return l.drop(bucketRelay, req, gi)
		}
		if t := l.tables[bucketCircuit]; t != nil {
			if info, ok := req.Options.Get(dhcpv4.OptRelayAgentInfo); ok {
				if c, ok := dhcpv4.SubOption(info, dhcpv4.RelayCircuitID); ok && !t.Allow(t.Key(gi[:], c), now) {
					return l.drop(bucketCircuit, req, gi)
				}
			}
		}
	}
	if t := l.tables[bucketClient]; t != nil {
		// The client's identity, as the engine's (RFC 2132 §9.14,
		// RFC 4361): its client identifier, else its hardware type and
		// address.
		var k ratelimit.Key
		if id, ok := req.Options.Get(dhcpv4.OptClientID); ok && len(id) > 0 {
			k = t.Key(id, nil)
		} else {
			htype := [1]byte{req.HType}
			k = t.Key(htype[:], req.HardwareAddr())
		}
		if !t.Allow(k, now) {
			return l.drop(bucketClient, req, gi)
		}
	}
	return true
}

// drop notes a request dropped by bucket b, and returns false.
func (l *limiter) drop(b int, req *dhcpv4.Packet, gi [4]byte) bool {
	l.dropped[b].Add(1)
	var hw uint64
	if req.HLen == 6 {
		for _, c := range req.CHAddr[:6] {
			hw = hw<<8 | uint64(c)
		}
		hw |= 1 << 63 // set: a hardware address was seen
	}
	l.lastHW.Store(hw)
	l.lastRelay.Store(uint32(gi[0])<<24 | uint32(gi[1])<<16 | uint32(gi[2])<<8 | uint32(gi[3]))
	return false
}

// summary returns and resets the drops by bucket since the last call.
func (l *limiter) summary() (n [bucketCount]uint64, total uint64) {
	for i := range n {
		n[i] = l.dropped[i].Swap(0)
		total += n[i]
	}
	return n, total
}

// logRateLimited writes one line for the requests the rate limits
// dropped since the last one, if any: how many by bucket, and the last
// client and relay agent dropped. It is called once a second, so that a
// flood costs one log line a second, not one a request.
func (s *Server) logRateLimited(ctx context.Context) {
	s.logDropped(ctx, s.limits.Load())
}

// SetRateLimits puts rate limits l in effect in place of
// Options.RateLimits or those of the last call, as a configuration
// reload does. Buckets start full when l differs from the limits in
// effect, and are kept when it does not.
func (s *Server) SetRateLimits(l config.RateLimits) {
	cur := s.limits.Load()
	if (cur == nil && l.Off()) || (cur != nil && cur.cfg == l) {
		return
	}
	if old := s.limits.Swap(newLimiter(l)); old != nil {
		s.logDropped(context.Background(), old) // what the old limits dropped
	}
}

// logDropped writes the summary line of the drops of l.
func (s *Server) logDropped(ctx context.Context, l *limiter) {
	if l == nil {
		return
	}
	n, total := l.summary()
	if total == 0 {
		return
	}
	attrs := []slog.Attr{slog.String("event", "rate-limited"), slog.Uint64("count", total)}
	for i, c := range n {
		if c > 0 {
			attrs = append(attrs, slog.Uint64(bucketNames[i], c))
		}
	}
	if hw := l.lastHW.Load(); hw != 0 {
		mac := make(net.HardwareAddr, 6)
		for i := range mac {
			mac[i] = byte(hw >> (8 * (5 - i)))
		}
		attrs = append(attrs, slog.String("last-client", mac.String()))
	}
	if gi := l.lastRelay.Load(); gi != 0 {
		attrs = append(attrs, slog.String("last-relay", netip.AddrFrom4([4]byte{byte(gi >> 24), byte(gi >> 16), byte(gi >> 8), byte(gi)}).String()))
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "requests dropped by rate limits", attrs...)
}
