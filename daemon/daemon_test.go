package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"leased/config"
	"leased/control"
)

func TestSourceLoad(t *testing.T) {
	path := writeFile(t, "leased.yaml", configText("commit-delay: 5ms"))
	t.Run("a file, with the command line's settings", func(t *testing.T) {
		cd, rd := 7*time.Millisecond, time.Duration(0)
		src := Source{File: path, LeaseStore: "/tmp/elsewhere", CommitDelay: &cd, ReceiveDelay: &rd}
		cfg, sum, err := src.Load()
		if err != nil {
			t.Fatal(err)
		}
		if len(sum) != 64 || cfg.LeaseStore != "/tmp/elsewhere" || cfg.CommitDelay != cd || cfg.ReceiveDelay != 0 {
			t.Errorf("sum %q, config %+v", sum, cfg)
		}
	})
	t.Run("a file alone", func(t *testing.T) {
		src := Source{File: path}
		cfg, _, err := src.Load()
		if err != nil || cfg.CommitDelay != 5*time.Millisecond || cfg.LeaseStore != config.DefaultLeaseStore || cfg.ReceiveDelay != config.DefaultReceiveDelay {
			t.Errorf("%+v %v", cfg, err)
		}
	})
	t.Run("quick mode is copied, not changed", func(t *testing.T) {
		q := quickConfig(t, "/var/lib/leased")
		src := Source{Quick: q, LeaseStore: "/tmp/other"}
		cfg, sum, err := src.Load()
		if err != nil || sum != "" || cfg.LeaseStore != "/tmp/other" || q.LeaseStore != "/var/lib/leased" {
			t.Errorf("%+v %q %v; quick config now %q", cfg, sum, err, q.LeaseStore)
		}
	})
	t.Run("a file that does not validate", func(t *testing.T) {
		src := Source{File: writeFile(t, "bad.yaml", "interfaces: [eth0]\n")}
		if _, _, err := src.Load(); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("%v, want an error naming the file", err)
		}
	})
	t.Run("nothing", func(t *testing.T) {
		if _, _, err := (&Source{}).Load(); err == nil {
			t.Error("no source loaded")
		}
	})
}

func TestSweepEveryTick(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ticks := make(chan time.Time)
	var n atomic.Int32
	done := make(chan struct{})
	go func() { Sweep(ctx, ticks, sweepCounter{&n}); close(done) }()
	for range 3 {
		ticks <- t0 // unbuffered: each send waits for the sweeper to take it
	}
	cancel()
	<-done
	if got := n.Load(); got != 3 {
		t.Errorf("%d sweeps for 3 ticks", got)
	}
}

type sweepCounter struct{ n *atomic.Int32 }

func (s sweepCounter) Sweep() int { s.n.Add(1); return 0 }

// The shutdown closes the store only after the DHCP side and the operator
// API have stopped; the API answers while the server runs.
func TestServeShutdownOrder(t *testing.T) {
	ev := &events{}
	dir := t.TempDir()
	socket := filepath.Join(dir, "control.sock")
	ln, err := control.ListenUnix(socket)
	if err != nil {
		t.Fatal(err)
	}
	op := &operator{unix: &recordingListener{Listener: ln, ev: ev}}
	dhcp := &fakeDHCP{ev: ev, serving: make(chan struct{})}
	log, logs := newLog()
	opts := withDefaults(Options{Config: quickConfig(t, dir), Version: "1.2.3", Logger: log,
		Clock: func() time.Time { return t0 }, Source: Source{Quick: quickConfig(t, dir)}})
	s, err := assemble(opts, op, dhcp, &fakeStore{ev: ev, dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	<-dhcp.serving

	st, err := control.NewUnixClient(socket).Status(context.Background())
	if err != nil || st.Version != "1.2.3" || st.Store == nil || !st.Store.Healthy || st.Config.Subnets != 1 {
		t.Errorf("status while serving: %+v %v", st, err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	// The DHCP side and the API both stop when ctx ends, in either order;
	// the store closes after both.
	got := ev.all()
	if len(got) != 3 || got[2] != "store closed" || !slices.Contains(got, "dhcp stopped") || !slices.Contains(got, "operator listener closed") {
		t.Errorf("shutdown order %q, want the store closed after the DHCP side and the operator API stopped", got)
	}
	if !strings.Contains(logs.String(), "msg=serving") || !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("log:\n%s", logs)
	}
}

// A store that fails to close makes Serve fail, after the rest stopped.
func TestServeReportsStoreCloseError(t *testing.T) {
	ev := &events{}
	dir := t.TempDir()
	dhcp := &fakeDHCP{ev: ev, serving: make(chan struct{})}
	log, logs := newLog()
	opts := withDefaults(Options{Config: quickConfig(t, dir), Logger: log, Source: Source{Quick: quickConfig(t, dir)}})
	st := &failingClose{fakeStore{ev: ev, dir: dir}}
	s, err := assemble(opts, &operator{}, dhcp, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Serve(ctx); !errors.Is(err, errDiskGone) {
		t.Errorf("Serve: %v, want the store's error", err)
	}
	if !strings.Contains(logs.String(), "stopped with an error") {
		t.Errorf("log:\n%s", logs)
	}
}

var errDiskGone = errors.New("disk gone")

type failingClose struct{ fakeStore }

func (s *failingClose) Close() error { s.fakeStore.Close(); return errDiskGone }

// Run-time reservations kept beside the store are restored at start; one
// the configuration refuses stops the start, naming the file.
func TestAssembleRestoresReservations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "reservations.json")
	good := `{"version": 1, "reservations": [{"address": "198.18.0.60", "hw_addr": "02:00:00:00:00:60"}]}`
	if err := os.WriteFile(path, []byte(good), 0o640); err != nil {
		t.Fatal(err)
	}
	log, logs := newLog()
	opts := withDefaults(Options{Config: quickConfig(t, dir), Logger: log, Source: Source{Quick: quickConfig(t, dir)}})
	s, err := assemble(opts, &operator{}, &fakeDHCP{ev: &events{}}, &fakeStore{ev: &events{}, dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if rs := s.live.RuntimeReservations(); len(rs) != 1 || rs[0].Addr.String() != "198.18.0.60" {
		t.Errorf("restored %+v", rs)
	}
	if !strings.Contains(logs.String(), "run-time reservations restored") {
		t.Errorf("log:\n%s", logs)
	}
	bad := `{"version": 1, "reservations": [{"address": "198.19.0.60", "hw_addr": "02:00:00:00:00:60"}]}`
	if err := os.WriteFile(path, []byte(bad), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := assemble(opts, &operator{}, &fakeDHCP{ev: &events{}}, &fakeStore{ev: &events{}, dir: dir}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a reservation outside every subnet: %v, want an error naming %s", err, path)
	}
}

func TestOpenOperatorUsageErrors(t *testing.T) {
	log, _ := newLog()
	tokenFile := writeFile(t, "token", "0123456789abcdef0123456789abcdef\n")
	tests := []struct {
		name string
		o    OperatorOptions
		flag string
	}{
		{"token without TCP", OperatorOptions{TokenFile: tokenFile}, ""},
		{"token file missing", OperatorOptions{ControlTCP: "127.0.0.1:0", TokenFile: filepath.Join(t.TempDir(), "none")}, "--control-token-file"},
		{"TCP off loopback without a token", OperatorOptions{ControlTCP: "198.18.0.1:0"}, "--control-tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openOperator(tt.o, log)
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Flag != tt.flag {
				t.Errorf("%v, want a usage error of %q", err, tt.flag)
			}
		})
	}
	t.Run("a named socket that cannot open is an error, the default one a warning", func(t *testing.T) {
		bad := filepath.Join(writeFile(t, "file", ""), "sub", "control.sock")
		if _, err := openOperator(OperatorOptions{ControlSocket: bad}, log); err == nil || errors.As(err, new(*UsageError)) {
			t.Errorf("named socket: %v, want a failure that is not a usage error", err)
		}
		l, err := openOperator(OperatorOptions{ControlSocket: bad, DefaultSocket: true}, log)
		if err != nil || l.unix != nil {
			t.Errorf("default socket: %v", err)
		}
	})
}

// A signal on Options.Reload reloads the file while the server serves.
func TestServeReloadsOnSignal(t *testing.T) {
	ev := &events{}
	dir := t.TempDir()
	path := writeFile(t, "leased.yaml", configText("lease-store: "+dir))
	src := Source{File: path}
	cfg, sum, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	hup := make(chan os.Signal)
	log, logs := newLog()
	opts := withDefaults(Options{Source: src, Config: cfg, ConfigSHA256: sum, Logger: log, Reload: hup})
	dhcp := &fakeDHCP{ev: ev, serving: make(chan struct{})}
	s, err := assemble(opts, &operator{}, dhcp, &fakeStore{ev: ev, dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	<-dhcp.serving
	if err := os.WriteFile(path, []byte(configText("lease-store: "+dir, "lease-time: 2h")), 0o600); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	hup <- syscall.SIGHUP // taken once the first reload is done
	if st := s.Reloader().Status(); st.SHA256 == sum {
		t.Errorf("status after SIGHUP still shows the first content: %+v", st)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "by=SIGHUP") {
		t.Errorf("log:\n%s", logs)
	}
}
