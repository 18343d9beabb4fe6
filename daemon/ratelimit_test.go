package daemon

import (
	"errors"
	"testing"

	"leased/config"
)

type fakeEngine struct{ err error }

func (f fakeEngine) Reload(*config.Config) error { return f.err }

type fakeLimits struct{ set []config.RateLimits }

func (f *fakeLimits) SetRateLimits(l config.RateLimits) { f.set = append(f.set, l) }

func TestReloadPutsRateLimitsInEffect(t *testing.T) {
	cfg := &config.Config{RateLimits: config.RateLimits{Client: config.Rate{PerSecond: 2, Burst: 5}, Buckets: 64}}
	tests := []struct {
		name   string
		engine error
		want   int // SetRateLimits calls
	}{
		{"a reload the engine takes sets the limits", nil, 1},
		{"a reload the engine refuses leaves them", errors.New("refused"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := &fakeLimits{}
			r := reloadLimits{fakeEngine{tt.engine}, lim}.orEngine()
			if err := r.Reload(cfg); !errors.Is(err, tt.engine) {
				t.Fatalf("Reload: %v, want %v", err, tt.engine)
			}
			if len(lim.set) != tt.want || (tt.want == 1 && lim.set[0] != cfg.RateLimits) {
				t.Errorf("SetRateLimits calls %+v, want %d with %+v", lim.set, tt.want, cfg.RateLimits)
			}
		})
	}
	t.Run("a DHCP side without rate limits reloads the engine alone", func(t *testing.T) {
		e := fakeEngine{}
		if r := (reloadLimits{e, struct{}{}}).orEngine(); r != Reconfigurable(e) {
			t.Errorf("orEngine = %#v, want the engine", r)
		}
	})
}
