package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestRateLimitKeys(t *testing.T) {
	def := DefaultRateLimits()
	tests := []struct {
		name      string
		yaml      string
		want      RateLimits
		wantOffer int
	}{
		{"absent: the defaults", "", def, DefaultOfferLimit},
		{"rate-limit off turns every bucket off", "rate-limit: off\n", RateLimits{Buckets: def.Buckets}, DefaultOfferLimit},
		{"rate-limit false is off too", "rate-limit: false\n", RateLimits{Buckets: def.Buckets}, DefaultOfferLimit},
		{"one bucket off keeps the others", "rate-limit:\n  client: off\n",
			RateLimits{Circuit: def.Circuit, Relay: def.Relay, Buckets: def.Buckets}, DefaultOfferLimit},
		{"a rate of 0 is off", "rate-limit:\n  relay: {rate: 0}\n",
			RateLimits{Client: def.Client, Circuit: def.Circuit, Buckets: def.Buckets}, DefaultOfferLimit},
		{"rate and burst", "rate-limit:\n  client: {rate: 0.5, burst: 3}\n  buckets: 1024\n",
			RateLimits{Client: Rate{0.5, 3}, Circuit: def.Circuit, Relay: def.Relay, Buckets: 1024}, DefaultOfferLimit},
		{"a rate without a burst gets a second's worth", "rate-limit:\n  relay: {rate: 2500}\n",
			RateLimits{Client: def.Client, Circuit: def.Circuit, Relay: Rate{2500, 2500}, Buckets: def.Buckets}, DefaultOfferLimit},
		{"offer-limit in percent", "offer-limit: 25%\n", def, 25},
		{"offer-limit off is 100%", "offer-limit: off\n", def, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("leased.yaml", []byte(tt.yaml+validHead))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.RateLimits, tt.want) {
				t.Errorf("RateLimits = %+v, want %+v", c.RateLimits, tt.want)
			}
			if c.OfferLimit != tt.wantOffer {
				t.Errorf("OfferLimit = %d, want %d", c.OfferLimit, tt.wantOffer)
			}
		})
	}
}

func TestRateLimitErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "rate-limit:\n  clients: off\n", "leased.yaml:2: rate-limit.clients: unknown key (did you mean client?)"},
		{"negative rate", "rate-limit:\n  client: {rate: -1}\n", "leased.yaml:2: rate-limit.client.rate: -1 is out of range 0 to 1e+09"},
		{"zero burst", "rate-limit:\n  client: {rate: 1, burst: 0}\n", "leased.yaml:2: rate-limit.client.burst: 0 is out of range 1 to"},
		{"rate as text", "rate-limit:\n  client: {rate: fast}\n", "rate-limit.client.rate: want requests a second"},
		{"too few buckets", "rate-limit:\n  buckets: 8\n", "leased.yaml:2: rate-limit.buckets: 8 is out of range 64 to"},
		{"offer-limit without %", "offer-limit: 50\n", `leased.yaml:1: offer-limit: want a percentage of the pool such as 50%, or off, got "50"`},
		{"offer-limit of 0%", "offer-limit: 0%\n", "leased.yaml:1: offer-limit: 0% is out of range 1% to 100%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("leased.yaml", []byte(tt.yaml+validHead))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse: %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidateRateLimitsSetInGo(t *testing.T) {
	c := validConfig()
	c.RateLimits = RateLimits{Client: Rate{PerSecond: 5}, Buckets: 1}
	c.OfferLimit = 101
	err := c.Validate()
	for _, want := range []string{"rate-limit.client.burst: must be at least 1", "rate-limit.buckets: must be from 64", "offer-limit: must be from 1%"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v\nwant an error containing %q", err, want)
		}
	}
}
