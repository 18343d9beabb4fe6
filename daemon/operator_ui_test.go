package daemon

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"leased/config"
	"leased/control"
	"leased/lease"
	"leased/server"
)

// The TCP listener guarded by a token serves the dashboard behind its
// login page, and the token's session opens it.
func TestOperatorServesDashboardBehindLogin(t *testing.T) {
	const token = "a-token-of-enough-length"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := openOperator(OperatorOptions{ControlTCP: "127.0.0.1:0", TokenFile: tokenFile}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.NewQuick(config.Quick{Interface: "eth0", Prefix: netip.MustParsePrefix("198.18.0.0/24"),
		Pool: config.Range{First: netip.MustParseAddr("198.18.0.100"), Last: netip.MustParseAddr("198.18.0.110")}})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := server.New(cfg, &lease.Memory{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.build(control.Options{Engine: server.NewReloadable(eng)}, control.MetricsSources{}); err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.tcp.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	l.serve(ctx, &wg, slog.New(slog.DiscardHandler))
	defer func() { cancel(); wg.Wait() }()

	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/ui/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
		t.Fatalf("GET /ui/ without a session: %d to %q, want 303 to /ui/login", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = c.PostForm(base+"/ui/login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == control.SessionCookie {
			session = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("login: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	req, _ := http.NewRequest("GET", base+"/ui/leases", nil)
	req.AddCookie(session)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /ui/leases with the session: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
