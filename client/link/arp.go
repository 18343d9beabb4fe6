package link

import (
	"math/rand/v2"
	"time"
)

// ProbeConfig sets the timing of the ARP probe and announcements (RFC 5227
// §1.1). The zero value means the RFC's constants.
type ProbeConfig struct {
	// Count is PROBE_NUM, the number of probes: default 3.
	Count int
	// Wait is PROBE_WAIT, the bound of the random wait before the first
	// probe: default 1 s.
	Wait time.Duration
	// Min and Max are PROBE_MIN and PROBE_MAX, the bounds of the random
	// interval between probes: default 1 s and 2 s.
	Min, Max time.Duration
	// AnnounceWait is ANNOUNCE_WAIT, the wait for answers after the last
	// probe: default 2 s.
	AnnounceWait time.Duration
	// Announcements is ANNOUNCE_NUM, the number of announcements after
	// the address is taken: default 2.
	Announcements int
	// AnnounceInterval is ANNOUNCE_INTERVAL, between announcements:
	// default 2 s.
	AnnounceInterval time.Duration
}

// ScaledProbeConfig returns the RFC 5227 timing with every interval
// scaled so that PROBE_MIN is unit (one second gives the RFC's values), and
// count probes.
func ScaledProbeConfig(count int, unit time.Duration) ProbeConfig {
	return ProbeConfig{
		Count: count, Wait: unit, Min: unit, Max: 2 * unit,
		AnnounceWait: 2 * unit, Announcements: 2, AnnounceInterval: 2 * unit,
	}
}

func (c ProbeConfig) withDefaults() ProbeConfig {
	d := ScaledProbeConfig(3, time.Second)
	if c.Count <= 0 {
		c.Count = d.Count
	}
	if c.Wait <= 0 {
		c.Wait = d.Wait
	}
	if c.Min <= 0 {
		c.Min = d.Min
	}
	if c.Max < c.Min {
		c.Max = max(d.Max, c.Min)
	}
	if c.AnnounceWait <= 0 {
		c.AnnounceWait = d.AnnounceWait
	}
	if c.Announcements <= 0 {
		c.Announcements = d.Announcements
	}
	if c.AnnounceInterval <= 0 {
		c.AnnounceInterval = d.AnnounceInterval
	}
	return c
}

// randomIn returns a uniformly random duration in [lo, hi].
func randomIn(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rand.Int64N(int64(hi-lo)+1))
}
