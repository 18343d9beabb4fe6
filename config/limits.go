package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// RateLimits are the token buckets applied to requests before the engine
// sees them (package ratelimit, applied by package netio): one per client,
// one per relay agent circuit, one per relay agent. A request is dropped,
// and counted as rate-limited, when any of its buckets is empty. A zero
// Rate turns its bucket off; the zero RateLimits turns them all off.
type RateLimits struct {
	// Client is the bucket of each client: its client identifier
	// (option 61), else its hardware address.
	Client Rate
	// Circuit is the bucket of each relay agent circuit: the relay agent
	// address (giaddr) with the circuit-id of its option 82 (RFC 3046),
	// for relayed requests that carry one.
	Circuit Rate
	// Relay is the bucket of each relay agent address (giaddr), for every
	// relayed request.
	Relay Rate
	// Buckets is how many keys each of the three keeps at most (a fixed
	// table, 16 bytes a key); beyond it, the fullest buckets are reused.
	Buckets int
}

// Rate is a token bucket: Burst requests at once, then PerSecond a second.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return !(r.PerSecond > 0) }

// Off reports whether l limits nothing.
func (l RateLimits) Off() bool { return l.Client.Off() && l.Circuit.Off() && l.Relay.Off() }

// Bounds of the rate-limit keys.
const (
	// MaxRateBuckets bounds rate-limit.buckets: 16 MiB a table.
	MaxRateBuckets = 1 << 20
	// MinRateBuckets is the smallest rate-limit.buckets.
	MinRateBuckets = 64
	// maxRate bounds a bucket's rate and burst.
	maxRate = 1e9
)

var (
	rateLimitKeys = []string{"client", "circuit", "relay", "buckets"}
	rateKeys      = []string{"rate", "burst"}
)

// isOff reports whether n is off or false: a limit turned off.
func isOff(n *yaml.Node) bool {
	r := resolve(n)
	if r == nil || r.Kind != yaml.ScalarNode {
		return false
	}
	switch r.ShortTag() {
	case "!!bool":
		return r.Value == "false" || r.Value == "off" || r.Value == "no"
	case "!!str":
		return r.Value == "off"
	}
	return false
}

// rateLimits decodes the rate-limit mapping into l, whose fields hold the
// defaults; "off" turns every bucket off.
func (d *decoder) rateLimits(n *yaml.Node, path string, l *RateLimits) {
	if isOff(n) {
		*l = RateLimits{Buckets: l.Buckets}
		return
	}
	d.mapping(n, path, "a mapping of client, circuit, relay and buckets, or off", rateLimitKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "client":
			d.rate(v, p, &l.Client)
		case "circuit":
			d.rate(v, p, &l.Circuit)
		case "relay":
			d.rate(v, p, &l.Relay)
		case "buckets":
			if b, ok := d.integer(v, p, "a number of keys", MinRateBuckets, MaxRateBuckets); ok {
				l.Buckets = int(b)
			}
		}
	})
}

// rate decodes one bucket, {rate: R, burst: B}, or off. A bucket that
// gives a rate and no burst gets a burst of one second's worth.
func (d *decoder) rate(n *yaml.Node, path string, r *Rate) {
	if isOff(n) {
		*r = Rate{}
		return
	}
	burstSet := false
	d.mapping(n, path, "a mapping {rate: PER-SECOND, burst: N}, or off", rateKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "rate":
			if f, ok := d.number(v, p, "requests a second, such as 10 or 0.5 (0 turns it off)", 0, maxRate); ok {
				r.PerSecond = f
			}
		case "burst":
			if b, ok := d.integer(v, p, "a number of requests", 1, maxRate); ok {
				r.Burst, burstSet = int(b), true
			}
		}
	})
	switch {
	case r.PerSecond == 0:
		*r = Rate{}
	case !burstSet:
		r.Burst = max(1, int(math.Ceil(r.PerSecond)))
	}
}

// number returns an integer or decimal scalar within lo to hi.
func (d *decoder) number(n *yaml.Node, path, want string, lo, hi float64) (float64, bool) {
	r := resolve(n)
	if isNull(r) || r.Kind != yaml.ScalarNode || (r.ShortTag() != "!!int" && r.ShortTag() != "!!float") {
		d.errorf(n, path, "want %s, got %s", want, describe(r))
		return 0, false
	}
	f, err := strconv.ParseFloat(r.Value, 64)
	if err != nil || math.IsNaN(f) || f < lo || f > hi {
		d.errorf(n, path, "%s is out of range %g to %g", clip(r.Value), lo, hi)
		return 0, false
	}
	return f, true
}

// offerLimit decodes offer-limit: a percentage ("50%") of each subnet's
// pool, or off (100%).
func (d *decoder) offerLimit(n *yaml.Node, path string) (int, bool) {
	if isOff(n) {
		return 100, true
	}
	const want = "a percentage of the pool such as 50%, or off"
	s, ok := d.text(n, path, want)
	if !ok {
		return 0, false
	}
	num, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.Atoi(strings.TrimSpace(num))
	if !pct || err != nil {
		d.errorf(n, path, "want %s, got %q", want, clip(s))
		return 0, false
	}
	if v < 1 || v > 100 {
		d.errorf(n, path, "%d%% is out of range 1%% to 100%% (100%% or off: no limit)", v)
		return 0, false
	}
	return v, true
}

// limits checks what Go code may have set wrong in l and the
// offer limit.
func (v *validator) limits(l RateLimits, offerLimit int) {
	for _, b := range []struct {
		key string
		r   Rate
	}{{"client", l.Client}, {"circuit", l.Circuit}, {"relay", l.Relay}} {
		if math.IsNaN(b.r.PerSecond) || b.r.PerSecond < 0 || b.r.PerSecond > maxRate {
			v.add("rate-limit."+b.key+".rate", "must be from 0 to %g, got %g", float64(maxRate), b.r.PerSecond)
		}
		if !b.r.Off() && b.r.Burst < 1 {
			v.add("rate-limit."+b.key+".burst", "must be at least 1, got %d", b.r.Burst)
		}
	}
	if !l.Off() && (l.Buckets < MinRateBuckets || l.Buckets > MaxRateBuckets) {
		v.add("rate-limit.buckets", "must be from %d to %d, got %d", MinRateBuckets, MaxRateBuckets, l.Buckets)
	}
	if offerLimit < 0 || offerLimit > 100 {
		v.add("offer-limit", "must be from 1%% to 100%% (0 or 100%%: no limit), got %d%%", offerLimit)
	}
}

// String formats r as the file would: "10/s burst 40", or "off".
func (r Rate) String() string {
	if r.Off() {
		return "off"
	}
	return fmt.Sprintf("%g/s burst %d", r.PerSecond, r.Burst)
}
