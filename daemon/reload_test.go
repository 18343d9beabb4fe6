package daemon

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"leased/config"
	"leased/control"
)

// fakeLive is a Reconfigurable that records what it was given.
type fakeLive struct {
	mu     sync.Mutex
	got    []*config.Config
	refuse error
}

func (f *fakeLive) Reload(c *config.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		return f.refuse
	}
	f.got = append(f.got, c)
	return nil
}

func (f *fakeLive) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

// newTestReloader returns a Reloader of the file at path, loaded at t0.
func newTestReloader(t *testing.T, src *Source, live Reconfigurable) (*Reloader, *logBuffer) {
	t.Helper()
	cfg, sum, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	log, logs := newLog()
	now := t0.Add(time.Minute)
	return NewReloader(src, cfg, sum, t0, live, log, func() time.Time { return now }), logs
}

func TestReload(t *testing.T) {
	path := writeFile(t, "leased.yaml", configText())
	live := &fakeLive{}
	r, logs := newTestReloader(t, &Source{File: path}, live)
	first := r.Status()
	if first.File != path || len(first.SHA256) != 64 || !first.Loaded.Equal(t0) || first.Subnets != 1 {
		t.Fatalf("status at start %+v", first)
	}

	t.Run("accepted: the status follows the new content", func(t *testing.T) {
		if err := os.WriteFile(path, []byte(configText("lease-time: 2h")), 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := r.Reload("test")
		if err != nil {
			t.Fatal(err)
		}
		if st.SHA256 == first.SHA256 || !st.Loaded.Equal(t0.Add(time.Minute)) || st != r.Status() {
			t.Errorf("after reload %+v (status %+v)", st, r.Status())
		}
		if live.count() != 1 || live.got[0].Defaults.LeaseTime != 2*time.Hour {
			t.Errorf("engine given %d configurations", live.count())
		}
		if !strings.Contains(logs.String(), "configuration reloaded") || strings.Contains(logs.String(), "next start") {
			t.Errorf("log:\n%s", logs)
		}
	})
	t.Run("refused: a file that does not validate", func(t *testing.T) {
		before := r.Status()
		if err := os.WriteFile(path, []byte("interfaces: [eth0]\nsubnets: 5\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := r.Reload("test")
		if err == nil || st != before || r.Status() != before || live.count() != 1 {
			t.Errorf("reload of a bad file: %v, status %+v, want %+v", err, st, before)
		}
		if !strings.Contains(logs.String(), "reload refused; the running configuration stays") {
			t.Errorf("log:\n%s", logs)
		}
	})
	t.Run("refused: the engine says no", func(t *testing.T) {
		if err := os.WriteFile(path, []byte(configText()), 0o600); err != nil {
			t.Fatal(err)
		}
		before := r.Status()
		live.refuse = errors.New("reservation conflict")
		defer func() { live.refuse = nil }()
		if st, err := r.Reload("test"); err == nil || st != before {
			t.Errorf("%v %+v", err, st)
		}
	})
}

// TestReloadSaysWhatTookEffectAndWhatWaitsForRestart: the status after a
// reload names the settings it put in effect, and those whose values in
// the file wait for the next start, with both values; the log warns of
// the latter.
func TestReloadSaysWhatTookEffectAndWhatWaitsForRestart(t *testing.T) {
	cd := time.Millisecond
	for _, tc := range []struct {
		name    string
		file    string
		applied []string
		restart []control.SettingChange
		warn    []string
	}{
		{"nothing changed -> nothing to say", configText(), []string{}, []control.SettingChange{}, nil},
		{"lease-time and pools -> applied", strings.Replace(configText("lease-time: 2h"), ".199", ".150", 1),
			[]string{"lease-time", "subnets"}, []control.SettingChange{}, nil},
		{"interfaces -> applied at once", strings.Replace(configText(), "[eth0]", "[eth0, eth1]", 1),
			[]string{"interfaces"}, []control.SettingChange{}, nil},
		{"lease-store and receive-delay -> wait for a restart", configText("lease-store: /tmp/elsewhere", "receive-delay: 0s"),
			[]string{}, []control.SettingChange{
				{Key: "lease-store", Running: config.DefaultLeaseStore, Loaded: "/tmp/elsewhere"},
				{Key: "receive-delay", Running: config.DefaultReceiveDelay.String(), Loaded: "0s"},
			}, []string{
				"lease-store changed in the file; it takes effect at the next start",
				"receive-delay changed in the file; it takes effect at the next start",
			}},
		{"ping-check turned on where none was at start -> subnets applied, the ICMP socket waits for a restart",
			configText() + "    ping-check: {wait: 300ms}\n",
			[]string{"subnets"}, []control.SettingChange{{Key: "ping-check (ICMP socket)", Running: "off", Loaded: "on"}},
			[]string{"ping-check (ICMP socket) changed in the file; it takes effect at the next start"}},
		{"shared network added -> applied", strings.Replace(configText(), "subnets:", "shared-networks: [{name: lan, subnets: [198.18.0.0/24]}]\nsubnets:", 1),
			[]string{"shared-networks"}, []control.SettingChange{}, nil},
		// The command line sets commit-delay: the file's does not apply.
		{"commit-delay set on the command line -> nothing to say", configText("commit-delay: 9ms"), []string{}, []control.SettingChange{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "leased.yaml", configText())
			r, logs := newTestReloader(t, &Source{File: path, CommitDelay: &cd}, &fakeLive{})
			if r.Status().Changes != nil {
				t.Errorf("changes before any reload: %+v", r.Status().Changes)
			}
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := r.Reload("test")
			if err != nil {
				t.Fatal(err)
			}
			if st.Changes == nil {
				t.Fatal("no changes in the status after a reload")
			}
			if !reflect.DeepEqual(st.Changes.Applied, tc.applied) || !reflect.DeepEqual(st.Changes.RestartNeeded, tc.restart) {
				t.Errorf("changes %+v, want applied %q and restart needed %+v", *st.Changes, tc.applied, tc.restart)
			}
			out := logs.String()
			for _, want := range tc.warn {
				if !strings.Contains(out, want) {
					t.Errorf("no warning %q in:\n%s", want, out)
				}
			}
			if len(tc.warn) == 0 && strings.Contains(out, "level=WARN") {
				t.Errorf("warned:\n%s", out)
			}
		})
	}
}

// TestReloadRestartNeededLastsUntilTheFileIsBack: a setting that waits
// for a restart stays listed at later reloads, until the file holds the
// running value again.
func TestReloadRestartNeededLastsUntilTheFileIsBack(t *testing.T) {
	path := writeFile(t, "leased.yaml", configText())
	r, _ := newTestReloader(t, &Source{File: path}, &fakeLive{})
	for i, step := range []struct {
		file    string
		restart int
	}{
		{configText("lease-store: /tmp/elsewhere"), 1},
		{configText("lease-store: /tmp/elsewhere", "lease-time: 2h"), 1},
		{configText("lease-time: 2h"), 0},
	} {
		if err := os.WriteFile(path, []byte(step.file), 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := r.Reload("test")
		if err != nil {
			t.Fatal(err)
		}
		if got := len(st.Changes.RestartNeeded); got != step.restart {
			t.Errorf("reload %d: %d settings wait for a restart (%+v), want %d", i+1, got, st.Changes.RestartNeeded, step.restart)
		}
	}
}

func TestReloadQuickMode(t *testing.T) {
	live := &fakeLive{}
	r, logs := newTestReloader(t, &Source{Quick: quickConfig(t, t.TempDir())}, live)
	st, err := r.Reload("control API")
	if !errors.Is(err, control.ErrNoReload) || st != r.Status() || st.File != "" || st.SHA256 != "" {
		t.Errorf("%v %+v", err, st)
	}

	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal)
	done := make(chan struct{})
	go func() { ReloadOnSignal(ctx, sig, r); close(done) }()
	sig <- os.Interrupt
	sig <- os.Interrupt // the first has been handled once the second is taken
	cancel()
	<-done
	if live.count() != 0 || !strings.Contains(logs.String(), "nothing to reload") {
		t.Errorf("%d reloads; log:\n%s", live.count(), logs)
	}
}

func TestReloadOnSignal(t *testing.T) {
	path := writeFile(t, "leased.yaml", configText())
	live := &fakeLive{}
	r, logs := newTestReloader(t, &Source{File: path}, live)
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal)
	done := make(chan struct{})
	go func() { ReloadOnSignal(ctx, sig, r); close(done) }()
	sig <- os.Interrupt
	sig <- os.Interrupt
	cancel()
	<-done
	// Each send waits for the one before to be handled; the goroutine
	// ends only after the second reload.
	if n := live.count(); n != 2 {
		t.Errorf("%d reloads for 2 signals", n)
	}
	if !strings.Contains(logs.String(), "by=SIGHUP") {
		t.Errorf("log:\n%s", logs)
	}
}
