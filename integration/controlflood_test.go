//go:build linux

package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"leased/control"
)

// floodLimit is the descriptor limit (RLIMIT_NOFILE) of the server under
// a control-connection flood: low, so that the flood is larger than it.
const floodLimit = 384

// TestControlFloodSparesDHCP floods the control API's TCP listener with
// more connections than the server has descriptors (half of them idle,
// half carrying a wrong token, all held open), and checks that DHCP and
// the API on the Unix socket keep working while they are held and after
// they are let go.
func TestControlFloodSparesDHCP(t *testing.T) {
	requireClientCommands(t, udhcpc)
	requireCommands(t, "prlimit")
	l, srvHost, hosts := newServerLink(t, 2)
	benchHost := l.addHost("bench", "198.18.0.2/24")
	pool := mustRange("198.18.0.10", "198.18.0.250")
	store := newStore(t)
	sock := ctlSocketPath(t)
	const token = "flood-token-0123456789abcdef"
	tokenFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, tokenFile, token+"\n", 0o600)
	const ctlAddr, metricsAddr = "127.0.0.1:8067", "127.0.0.1:9067"

	argv := append([]string{"prlimit", fmt.Sprintf("--nofile=%d:%d", floodLimit, floodLimit), "--",
		build.path, "server", "--store", store, "--log-level", "debug",
		"--control", sock, "--control-tcp", ctlAddr, "--control-token-file", tokenFile, "--metrics", metricsAddr},
		quickArgs(pool, time.Hour)...)
	p := startProc(t, srvHost, "leased server on "+srvHost.name, filepath.Join(t.TempDir(), "leased.log"), nil, argv...)
	srv := &leasedServer{proc: p, host: srvHost, store: store}
	if err := srv.waitServing(); err != nil {
		t.Fatal(err)
	}

	works := func(when string, c *dhcpClient) {
		t.Helper()
		start := time.Now()
		code, out, stderr := ctlCLI(t, "status", "--control", sock)
		if code != 0 || !strings.Contains(out, "store") {
			t.Errorf("%s: leased status: exit %d after %v\n%s%s", when, code, time.Since(start), out, stderr)
		}
		if !c.tryOnce(20 * time.Second) {
			t.Errorf("%s: udhcpc on %s got no lease", when, c.host.name)
		}
		// A burst of exchanges, as a relay agent would bring them.
		cmd := benchHost.command(build.path, "bench", "--server", serverAddr, "--local", "198.18.0.2:67",
			"--clients", "200", "--count", "640", "--duration", "0", "--progress", "0", "--json")
		bout, err := cmd.Output()
		var sum struct{ Started, Completed uint64 }
		if err != nil || json.Unmarshal(bout, &sum) != nil || sum.Started == 0 || sum.Completed < sum.Started*9/10 {
			t.Errorf("%s: leased bench: %v: %s", when, err, bout)
		}
	}

	// Open the flood from the server's namespace, on its loopback.
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	const flood = 3 * floodLimit
	err := inNamespace(srvHost.ns, func() error {
		for i := range flood {
			c, err := net.DialTimeout("tcp", ctlAddr, 2*time.Second)
			if err != nil {
				return fmt.Errorf("connection %d: %w", i, err)
			}
			conns = append(conns, c)
			if i%2 == 1 {
				// Sent and never read: the answer waits in the buffers.
				c.SetWriteDeadline(time.Now().Add(time.Second))
				io.WriteString(c, "GET /v1/status HTTP/1.1\r\nHost: leased\r\nAuthorization: Bearer flood-token-wrong-0123456789\r\n\r\n")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("opening the flood: %v", err)
	}
	time.Sleep(time.Second) // let the server accept what it will
	works("during the flood", newClient(t, udhcpc, hosts[0]))

	// The server does not wait for the flood to go away: it closes the
	// connections that present no valid token within seconds.
	err = waitFor(3*control.DefaultUnauthenticatedTimeout, "the server to close the flood's connections", func() (bool, error) {
		return ctlMetrics(t, srvHost, metricsAddr)[`leased_control_connections{listener="tcp"}`] == 0, nil
	})
	if err != nil {
		t.Error(err)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	time.Sleep(time.Second)
	works("after the flood", newClient(t, udhcpc, hosts[1]))

	// The caps kept the control plane within its share of descriptors:
	// no accept failed for want of one, and the refusals were counted
	// and logged without a line for each.
	if n := strings.Count(srv.output(), "too many open files"); n > 0 {
		t.Errorf("the log has %d lines of \"too many open files\"", n)
	}
	m := ctlMetrics(t, srvHost, metricsAddr)
	refused := 0.0
	for _, r := range []string{"total", "per-source", "unauthenticated"} {
		refused += m[`leased_control_connections_refused_total{listener="tcp",reason="`+r+`"}`]
	}
	if refused < flood/2 {
		t.Errorf("%v connections refused, want at least %d", refused, flood/2)
	}
	if n := strings.Count(srv.output(), "connection refused: too many open"); n == 0 || n > 30 {
		t.Errorf("the log has %d lines about refused connections, want one a second at most", n)
	}
	if srv.exited() {
		t.Fatalf("the server exited: %v", srv.err)
	}
}
