//go:build linux

package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"leased/control"
	"leased/dhcpv4"
)

// The control API tests: a real "leased server" in a namespace, driven
// through its Unix socket (which the test reaches from outside the
// namespaces: a socket file is not tied to a network namespace), through
// the leased command, and, for the TCP listener and the metrics, from
// inside the server's namespace on its loopback interface.

// ctlSocketPath returns a control socket path in a directory of its own,
// short enough for a Unix socket address.
func ctlSocketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "leased-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "control.sock")
}

// ctlCall makes one request of the API on the socket and returns the
// status and the body. The connection is closed after it: tests that poll
// the status must not pile up idle connections against the server's cap.
func ctlCall(t *testing.T, sock, method, path, body string) (int, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
		DisableKeepAlives: true,
	}}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://leased"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, sock, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// ctlGet makes a request that must answer want, and decodes the answer
// into out (unless nil).
func ctlGet(t *testing.T, sock, method, path, body string, want int, out any) {
	t.Helper()
	code, b := ctlCall(t, sock, method, path, body)
	if code != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// ctlError makes a request that must fail with status want and an error
// body holding msg.
func ctlError(t *testing.T, sock, method, path, body string, want int, msg string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	ctlGet(t, sock, method, path, body, want, &e)
	if !strings.Contains(e.Error, msg) {
		t.Errorf("%s %s: error %q, want %q in it", method, path, e.Error, msg)
	}
}

// ctlCLI runs the leased command (outside the namespaces) and returns
// its exit status and output.
func ctlCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(build.path, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("leased %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errb.String()
}

// ctlHTTPInNamespace makes a request of an HTTP server on addr inside h's
// namespace, with the extra header lines given, and returns the status
// and the body.
func ctlHTTPInNamespace(t *testing.T, h *host, addr, method, path string, header ...string) (int, []byte) {
	t.Helper()
	var code int
	var body []byte
	err := inNamespace(h.ns, func() error {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		req := fmt.Sprintf("%s %s HTTP/1.0\r\nHost: leased\r\nAccept: text/plain\r\n", method, path)
		for _, h := range header {
			req += h + "\r\n"
		}
		if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		code = resp.StatusCode
		body, err = io.ReadAll(resp.Body)
		return err
	})
	if err != nil {
		t.Fatalf("%s http://%s%s in %s: %v", method, addr, path, h.name, err)
	}
	return code, body
}

// ctlMetrics scrapes the metrics at addr in h's namespace and returns the
// samples by name and labels, as the text format writes them.
func ctlMetrics(t *testing.T, h *host, addr string) map[string]float64 {
	t.Helper()
	code, body := ctlHTTPInNamespace(t, h, addr, "GET", "/metrics")
	if code != 200 {
		t.Fatalf("GET /metrics: status %d: %s", code, body)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// ctlReplyOnce waits for the reply to req on the probe, without sending
// anything again, so that the server sees exactly what the test sent.
func ctlReplyOnce(t *testing.T, pr *probe, req *dhcpv4.Packet, timeout time.Duration) *dhcpv4.Packet {
	t.Helper()
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for time.Now().Before(deadline) {
		pr.conn.SetReadDeadline(deadline)
		n, err := pr.conn.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			t.Fatalf("probe on %s: %v", pr.host.name, err)
		}
		var p dhcpv4.Packet
		if dhcpv4.Parse(buf[:n], &p) == nil && p.Op == dhcpv4.BootReply && p.XID == req.XID {
			return &p
		}
	}
	t.Fatalf("probe on %s: no reply to the one %v with xid %#08x within %v", pr.host.name, req.MessageType(), req.XID, timeout)
	return nil
}

// ctlRequest is client i's DHCPREQUEST for the offer (SELECTING).
func ctlRequest(t *testing.T, i int, offer *dhcpv4.Packet) *dhcpv4.Packet {
	t.Helper()
	sid, ok := offer.Options.Addr(dhcpv4.OptServerID)
	if !ok {
		t.Fatal("offer without a server identifier")
	}
	return discover(t, i, func(p *dhcpv4.Packet) {
		p.Options.SetMessageType(dhcpv4.Request)
		p.Options.SetAddr(dhcpv4.OptServerID, sid)
		p.Options.SetAddr(dhcpv4.OptRequestedIP, offer.YIAddr)
	})
}

// TestControlAPI drives every endpoint of the control API of a running
// server through its Unix socket and through the leased command, with a
// real dhclient holding a lease: status, leases with filters and paging,
// one lease by address and by client, release, reservations added at run
// time (honoured on the next DHCPDISCOVER, kept across a reload and a
// restart, removed), pools, and reload (a bad file is refused with its
// error and the server keeps serving). Then the TCP listener: refused
// without a token on a non-loopback address, 401 without the token.
func TestControlAPI(t *testing.T) {
	requireClientCommands(t, dhclient)
	l, srvHost, hosts := newServerLink(t, 2)
	probeHost := l.addHost("probe", "198.18.0.250/24")
	pool := mustRange("198.18.0.100", "198.18.0.149")
	cfg := filepath.Join(t.TempDir(), "leased.yaml")
	cfgText := oneSubnetConfig(pool, serverAddr, 30*time.Second)
	writeFile(t, cfg, cfgText, 0o644)
	store := newStore(t)
	sock := ctlSocketPath(t)
	srv := startServer(t, srvHost, store, "--config", cfg, "--control", sock)

	c1 := newClient(t, dhclient, hosts[0])
	c1.start()
	l1 := c1.waitLease(0).addr.Addr()

	t.Run("status", func(t *testing.T) {
		var st control.Status
		ctlGet(t, sock, "GET", "/v1/status", "", 200, &st)
		sum := sha256.Sum256([]byte(cfgText))
		if st.Config.File != cfg || st.Config.SHA256 != hex.EncodeToString(sum[:]) || st.Config.Subnets != 1 {
			t.Errorf("config %+v, want %s with the sha256 of its content", st.Config, cfg)
		}
		if st.Store == nil || !st.Store.Healthy || st.Store.Dir != store || st.Store.LiveRecords != 1 {
			t.Errorf("store %+v, want %s healthy with one record", st.Store, store)
		}
		if st.Leases["bound"] != 1 || st.Version == "" || st.UptimeSeconds <= 0 {
			t.Errorf("status %+v", st)
		}
		ctlError(t, sock, "POST", "/v1/status", "", 405, "does not take POST")
		ctlError(t, sock, "GET", "/v1/nothing", "", 404, "no endpoint")
	})

	t.Run("leases", func(t *testing.T) {
		var p control.LeasePage
		ctlGet(t, sock, "GET", "/v1/leases?state=bound&mac="+hosts[0].mac+"&subnet=198.18.0.0/24", "", 200, &p)
		if len(p.Leases) != 1 || p.Leases[0].Address != l1 || p.Leases[0].HWAddr != hosts[0].mac || p.Leases[0].State != "bound" {
			t.Fatalf("leases of %s: %+v, want %v bound", hosts[0].mac, p.Leases, l1)
		}
		ctlGet(t, sock, "GET", "/v1/leases?subnet=198.19.0.0/24", "", 200, &p)
		if len(p.Leases) != 0 {
			t.Errorf("leases in another subnet: %+v", p.Leases)
		}
		ctlGet(t, sock, "GET", "/v1/leases?limit=1&to=198.18.0.255", "", 200, &p)
		if len(p.Leases) != 1 || p.Next.IsValid() {
			t.Errorf("one page of one: %+v", p)
		}
		ctlError(t, sock, "GET", "/v1/leases?state=nope", "", 400, "bad filter")
		ctlError(t, sock, "GET", "/v1/leases?limit=0", "", 400, "limit")

		var one control.Lease
		ctlGet(t, sock, "GET", "/v1/leases/"+l1.String(), "", 200, &one)
		if one.Address != l1 || one.HWAddr != hosts[0].mac {
			t.Errorf("lease of %v: %+v", l1, one)
		}
		ctlGet(t, sock, "GET", "/v1/clients/"+hosts[0].mac+"/lease", "", 200, &one)
		if one.Address != l1 {
			t.Errorf("lease of client %s: %+v", hosts[0].mac, one)
		}
		ctlError(t, sock, "GET", "/v1/leases/198.18.0.149", "", 404, "no lease")
		ctlError(t, sock, "GET", "/v1/leases/bogus", "", 400, "not an IPv4 address")
		ctlError(t, sock, "GET", "/v1/clients/02:c6:12:00:77:77/lease", "", 404, "no lease of client")

		code, out, stderr := ctlCLI(t, "leases", "list", "--control", sock)
		if code != 0 || !strings.Contains(out, "ADDRESS") || !strings.Contains(out, l1.String()) || !strings.Contains(out, hosts[0].mac) {
			t.Errorf("leased leases list: exit %d\n%s%s", code, out, stderr)
		}
		code, out, stderr = ctlCLI(t, "leases", "list", "--json", "--state", "bound", "--control", sock)
		var jl control.Lease
		if code != 0 || json.Unmarshal([]byte(out), &jl) != nil || jl.Address != l1 {
			t.Errorf("leased leases list --json: exit %d %s%s", code, out, stderr)
		}
		code, out, stderr = ctlCLI(t, "leases", "show", hosts[0].mac, "--control", sock)
		if code != 0 || !strings.Contains(out, "address:") || !strings.Contains(out, l1.String()) {
			t.Errorf("leased leases show: exit %d\n%s%s", code, out, stderr)
		}
	})

	t.Run("pools", func(t *testing.T) {
		var ps struct {
			Subnets []control.SubnetPools `json:"subnets"`
		}
		ctlGet(t, sock, "GET", "/v1/pools", "", 200, &ps)
		if len(ps.Subnets) != 1 || ps.Subnets[0].Size != 50 || ps.Subnets[0].Used != 1 || ps.Subnets[0].Leases["bound"] != 1 {
			t.Errorf("pools %+v, want 50 addresses, 1 used", ps.Subnets)
		}
		code, out, stderr := ctlCLI(t, "pools", "--control", sock)
		if code != 0 || !strings.Contains(out, pool.String()) {
			t.Errorf("leased pools: exit %d\n%s%s", code, out, stderr)
		}
	})

	reserved := netip.MustParseAddr("198.18.0.20")  // for hosts[1], outside the pool
	reserved2 := netip.MustParseAddr("198.18.0.21") // for the probe's client 7
	t.Run("RFC2131 4.3.1 a reservation added at run time is honoured on the next DISCOVER", func(t *testing.T) {
		var r control.Reservation
		ctlGet(t, sock, "POST", "/v1/reservations", fmt.Sprintf(`{"address":"%s","hw_addr":"%s","hostname":"reserved-host"}`, reserved, hosts[1].mac), 201, &r)
		if r.Source != "runtime" || r.Address != reserved {
			t.Errorf("added %+v", r)
		}
		code, out, stderr := ctlCLI(t, "reservations", "add", reserved2.String(), "--mac", "02:c6:12:ee:00:07", "--control", sock)
		if code != 0 {
			t.Fatalf("leased reservations add: exit %d %s%s", code, out, stderr)
		}
		ctlError(t, sock, "POST", "/v1/reservations", fmt.Sprintf(`{"address":"%s","hw_addr":"02:c6:12:00:77:77"}`, reserved), 409, "already reserved")
		ctlError(t, sock, "POST", "/v1/reservations", fmt.Sprintf(`{"address":"%s","hw_addr":"02:c6:12:00:77:77"}`, l1), 409, "in use")
		ctlError(t, sock, "POST", "/v1/reservations", `{"address":"198.19.200.5","hw_addr":"02:c6:12:00:77:77"}`, 404, "no configured subnet")
		ctlError(t, sock, "POST", "/v1/reservations", `{"address":"198.18.0.22"}`, 400, "required")
		ctlError(t, sock, "POST", "/v1/reservations", `{`, 400, "bad reservation")
		ctlError(t, sock, "DELETE", "/v1/reservations/198.18.0.23", "", 404, "no such reservation")

		c2 := newClient(t, dhclient, hosts[1])
		c2.start()
		if got := c2.waitLease(0).addr.Addr(); got != reserved {
			t.Errorf("client %s got %v, want its run-time reservation %v", hosts[1].mac, got, reserved)
		}
		if offers := srv.events("offer", hosts[1].mac); len(offers) == 0 || offers[0]["addr"] != reserved.String() {
			t.Errorf("offers to %s: %v, want %v", hosts[1].mac, offers, reserved)
		}
		code, out, _ = ctlCLI(t, "reservations", "list", "--source", "runtime", "--control", sock)
		if code != 0 || strings.Count(out, "runtime") != 2 {
			t.Errorf("leased reservations list --source runtime: exit %d\n%s", code, out)
		}
	})

	t.Run("release", func(t *testing.T) {
		var rl control.Lease
		ctlGet(t, sock, "POST", "/v1/leases/"+l1.String()+"/release", "", 200, &rl)
		if rl.State != "released" || rl.Address != l1 {
			t.Errorf("release answered %+v", rl)
		}
		ctlError(t, sock, "POST", "/v1/leases/"+l1.String()+"/release", "", 404, "no such lease")
		ctlError(t, sock, "POST", "/v1/leases/198.19.0.1/release", "", 404, "no configured subnet")
		ctlError(t, sock, "GET", "/v1/leases/"+l1.String()+"/release", "", 405, "does not take GET")
		// Stored: the offline listing of the store says so.
		found := false
		for _, sl := range listLeases(t, store) {
			found = found || (sl.Address == l1 && sl.State == "released")
		}
		if !found {
			t.Errorf("the store does not hold %v released", l1)
		}
		code, _, stderr := ctlCLI(t, "leases", "release", l1.String(), "--control", sock)
		if code != 1 || !strings.Contains(stderr, "no such lease") {
			t.Errorf("leased leases release of a released lease: exit %d %s", code, stderr)
		}
	})

	pr := newProbe(t, probeHost)
	t.Run("reload refuses a bad file and keeps serving", func(t *testing.T) {
		writeFile(t, cfg, cfgText+"pool: [198.18.0.200-198.18.0.210]\n", 0o644)
		ctlError(t, sock, "POST", "/v1/reload", "", 422, "leased.yaml:")
		code, _, stderr := ctlCLI(t, "reload", "--control", sock)
		if code != 1 || !strings.Contains(stderr, "unknown key") {
			t.Errorf("leased reload of a bad file: exit %d %s", code, stderr)
		}
		offer := pr.waitReply(discover(t, 3, nil))
		if offer.MessageType() != dhcpv4.Offer || !pool.contains(offer.YIAddr) {
			t.Errorf("after the refused reload: %v %v, want an offer from %v", offer.MessageType(), offer.YIAddr, pool)
		}
		newPool := mustRange("198.18.0.150", "198.18.0.199")
		newText := oneSubnetConfig(newPool, serverAddr, 30*time.Second)
		writeFile(t, cfg, newText, 0o644)
		var rr control.ReloadResult
		ctlGet(t, sock, "POST", "/v1/reload", "", 200, &rr)
		sum := sha256.Sum256([]byte(newText))
		if !rr.Reloaded || rr.Config.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("reload answered %+v", rr)
		}
		offer = pr.waitReply(discover(t, 4, nil))
		if !newPool.contains(offer.YIAddr) {
			t.Errorf("after the reload: offered %v, want the new pool %v", offer.YIAddr, newPool)
		}
		var rs struct {
			Reservations []control.Reservation `json:"reservations"`
		}
		ctlGet(t, sock, "GET", "/v1/reservations?source=runtime", "", 200, &rs)
		if len(rs.Reservations) != 2 {
			t.Errorf("after the reload: run-time reservations %+v, want both kept", rs.Reservations)
		}
	})

	// Processes live as long as the test that started them: restarts
	// happen here, not in the subtests.
	if err := srv.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the server: %v", err)
	}
	srv = startServer(t, srvHost, store, "--config", cfg, "--control", sock)
	t.Run("run-time reservations survive a restart", func(t *testing.T) {
		if len(srv.records(map[string]string{"msg": "run-time reservations restored", "count": "2"})) != 1 {
			t.Error(`no "run-time reservations restored" count=2 in the log`)
		}
		var rs struct {
			Reservations []control.Reservation `json:"reservations"`
		}
		ctlGet(t, sock, "GET", "/v1/reservations?source=runtime", "", 200, &rs)
		if len(rs.Reservations) != 2 || rs.Reservations[0].Address != reserved || rs.Reservations[1].Address != reserved2 {
			t.Fatalf("after the restart: %+v, want %v and %v", rs.Reservations, reserved, reserved2)
		}
		// Client 7 of the probe never had a lease: only its reservation
		// gives it this address, outside the pool.
		if offer := pr.waitReply(discover(t, 7, nil)); offer.YIAddr != reserved2 {
			t.Errorf("after the restart: client 7 offered %v, want its reservation %v", offer.YIAddr, reserved2)
		}
		code, out, stderr := ctlCLI(t, "reservations", "remove", reserved2.String(), "--control", sock)
		if code != 0 {
			t.Fatalf("leased reservations remove: exit %d %s%s", code, out, stderr)
		}
		// Its offer of that address stands until released: release it
		// too, and the next DISCOVER gets an address of the pool.
		var rl control.Lease
		ctlGet(t, sock, "POST", "/v1/leases/"+reserved2.String()+"/release", "", 200, &rl)
		if rl.State != "released" || rl.HWAddr != "02:c6:12:ee:00:07" {
			t.Errorf("release of the offer: %+v", rl)
		}
		if offer := pr.waitReply(discover(t, 7, func(p *dhcpv4.Packet) { p.XID++ })); !mustRange("198.18.0.150", "198.18.0.199").contains(offer.YIAddr) {
			t.Errorf("after the removal client 7 gets %v, want an address of the pool", offer.YIAddr)
		}
		code, out, stderr = ctlCLI(t, "status", "--control", sock)
		if code != 0 || !strings.Contains(out, "1 added at run time") || !strings.Contains(out, cfg) {
			t.Errorf("leased status: exit %d\n%s%s", code, out, stderr)
		}
	})

	if err := srv.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the server: %v", err)
	}
	refused := startServerNoWait(t, srvHost, store, "--config", cfg, "--control", sock, "--control-tcp", serverAddr+":8067")
	if err := refused.wait(stopWait); err == nil || refused.exitCode() != 2 || !strings.Contains(refused.output(), "refusing to listen") {
		t.Errorf("--control-tcp %s:8067 without a token: %v (status %d), want status 2 and a refusal\n%s", serverAddr, err, refused.exitCode(), refused.output())
	}
	const token = "integration-token-0123456789"
	tokenFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, tokenFile, token+"\n", 0o600)
	srv = startServer(t, srvHost, store, "--config", cfg, "--control", sock,
		"--control-tcp", serverAddr+":8067", "--control-token-file", tokenFile)
	t.Run("TCP control needs a token off loopback, and checks it", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			header []string
			code   int
		}{
			{"no token", nil, 401},
			{"wrong token", []string{"Authorization: Bearer integration-token-0123456780"}, 401},
			{"token", []string{"Authorization: Bearer " + token}, 200},
		} {
			code, body := ctlHTTPInNamespace(t, srvHost, serverAddr+":8067", "GET", "/v1/status", tc.header...)
			if code != tc.code {
				t.Errorf("%s: status %d, want %d: %s", tc.name, code, tc.code, body)
			}
		}
		// The socket needs no token.
		ctlGet(t, sock, "GET", "/v1/status", "", 200, nil)
	})
}

// TestMetricsCountDORA: after one scripted DHCPDISCOVER, DHCPOFFER,
// DHCPREQUEST, DHCPACK, the server's /metrics show exactly those packets
// received and sent, the lease bound, the pool's use and one commit.
func TestMetricsCountDORA(t *testing.T) {
	requireCommands(t)
	l := newLink(t)
	srvHost := l.addHost("server", serverPrefix)
	probeHost := l.addHost("probe", "198.18.0.250/24")
	pool := mustRange("198.18.0.100", "198.18.0.109")
	const metricsAddr = "127.0.0.1:9167"
	startServer(t, srvHost, newStore(t), append(quickArgs(pool, time.Hour), "--metrics", metricsAddr, "--control", ctlSocketPath(t))...)

	types := []string{"discover", "offer", "request", "decline", "ack", "nak", "release", "inform", "forcerenew"}
	before := ctlMetrics(t, srvHost, metricsAddr)
	for _, typ := range types {
		for _, dir := range []string{"received", "sent"} {
			k := fmt.Sprintf(`leased_packets_%s_total{type="%s"}`, dir, typ)
			if v, ok := before[k]; !ok || v != 0 {
				t.Errorf("before any packet: %s = %v (present %v), want 0", k, v, ok)
			}
		}
	}

	pr := newProbe(t, probeHost)
	d := discover(t, 2, nil)
	pr.broadcast(d)
	offer := ctlReplyOnce(t, pr, d, 20*time.Second)
	if offer.MessageType() != dhcpv4.Offer {
		t.Fatalf("reply to DISCOVER: %v", offer.MessageType())
	}
	req := ctlRequest(t, 2, offer)
	pr.broadcast(req)
	if ack := ctlReplyOnce(t, pr, req, 20*time.Second); ack.MessageType() != dhcpv4.Ack || ack.YIAddr != offer.YIAddr {
		t.Fatalf("reply to REQUEST: %v %v", ack.MessageType(), ack.YIAddr)
	}

	// The server counts a reply once it is sent, which may be just after
	// the probe has it: wait for the counts of both replies, then check
	// every count.
	var after map[string]float64
	err := waitFor(startWait, "the server to count the replies it sent", func() (bool, error) {
		after = ctlMetrics(t, srvHost, metricsAddr)
		return after[`leased_packets_sent_total{type="offer"}`] > 0 && after[`leased_packets_sent_total{type="ack"}`] > 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		`leased_datagrams_received_total`:                                       2,
		`leased_leases{state="bound",subnet="198.18.0.0/24"}`:                   1,
		`leased_leases{state="offered",subnet="198.18.0.0/24"}`:                 0,
		`leased_pool_used{pool="` + pool.String() + `",subnet="198.18.0.0/24"}`: 1,
		`leased_pool_size{pool="` + pool.String() + `",subnet="198.18.0.0/24"}`: 10,
		`leased_outcomes_total{reason="offer"}`:                                 1,
		`leased_outcomes_total{reason="ack"}`:                                   1,
		`leased_commit_duration_seconds_count`:                                  1,
		`leased_commit_errors_total`:                                            0,
		`leased_store_writable`:                                                 1,
		`leased_send_errors_total`:                                              0,
	}
	for _, typ := range types {
		want[fmt.Sprintf(`leased_packets_received_total{type="%s"}`, typ)] = 0
		want[fmt.Sprintf(`leased_packets_sent_total{type="%s"}`, typ)] = 0
	}
	want[`leased_packets_received_total{type="discover"}`] = 1
	want[`leased_packets_received_total{type="request"}`] = 1
	want[`leased_packets_sent_total{type="offer"}`] = 1
	want[`leased_packets_sent_total{type="ack"}`] = 1
	for _, reason := range []string{"malformed", "foreign-interface", "no-subnet", "pool-exhausted", "not-for-us", "commit-failed"} {
		want[`leased_drops_total{reason="`+reason+`"}`] = 0
	}
	for k, v := range want {
		if g, ok := after[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}
