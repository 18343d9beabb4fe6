package server

import (
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/lease"
)

// TestNewSetsNoDefaults checks that the engine takes its timers from the
// configuration as package config made it, and refuses one that skipped
// config's defaults rather than filling in its own (config is the one
// home of every default).
func TestNewSetsNoDefaults(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*config.Config)
	}{
		{"zero offer-hold", func(c *config.Config) { c.OfferHold = 0 }},
		{"zero decline-probation", func(c *config.Config) { c.DeclineProbation = 0 }},
		{"negative offer-hold", func(c *config.Config) { c.OfferHold = -time.Second }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.mutate(cfg)
			_, err := New(cfg, &lease.Memory{}, time.Now)
			if err == nil || !strings.Contains(err.Error(), "OfferHold and DeclineProbation") {
				t.Fatalf("New = %v, want an error naming OfferHold and DeclineProbation", err)
			}
		})
	}
	if _, err := New(testConfig(), &lease.Memory{}, time.Now); err != nil {
		t.Fatalf("New with config's timers: %v", err)
	}
}
