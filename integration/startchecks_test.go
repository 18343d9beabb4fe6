//go:build linux

package integration

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecondServerOnThePortRefused: a second "leased server" on the port
// of a running one (SO_REUSEADDR lets it bind) refuses to start and names
// the process holding the port, unless --share-port says it is meant.
func TestSecondServerOnThePortRefused(t *testing.T) {
	_, srvHost, _ := newServerLink(t, 0)
	cfg := filepath.Join(t.TempDir(), "leased.yaml")
	writeFile(t, cfg, oneSubnetConfig(mustRange("198.18.0.100", "198.18.0.110"), serverAddr, 30*time.Second), 0o644)
	first := startServer(t, srvHost, newStore(t), "--config", cfg)

	second := startServerNoWait(t, srvHost, newStore(t), "--config", cfg)
	second.wait(startWait) // its exit status is checked below
	if !second.exited() {
		t.Fatal("the second server did not stop")
	}
	want := "port 67 on eth0 is held by process " + strconv.Itoa(first.cmd.Process.Pid)
	if code := second.exitCode(); code != 1 || !strings.Contains(second.output(), want) || !strings.Contains(second.output(), "--share-port") {
		t.Errorf("second server: exit %d, output:\n%s\nwant status 1, %q and the --share-port hint", code, tail(second.output(), 10), want)
	}

	shared := startServer(t, srvHost, newStore(t), "--config", cfg, "--share-port")
	if first.exited() || shared.exited() {
		t.Errorf("with --share-port both should serve: first exited %v, second exited %v", first.exited(), shared.exited())
	}
}

// TestStartRefusesWhatTheHostContradicts: a configuration naming an
// interface the host lacks, or whose pool holds the server's own address,
// is refused at start with the file, line and key.
func TestStartRefusesWhatTheHostContradicts(t *testing.T) {
	_, srvHost, _ := newServerLink(t, 0)
	pool := mustRange("198.18.0.100", "198.18.0.110")
	for _, tc := range []struct {
		name string
		file string   // the configuration file; empty for quick mode
		args []string // quick mode
		want string
	}{
		{"interface that does not exist", strings.Replace(oneSubnetConfig(pool, serverAddr, time.Minute), "[eth0]", "[eth0, nosuch0]", 1), nil,
			"leased.yaml:1: interfaces[1]: nosuch0 is not an interface of this host"},
		{"pool holding the server's own address", oneSubnetConfig(mustRange("198.18.0.1", "198.18.0.110"), "198.18.0.254", time.Minute), nil,
			"leased.yaml:6: subnets[0].pools[0]: 198.18.0.1-198.18.0.110 includes 198.18.0.1, an address of this host (on eth0)"},
		{"quick mode: range holding the server's own address", "", quickArgs(mustRange("198.18.0.1", "198.18.0.20"), time.Hour),
			"subnets[0].pools[0]: 198.18.0.1-198.18.0.20 includes 198.18.0.1, an address of this host (on eth0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.file != "" {
				cfg := filepath.Join(t.TempDir(), "leased.yaml")
				writeFile(t, cfg, tc.file, 0o644)
				args = []string{"--config", cfg}
			}
			s := startServerNoWait(t, srvHost, newStore(t), args...)
			s.wait(startWait) // its exit status is checked below
			if !s.exited() {
				t.Fatal("the server did not stop")
			}
			if code := s.exitCode(); code != 2 || !strings.Contains(s.output(), tc.want) {
				t.Errorf("exit %d, output:\n%s\nwant status 2 and %q", code, tail(s.output(), 10), tc.want)
			}
		})
	}
}

// TestReloadSaysWhatTookEffect: "leased reload" refuses a file naming an
// interface the host lacks, puts a change of interfaces in effect at once
// (a client on the newly named interface gets a lease), and lists what
// waits for a restart, with status 3.
func TestReloadSaysWhatTookEffect(t *testing.T) {
	requireClientCommands(t, udhcpc)
	_, srvHost, hosts := newServerLink(t, 1)
	pool := mustRange("198.18.0.100", "198.18.0.110")
	onEth0 := oneSubnetConfig(pool, serverAddr, 30*time.Second)
	withIfaces := func(list string) string { return strings.Replace(onEth0, "[eth0]", list, 1) }
	cfg := filepath.Join(t.TempDir(), "leased.yaml")
	writeFile(t, cfg, withIfaces("[lo]"), 0o644)
	sock := ctlSocketPath(t)
	srv := startServer(t, srvHost, newStore(t), "--config", cfg, "--control", sock)

	steps := []struct {
		name, file string
		code       int
		stdout     string
		stderr     string
	}{
		{"interface that does not exist -> refused", withIfaces("[nosuch0]"), 1, "",
			"leased.yaml:1: interfaces[0]: nosuch0 is not an interface of this host"},
		{"interfaces changed -> in effect at once", onEth0, 0, "took effect: interfaces\n", ""},
		{"commit-delay changed -> waits for a restart, status 3", "commit-delay: 7ms\n" + onEth0, 3,
			"waits for a restart: commit-delay (running ", "wait for a restart"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			writeFile(t, cfg, st.file, 0o644)
			code, out, errOut := ctlCLI(t, "reload", "--control", sock)
			if code != st.code || !strings.Contains(out, st.stdout) || !strings.Contains(errOut, st.stderr) {
				t.Errorf("leased reload: exit %d\nstdout: %s\nstderr: %s\nwant status %d, %q and %q", code, out, errOut, st.code, st.stdout, st.stderr)
			}
		})
		if st.code == 0 {
			c := newClient(t, udhcpc, hosts[0])
			if !c.tryOnce(leaseWait) {
				t.Fatalf("after the reload to eth0, no lease for a client on eth0")
			}
		}
	}
	code, out, _ := ctlCLI(t, "status", "--control", sock)
	if code != 0 || !strings.Contains(out, "restart needed:") || !strings.Contains(out, "commit-delay") {
		t.Errorf("leased status: exit %d\n%s\nwant the commit-delay that waits for a restart", code, out)
	}
	if srv.exited() {
		t.Fatalf("server exited: %v", srv.err)
	}
}
