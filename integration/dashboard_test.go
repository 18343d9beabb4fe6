//go:build linux

package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"leased/control"
	"leased/dhcpv4"
)

// The dashboard, end to end: a headless Chromium in the server's
// namespace logs in to the control listener on TCP with the token, and
// watches and acts on a server that real dhclients use.

// Of TestDashboard.
const (
	dashToken    = "dashboard-token-0123456789abcdef"
	dashListen   = "127.0.0.1:8067"
	dashURL      = "http://" + dashListen
	dashPoolAddr = "198.18.0.100" // the pool's only address
	dashHostname = "kiosk-7"
	// dashLease is short, so that dhclient renews (at T1, half of it)
	// within the test.
	dashLease = 20 * time.Second
	// dashDeadline bounds the whole test's browsing.
	dashDeadline = 110 * time.Second
)

// dashConfig is the server's configuration: one address to give, and a
// client class for the host name the first client sends.
var dashConfig = fmt.Sprintf(`interfaces: [eth0]
lease-time: %v
client-classes:
  - {name: kiosks, match: {hostname: "kiosk-*"}}
subnets:
  - prefix: 198.18.0.0/24
    pools: [%s-%s]
`, dashLease, dashPoolAddr, dashPoolAddr)

// TestDashboard drives the dashboard in a browser through what an
// operator does: log in (a wrong token, then the right one); see the
// overview; watch a dhclient's lease appear on the leases page, open
// before the client started, without a reload; find it by hardware
// address and host name; see a second client kept out by the full pool
// in the live events, on its client page (the pool-exhausted diagnosis)
// and on the pools page; release the first client's lease, confirming
// (and first declining) in the dialog, after which its next renewal is
// NAKed; add and remove a reservation through the form; reload; log out.
// It writes the screenshots of docs/screenshots when LEASED_SCREENSHOTS
// names a directory.
func TestDashboard(t *testing.T) {
	requireClientCommands(t, dhclient)
	requireChromium(t)
	l, srvHost, hosts := newServerLink(t, 2)
	pr := newProbe(t, l.addHost("probe", "198.18.0.250/24"))
	dir := t.TempDir()
	cfg, token := filepath.Join(dir, "leased.yaml"), filepath.Join(dir, "token")
	writeFile(t, cfg, dashConfig, 0o644)
	writeFile(t, token, dashToken+"\n", 0o600)
	sock := ctlSocketPath(t)
	startServer(t, srvHost, newStore(t), "--config", cfg, "--control", sock,
		"--control-tcp", dashListen, "--control-token-file", token)
	b := newBrowser(t, srvHost, dashDeadline)
	first := newClient(t, dhclient, hosts[0])
	first.conf = []string{fmt.Sprintf("send host-name %q;", dashHostname)}
	second := newClient(t, dhclient, hosts[1])
	row := fmt.Sprintf(`#leases tr[data-addr=%q]`, dashPoolAddr)

	t.Run("login: a wrong token is refused, the right one lets in", func(t *testing.T) {
		b := b.on(t)
		if code := b.navigate(dashURL + "/"); code != 200 || !strings.HasSuffix(b.location(), "/ui/login") {
			t.Fatalf("/ without a session: status %d at %s, want the login page", code, b.location())
		}
		if got := b.text(`label[for="token"]`); got != "Token" {
			t.Errorf("the token's label says %q", got)
		}
		if typ := eval[string](b, `document.getElementById("token").type`); typ != "password" {
			t.Errorf("the token's input is of type %q, want password", typ)
		}
		b.fill("#token", "not-the-token")
		b.clickToLoad("#login")
		if msg := b.text("#message"); !strings.Contains(strings.ToLower(msg), "wrong") {
			t.Errorf("a wrong token: #message says %q", msg)
		}
		b.waitVisible("#token")
		b.fill("#token", dashToken)
		if code := b.clickToLoad("#login"); code != 200 || b.location() != dashURL+"/ui/" {
			t.Fatalf("the right token: status %d at %s, want the overview", code, b.location())
		}
		if c := eval[string](b, `document.cookie`); c != "" {
			t.Errorf("the page's script sees cookies %q: the session cookie must be HttpOnly", c)
		}
	})

	t.Run("the overview", func(t *testing.T) {
		b := b.on(t)
		b.navigate(dashURL + "/ui/")
		for _, sel := range []string{"nav", "main", "#version", "#uptime", "#store-health", "#rate-chart", "table#outcomes", "button#reload"} {
			b.waitVisible(sel)
		}
		sum := sha256.Sum256([]byte(dashConfig))
		if h := b.text("#config-hash"); !strings.Contains(h, hex.EncodeToString(sum[:])[:12]) {
			t.Errorf("#config-hash says %q, want the SHA-256 of the file, %x", h, sum)
		}
		if v := b.text("#version"); v == "" {
			t.Error("#version is empty")
		}
		if n := b.count("nav a[href]"); n < 4 {
			t.Errorf("nav has %d links, want one per page", n)
		}
	})

	t.Run("a new lease appears on the open leases page without a reload", func(t *testing.T) {
		b := b.on(t)
		b.navigate(dashURL + "/ui/leases")
		b.waitVisible("table#leases")
		b.setMark("opened-before-the-client")
		first.start()
		b.waitVisible(row)
		b.waitText(row+" td.state", "bound")
		if hw := b.text(row + " td.hw"); hw != first.host.mac {
			t.Errorf("the lease's hardware address is %q, want %s", hw, first.host.mac)
		}
		if hn := b.text(row + " td.hostname"); hn != dashHostname {
			t.Errorf("the lease's host name is %q, want %s", hn, dashHostname)
		}
		if !b.hasMark("opened-before-the-client") {
			t.Error("the page was reloaded to show the lease")
		}
		b.waitText("#count", "1")
		b.waitVisible(row + fmt.Sprintf(` button.release[data-addr=%q]`, dashPoolAddr))
		b.docScreenshot("leases")
	})

	t.Run("search finds the lease by hardware address and by host name", func(t *testing.T) {
		b := b.on(t)
		for _, tt := range []struct {
			q    string
			want int
		}{
			{first.host.mac, 1},
			{strings.ToUpper(first.host.mac), 1},
			{dashHostname, 1},
			{"02:c6:12:99:99:99", 0},
		} {
			b.navigate(dashURL + "/ui/leases")
			b.fill("form#filter input#search", tt.q)
			b.clickToLoad(`form#filter button[type="submit"]`)
			if n := b.count("#leases tr[data-addr]"); n != tt.want {
				t.Errorf("search %q: %d rows, want %d", tt.q, n, tt.want)
			}
			if tt.want == 1 && b.count(row) != 1 {
				t.Errorf("search %q: no row for %s", tt.q, dashPoolAddr)
			}
			if c := b.text("#count"); !strings.Contains(c, fmt.Sprint(tt.want)) {
				t.Errorf("search %q: #count says %q, want %d", tt.q, c, tt.want)
			}
		}
	})

	t.Run("a client kept out by the full pool, live on the overview", func(t *testing.T) {
		b := b.on(t)
		b.navigate(dashURL + "/ui/")
		b.waitVisible("#events")
		second.start()
		b.waitTrue("a live pool-exhausted decision", `[...document.querySelectorAll("#events li")].some(li =>
			li.innerText.includes("pool-exhausted") && li.innerText.includes("none"))`)
		b.waitTrue("the first client's ack of "+dashPoolAddr+" (a renewal)", fmt.Sprintf(`[...document.querySelectorAll("#events li")].some(li =>
			li.innerText.includes("ack") && li.innerText.includes(%q))`, dashPoolAddr))
		b.navigate(dashURL + "/ui/")
		b.waitText("table#outcomes", "pool-exhausted")
	})

	t.Run("the client page diagnoses pool-exhausted", func(t *testing.T) {
		b := b.on(t)
		b.navigate(dashURL + "/ui/clients/" + second.host.mac)
		d := b.waitText("#diagnosis", "pool-exhausted")
		for _, want := range []string{"the pool " + dashPoolAddr + "-" + dashPoolAddr + " is full: 1 bound", "enlarge the pool or shorten lease-time"} {
			if !strings.Contains(d, want) {
				t.Errorf("#diagnosis does not say %q:\n%s", want, d)
			}
		}
		if h := b.text("#why-history"); !strings.Contains(h, "pool-exhausted") || !strings.Contains(h, "DISCOVER") {
			t.Errorf("#why-history:\n%s", h)
		}
		if n := b.count("#client-leases tr[data-addr]"); n != 0 {
			t.Errorf("%d leases on the page of a client without one", n)
		}
		b.docScreenshot("client")

		b.navigate(dashURL + "/ui/clients/" + first.host.mac)
		b.waitVisible(fmt.Sprintf(`#client-leases tr[data-addr=%q]`, dashPoolAddr))
		b.waitText("#diagnosis", "ack")
		b.waitText("#why-history td.classes", "kiosks")
	})

	t.Run("leased why names the classes each decision matched", func(t *testing.T) {
		for _, tt := range []struct {
			c    *dhcpClient
			want string
		}{{first, "kiosks"}, {second, ""}} {
			w, ok := whyOf(t, sock, tt.c.host.mac)
			if !ok {
				t.Fatalf("no history of %s", tt.c.host.mac)
			}
			for _, d := range w.Clients[0].History {
				if d.Classes != tt.want {
					t.Errorf("%s: %s %s matched classes %q, want %q", tt.c.host.mac, d.Type, d.Verdict, d.Classes, tt.want)
				}
			}
		}
		code, out, stderr := ctlCLI(t, "why", first.host.mac, "--control", sock)
		if code != 0 || !strings.Contains(out, "CLASSES") || !strings.Contains(out, "kiosks") {
			t.Errorf("leased why %s: exit %d\n%s%s", first.host.mac, code, out, stderr)
		}
	})

	t.Run("the pools page warns of the full pool", func(t *testing.T) {
		b := b.on(t)
		b.navigate(dashURL + "/ui/pools")
		subnetRow := `#pools tr[data-subnet="198.18.0.0/24"]`
		if u := b.text(subnetRow + " td.util"); !strings.Contains(u, "1 of 1") || !strings.Contains(u, "100%") {
			t.Errorf("utilisation %q, want 1 of 1 (100%%)", u)
		}
		if n := b.count(subnetRow + ".warn"); n == 0 {
			t.Error("no row of the full subnet has the class warn")
		}
		b.docScreenshot("pools")
	})

	t.Run("release through the confirmation; the next renewal is NAKed", func(t *testing.T) {
		b := b.on(t)
		// The second client would take the address freed: the probe
		// takes it instead, when the test says.
		if second.proc != nil && !second.proc.exited() {
			second.kill()
		}
		b.navigate(dashURL + "/ui/leases")
		release := fmt.Sprintf(`button.release[data-addr=%q]`, dashPoolAddr)

		b.click(release)
		b.waitVisible("dialog#confirm")
		if q := b.text("#confirm-text"); !strings.Contains(q, dashPoolAddr) {
			t.Errorf("the question %q does not name %s", q, dashPoolAddr)
		}
		b.click("#confirm-no")
		b.waitTrue("the page to say that nothing was done", `!document.getElementById("confirm").open &&
			document.getElementById("message").innerText.includes("nothing was changed")`)
		var v control.Lease
		ctlGet(t, sock, "GET", "/v1/leases/"+dashPoolAddr, "", 200, &v)
		if v.State != "bound" {
			t.Fatalf("after no: the lease is %s, want still bound", v.State)
		}

		b.setMark("before-the-release")
		b.click(release)
		b.waitVisible("dialog#confirm")
		b.click("#confirm-yes")
		b.waitText("#message", dashPoolAddr)
		ctlGet(t, sock, "GET", "/v1/leases/"+dashPoolAddr, "", 200, &v)
		if v.State != "released" {
			t.Fatalf("after yes: the lease is %s, want released", v.State)
		}
		b.waitText(row+" td.state", "released")
		if !b.hasMark("before-the-release") {
			t.Error("the page was reloaded by the release")
		}

		// Another client takes the address; then the first client's
		// renewal, at T1 of its last lease, is refused.
		offer := ctlReplyOnce(t, pr, broadcastOnce(pr, discover(t, 1, nil)), leaseWait)
		if offer.YIAddr.String() != dashPoolAddr {
			t.Fatalf("the probe was offered %v, want %s", offer.YIAddr, dashPoolAddr)
		}
		if ack := ctlReplyOnce(t, pr, broadcastOnce(pr, ctlRequest(t, 1, offer)), leaseWait); ack.MessageType() != dhcpv4.Ack {
			t.Fatalf("the probe's REQUEST: %v", ack.MessageType())
		}
		var nak control.Decision
		err := waitFor(dashLease, "the first client's renewal to be NAKed", func() (bool, error) {
			w, ok := whyOf(t, sock, first.host.mac)
			if !ok {
				return false, nil
			}
			for _, d := range w.Clients[0].History {
				if d.Verdict == "NAK" && d.Type == "DHCPREQUEST" && d.CIAddr.String() == dashPoolAddr {
					nak = d
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if nak.Reason != "nak-address" {
			t.Errorf("the renewal's NAK: %+v", nak)
		}
		b.navigate(dashURL + "/ui/clients/" + first.host.mac)
		b.waitText("#why-history", "NAK")
	})

	t.Run("a reservation added and removed through the form", func(t *testing.T) {
		b := b.on(t)
		const addr, hw = "198.18.0.20", "02:c6:12:00:aa:01"
		b.navigate(dashURL + "/ui/reservations")
		b.fill(`form#add-reservation input[name="addr"]`, addr)
		b.fill(`form#add-reservation input[name="hw"]`, hw)
		b.fill(`form#add-reservation input[name="hostname"]`, "printer")
		b.click(`form#add-reservation [type="submit"]`)
		b.waitVisible("dialog#confirm")
		if q := b.text("#confirm-text"); !strings.Contains(q, addr) {
			t.Errorf("the question %q does not name %s", q, addr)
		}
		b.click("#confirm-yes")
		b.waitText("#message", addr)
		resRow := fmt.Sprintf(`#reservations tr[data-addr=%q]`, addr)
		b.waitVisible(resRow)
		var rs struct{ Reservations []control.Reservation }
		ctlGet(t, sock, "GET", "/v1/reservations?source=runtime", "", 200, &rs)
		if len(rs.Reservations) != 1 || rs.Reservations[0].Address.String() != addr || rs.Reservations[0].HWAddr != hw ||
			rs.Reservations[0].Hostname != "printer" {
			t.Fatalf("reservations after the form: %+v", rs.Reservations)
		}

		b.click(fmt.Sprintf(`button.remove[data-addr=%q]`, addr))
		b.waitVisible("dialog#confirm")
		b.click("#confirm-yes")
		b.waitTrue("the reservation's row to go", fmt.Sprintf(`!document.querySelector(%s)`, jsString(resRow)))
		ctlGet(t, sock, "GET", "/v1/reservations?source=runtime", "", 200, &rs)
		if len(rs.Reservations) != 0 {
			t.Errorf("reservations after the removal: %+v", rs.Reservations)
		}
	})

	t.Run("reload through the confirmation, then log out", func(t *testing.T) {
		b := b.on(t)
		b.navigate(dashURL + "/ui/")
		// For the documentation: a live decision, and a chart of two
		// samples or more (one each 10 s).
		// The page's event stream may not be open yet: the probe asks
		// again until the page shows a decision.
		for !b.becomesTrue(`[...document.querySelectorAll("#events li")].some(li => li.innerText.includes("pool-exhausted"))`, time.Second) {
			pr.broadcast(discover(t, 2, nil))
		}
		b.waitTrue("a line in the chart", `!!document.querySelector("#rate-chart polyline, #rate-chart path")`)
		b.docScreenshot("overview")

		b.click("button#reload")
		b.waitVisible("dialog#confirm")
		b.click("#confirm-yes")
		b.waitTrue("the reload's result", `/reload/i.test(document.getElementById("message").innerText)`)

		b.navigate(dashURL + "/ui/logout")
		b.navigate(dashURL + "/ui/leases")
		if !strings.HasSuffix(b.location(), "/ui/login") {
			t.Errorf("after logging out, /ui/leases shows %s, want the login page", b.location())
		}
	})

	if dir := os.Getenv(envScreenshots); dir != "" {
		t.Logf("screenshots written to %s", dir)
	}
}
