package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"leased/client"
	"leased/config"
)

func runClient(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"client"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestClientUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no interface", nil, "usage: leased client"},
		{"client id and DUID", []string{"-i", "eth0", "--client-id", "01020304", "--duid"}, "exclude each other"},
		{"client id not hex", []string{"-i", "eth0", "--client-id", "zz"}, "--client-id"},
		{"client id of one byte", []string{"-i", "eth0", "--client-id", "01"}, "2 to 255"},
		{"client id with an empty pair (stray colons were dropped before dhcpv4.ParseHex)", []string{"-i", "eth0", "--client-id", "01::02:03"}, "--client-id"},
		{"inform without prefix length", []string{"-i", "eth0", "--inform", "198.18.0.10"}, "--inform"},
		{"inform IPv6", []string{"-i", "eth0", "--inform", "2001:db8::1/64"}, "--inform"},
		{"release with once", []string{"-i", "eth0", "--release", "--once"}, "--release excludes"},
		{"release on exit in inform mode", []string{"-i", "eth0", "--inform", "198.18.0.10/24", "--release-on-exit"}, "no lease to release"},
		{"non-positive timeout", []string{"-i", "eth0", "--timeout", "0s"}, "--timeout"},
		{"too many ARP probes", []string{"-i", "eth0", "--arp-probes", "11"}, "--arp-probes"},
		{"interface name with a slash", []string{"-i", "../eth0"}, "not an interface name"},
		{"extra arguments", []string{"-i", "eth0", "eth1"}, "unexpected arguments"},
		{"bad log level", []string{"-i", "eth0", "--log-level", "loud"}, "--log-level"},
		{"unknown flag", []string{"-i", "eth0", "--frobnicate"}, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runClient(t, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want it to mention %q", stderr, tc.want)
			}
		})
	}
}

func TestClientNoInterface(t *testing.T) {
	code, stdout, stderr := runClient(t, "-i", "lcnosuch0", "--once", "--state-dir", t.TempDir())
	if code != 1 || stdout != "" || !strings.Contains(stderr, "lcnosuch0") {
		t.Errorf("exit %d, stdout %q, stderr %q: want 1 and an error naming the interface", code, stdout, stderr)
	}
}

func TestClientReleaseWithoutLease(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runClient(t, "-i", "eth0", "--release", "--state-dir", dir)
	if code != 0 || !strings.Contains(stderr, "no lease to release") {
		t.Errorf("exit %d, stderr %q: want 0 and \"no lease to release\"", code, stderr)
	}
	// A corrupt lease file is an error, not silence.
	if err := os.WriteFile(filepath.Join(dir, "client-eth0.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runClient(t, "-i", "eth0", "--release", "--state-dir", dir); code != 1 || !strings.Contains(stderr, "client-eth0.json") {
		t.Errorf("corrupt lease file: exit %d, stderr %q", code, stderr)
	}
}

func TestMachineConfigFromFlags(t *testing.T) {
	hw := []byte{2, 0xc6, 0x12, 0, 0, 1}
	f := clientFlags{iface: "eth0", duid: true, offerWait: 0, arpProbes: 0, inform: "198.18.0.10/24", hostname: "h1"}
	cfg := f.machineConfig(hw, 9000)
	if len(cfg.ClientID) == 0 || cfg.ClientID[0] != 255 {
		t.Errorf("--duid: client id %x, want the RFC 4361 form (type 255)", cfg.ClientID)
	}
	if cfg.OfferWait >= 0 || !cfg.NoProbe || cfg.MaxMessageSize != 9000 || cfg.Hostname != "h1" {
		t.Errorf("config %+v", cfg)
	}
	if cfg.Inform != netip.MustParsePrefix("198.18.0.10/24") {
		t.Errorf("inform %v", cfg.Inform)
	}
	f = clientFlags{iface: "eth0", clientID: "ff:00:00:00:01", offerWait: time.Second, arpProbes: 3}
	cfg = f.machineConfig(hw, 500)
	if string(cfg.ClientID) != "\xff\x00\x00\x00\x01" || cfg.OfferWait != time.Second || cfg.NoProbe || cfg.MaxMessageSize != 576 {
		t.Errorf("config %+v", cfg)
	}
}

func TestRunningClient(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "client-eth7.pid")
	if _, ok := runningClient(pidFile, "eth7"); ok {
		t.Errorf("a running client without a PID file")
	}
	// A process whose command line reads like "leased client -i eth7".
	cmd := exec.Command("sh", "-c", "sleep 30; :", "client", "-i", "eth7")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sh: %v", err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if pid, ok := runningClient(pidFile, "eth7"); ok && pid == cmd.Process.Pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the process %d is not recognised as the client of eth7", cmd.Process.Pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok := runningClient(pidFile, "eth8"); ok {
		t.Errorf("the client of eth7 taken for the client of eth8")
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := runningClient(pidFile, "eth7"); ok {
		t.Errorf("this test process taken for a client")
	}
}

// The client keeps its lease file in a directory of its own by default,
// not in the server's lease store; --state-dir still moves it.
func TestClientDefaultStateDir(t *testing.T) {
	code, _, stderr := runClient(t, "-i", "lcnosuch0", "--release")
	want := filepath.Join(client.DefaultStateDir, "client-lcnosuch0.json")
	if code != 0 || !strings.Contains(stderr, "(no "+want+")") {
		t.Errorf("exit %d, stderr %q: want 0 and the lease file %s", code, stderr, want)
	}
	if client.DefaultStateDir == config.DefaultLeaseStore || strings.HasPrefix(config.DefaultLeaseStore+"/", client.DefaultStateDir+"/") ||
		strings.HasPrefix(client.DefaultStateDir+"/", config.DefaultLeaseStore+"/") {
		t.Errorf("the client's state directory %s and the server's lease store %s overlap", client.DefaultStateDir, config.DefaultLeaseStore)
	}
	dir := t.TempDir()
	code, _, stderr = runClient(t, "-i", "lcnosuch0", "--release", "--state-dir", dir)
	if want := filepath.Join(dir, "client-lcnosuch0.json"); code != 0 || !strings.Contains(stderr, "(no "+want+")") {
		t.Errorf("--state-dir: exit %d, stderr %q: want the lease file %s", code, stderr, want)
	}
}

// The client daemon ignores SIGHUP, with a warning, and stops for a
// release at SIGUSR2.
func TestClientSignals(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	sigs := make(chan os.Signal)
	result := make(chan bool, 1)
	go func() { result <- clientSignals(context.Background(), sigs, log) }()
	sigs <- syscall.SIGHUP // unbuffered: each send waits for clientSignals to take it
	sigs <- syscall.SIGHUP
	sigs <- syscall.SIGUSR2
	if !<-result {
		t.Error("SIGUSR2 did not ask for a release")
	}
	if n := strings.Count(logs.String(), "SIGHUP ignored"); n != 2 {
		t.Errorf("%d warnings for 2 SIGHUPs; log:\n%s", n, logs.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { result <- clientSignals(ctx, sigs, log) }()
	cancel()
	if <-result {
		t.Error("the end of the context asked for a release")
	}
}
