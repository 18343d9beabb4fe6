package control

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/history"
	"leased/lease"
	"leased/reservations"
	"leased/server"
)

const testToken = "0123456789abcdef-token"

// uiFixture is the dashboard over the fixture's engine, with a history,
// counted outcomes, on a Unix-socket-like handler and on a TCP handler
// guarded by testToken.
type uiFixture struct {
	*fixture
	book     *history.Book
	ui       *Server
	unix     *httptest.Server
	tcp      *httptest.Server
	outcomes map[string]uint64
}

func newUIFixture(t *testing.T) *uiFixture {
	t.Helper()
	f := &uiFixture{fixture: newFixture(t), book: history.New(history.Options{Clients: 64}), outcomes: map[string]uint64{"offer": 5, "ack": 4}}
	var err error
	f.ui, err = NewServer(Options{
		Engine: f.eng, Version: "1.2.3", Started: t0.Add(-90 * time.Second), Clock: func() time.Time { return t0 },
		Config:       func() ConfigStatus { return ConfigStatus{File: "leased.yaml", SHA256: "abc123", Subnets: 2} },
		Outcomes:     func() map[string]uint64 { return f.outcomes },
		History:      f.book,
		Reservations: reservations.File{Path: f.resFile},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.unix = httptest.NewServer(f.ui)
	t.Cleanup(f.unix.Close)
	f.tcp = httptest.NewServer(f.ui.TCPHandler(testToken))
	t.Cleanup(f.tcp.Close)
	return f
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get fetches base+path with the cookie and headers given, and returns
// the response and its body.
func get(t *testing.T, method, url string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestDashboardPagesRender(t *testing.T) {
	f := newUIFixture(t)
	tests := []struct {
		path string
		want []string
	}{
		{"/ui/", []string{`id="version">1.2.3<`, `id="uptime">1m30s<`, `id="config-hash"`, `>abc123<`, `id="store-health"`, `id="rate-chart"`, `<table id="outcomes"`, `data-reason="offer"`, `<button id="reload"`, `<ul id="events"`}},
		{"/ui/pools", []string{`<table id="pools"`, `<tr data-subnet="198.18.0.0/24"`, `class="util">3 of 10 (30%)<`, `data-pool="198.18.0.100-198.18.0.109"`, `<svg class="spark"`}},
		{"/ui/leases", []string{`<form id="filter"`, `<input id="search" name="q"`, `<select id="state"`, `<select id="subnet"`, `<table id="leases"`, `<tr data-addr="198.18.0.100">`, `<td class="addr">`, `<td class="hw">`, `<td class="hostname">alpha</td>`, `<td class="state">bound</td>`, `<td class="expiry">`, `class="release" data-addr="198.18.0.100"`, `id="count"`}},
		{"/ui/clients/02:00:00:00:00:01", []string{`<table id="client-leases"`, `<table id="why-history"`, `id="diagnosis"`, `data-addr="198.18.0.100"`}},
		{"/ui/reservations", []string{`<form id="add-reservation"`, `name="addr"`, `name="hw"`, `name="hostname"`, `<table id="reservations"`, `data-addr="198.18.0.50"`, `<button type="submit"`}},
	}
	common := []string{`<nav`, `href="/ui/pools"`, `href="/ui/leases"`, `href="/ui/reservations"`, `<main`, `id="message" role="status"`, `<dialog id="confirm"`, `id="confirm-text"`, `<button id="confirm-yes"`, `<button id="confirm-no"`, `<label for=`}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, "GET", f.unix.URL+tt.path, nil, nil)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d, type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			for _, w := range append(tt.want, common...) {
				if tt.path == "/ui/" && w == `<label for=` || tt.path == "/ui/pools" && w == `<label for=` || strings.HasPrefix(tt.path, "/ui/clients") && w == `<label for=` {
					continue // pages without a form
				}
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %s", w)
				}
			}
		})
	}
	t.Run("/ redirects to the dashboard", func(t *testing.T) {
		resp, _ := get(t, "GET", f.unix.URL+"/", nil, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
			t.Errorf("GET / = %d to %q, want 303 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("static assets", func(t *testing.T) {
		for _, p := range []string{"/ui/static/app.js", "/ui/static/style.css"} {
			if resp, body := get(t, "GET", f.unix.URL+p, nil, nil); resp.StatusCode != http.StatusOK || len(body) < 100 {
				t.Errorf("%s: %d, %d bytes", p, resp.StatusCode, len(body))
			}
		}
	})
}

func TestDashboardShowsHostileHostNameAsText(t *testing.T) {
	f := newUIFixture(t)
	const evil = `<script>alert("x")</script>`
	a := (&dhcpClient{mac: mac(0x33), hostname: evil}).dora(t, f.eng, link("198.18.0.0/24"))
	for _, path := range []string{"/ui/leases", "/ui/leases?q=script", "/ui/clients/" + a.String()} {
		_, body := get(t, "GET", f.unix.URL+path, nil, nil)
		if strings.Contains(body, "<script>alert") {
			t.Errorf("%s: the host name is markup", path)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(") {
			t.Errorf("%s: the host name is not shown as text", path)
		}
	}
}

// login posts token to the login page and returns the response.
func (f *uiFixture) login(t *testing.T, token string) (*http.Response, string) {
	t.Helper()
	return get(t, "POST", f.tcp.URL+"/ui/login", strings.NewReader(url.Values{"token": {token}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", SessionCookie, resp.Header["Set-Cookie"])
	return nil
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

func TestDashboardLogin(t *testing.T) {
	f := newUIFixture(t)
	t.Run("over TCP without a session a page goes to the login page", func(t *testing.T) {
		for _, p := range []string{"/", "/ui/", "/ui/leases?q=x", "/ui/clients/198.18.0.100"} {
			resp, _ := get(t, "GET", f.tcp.URL+p, nil, nil)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
				t.Errorf("GET %s = %d to %q, want 303 to /ui/login", p, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		if resp, _ := get(t, "GET", f.tcp.URL+"/v1/status", nil, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /v1/status without a token = %d, want 401", resp.StatusCode)
		}
		if resp, _ := get(t, "GET", f.tcp.URL+"/v1/events", nil, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /v1/events without a token = %d, want 401", resp.StatusCode)
		}
	})
	t.Run("the login form", func(t *testing.T) {
		resp, body := get(t, "GET", f.tcp.URL+"/ui/login", nil, nil)
		for _, w := range []string{`<label for="token">Token</label>`, `<input id="token" name="token" type="password"`, `<button id="login" type="submit"`} {
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, w) {
				t.Errorf("login page (%d) lacks %s", resp.StatusCode, w)
			}
		}
	})
	t.Run("a wrong token shows the form again, saying so", func(t *testing.T) {
		resp, body := f.login(t, "wrong-token-wrong-token")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `role="status" aria-live="polite">Wrong token.`) || len(resp.Cookies()) != 0 {
			t.Errorf("wrong token: %d, cookies %v, message shown %v", resp.StatusCode, resp.Cookies(), strings.Contains(body, "Wrong token."))
		}
	})
	resp, _ := f.login(t, testToken)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("right token: %d to %q, want 303 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := sessionCookie(t, resp)
	t.Run("the session cookie", func(t *testing.T) {
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || len(c.Value) < 40 {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP, a long random value", c)
		}
	})
	cookie := map[string]string{"Cookie": c.String()}
	t.Run("the session opens the pages and the API", func(t *testing.T) {
		resp, body := get(t, "GET", f.tcp.URL+"/ui/", nil, cookie)
		m := csrfMeta.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil || len(m[1]) < 40 || !strings.Contains(body, `href="/ui/logout"`) {
			t.Errorf("GET /ui/ with the session: %d, CSRF meta %v", resp.StatusCode, m)
		}
		if resp, _ := get(t, "GET", f.tcp.URL+"/v1/status", nil, cookie); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /v1/status with the session = %d", resp.StatusCode)
		}
	})
	t.Run("the bearer token opens the pages too", func(t *testing.T) {
		if resp, _ := get(t, "GET", f.tcp.URL+"/ui/pools", nil, map[string]string{"Authorization": "Bearer " + testToken}); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /ui/pools with the bearer token = %d", resp.StatusCode)
		}
	})
	t.Run("the Unix socket needs no login", func(t *testing.T) {
		resp, body := get(t, "GET", f.unix.URL+"/ui/", nil, nil)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "/ui/logout") {
			t.Errorf("GET /ui/ on the socket = %d", resp.StatusCode)
		}
	})
	t.Run("logout ends the session", func(t *testing.T) {
		resp, _ := get(t, "GET", f.tcp.URL+"/ui/logout", nil, cookie)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
			t.Errorf("logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := get(t, "GET", f.tcp.URL+"/ui/", nil, cookie); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("GET /ui/ with the ended session = %d, want 303 to the login page", resp.StatusCode)
		}
		if f.ui.sessions.len() != 0 {
			t.Errorf("%d sessions kept after logout", f.ui.sessions.len())
		}
	})
}

func TestDashboardSessionExpires(t *testing.T) {
	now := t0
	s := newSessions(func() time.Time { return now })
	id, _ := s.create()
	if _, ok := s.get(id); !ok {
		t.Fatal("a new session is not found")
	}
	now = now.Add(SessionLifetime)
	if _, ok := s.get(id); ok {
		t.Error("a session is still good at the end of its lifetime")
	}
	for range MaxSessions + 10 {
		s.create()
	}
	if n := s.len(); n != MaxSessions {
		t.Errorf("%d sessions kept, want at most %d", n, MaxSessions)
	}
}

func TestDashboardLoginRateLimited(t *testing.T) {
	f := newUIFixture(t)
	for i := range loginLimit.Burst {
		if resp, _ := f.login(t, "wrong-token-wrong-token"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp, body := f.login(t, testToken)
	if resp.StatusCode != http.StatusTooManyRequests || len(resp.Cookies()) != 0 || !strings.Contains(body, "Too many attempts") {
		t.Errorf("attempt past the limit: %d, cookies %v; want 429 and no session, even with the right token", resp.StatusCode, resp.Cookies())
	}
}

func TestDashboardCSRF(t *testing.T) {
	f := newUIFixture(t)
	resp, _ := f.login(t, testToken)
	c := sessionCookie(t, resp)
	_, page := get(t, "GET", f.tcp.URL+"/ui/leases", nil, map[string]string{"Cookie": c.String()})
	m := csrfMeta.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token in the page")
	}
	tests := []struct {
		name string
		addr netip.Addr
		hdr  map[string]string
		want int
	}{
		{"session without the CSRF header is refused", f.leases["alpha"], map[string]string{"Cookie": c.String()}, http.StatusForbidden},
		{"session with a wrong CSRF header is refused", f.leases["alpha"], map[string]string{"Cookie": c.String(), CSRFHeader: "nope"}, http.StatusForbidden},
		{"session with the CSRF header passes", f.leases["alpha"], map[string]string{"Cookie": c.String(), CSRFHeader: m[1]}, http.StatusOK},
		{"the bearer token needs no CSRF header", f.leases["omega"], map[string]string{"Authorization": "Bearer " + testToken}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, "POST", f.tcp.URL+"/v1/leases/"+tt.addr.String()+"/release", nil, tt.hdr)
			if resp.StatusCode != tt.want {
				t.Fatalf("release: %d %s, want %d", resp.StatusCode, body, tt.want)
			}
			v, _ := f.eng.LeaseByAddr(tt.addr)
			if released := v.State.String() == "released"; released != (tt.want == http.StatusOK) {
				t.Errorf("lease %v is %v after a %d", tt.addr, v.State, resp.StatusCode)
			}
		})
	}
	t.Run("the Unix socket needs no CSRF header", func(t *testing.T) {
		if resp, body := get(t, "POST", f.unix.URL+"/v1/leases/"+f.leases["beta"].String()+"/release", nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("release on the socket: %d %s", resp.StatusCode, body)
		}
	})
}

// rowsOf returns the data-addr of the rows of table#leases in body.
func rowsOf(body string) []string {
	i := strings.Index(body, `<table id="leases"`)
	if i < 0 {
		return nil
	}
	body = body[i:]
	body = body[:strings.Index(body, "</table>")]
	var out []string
	for _, m := range regexp.MustCompile(`<tr data-addr="([^"]+)">`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestLeasesPageFiltersAndSorts(t *testing.T) {
	f := newUIFixture(t)
	const (
		alpha, beta, gamma, delta, omega = "198.18.0.100", "198.18.0.101", "198.18.0.102", "198.18.0.103", "198.19.0.100"
	)
	tests := []struct {
		name, query string
		want        []string
		count       string
	}{
		{"every lease in address order", "", []string{alpha, beta, gamma, delta, omega}, "5 leases match"},
		{"by state", "state=bound", []string{alpha, beta, omega}, "3 leases match"},
		{"by subnet", "subnet=198.19.0.0/24", []string{omega}, "1 lease matches"},
		{"search a host name without regard to case", "q=BETA", []string{beta}, "1 lease matches"},
		{"search a hardware address", "q=02:00:00:00:00:03", []string{gamma}, "1 lease matches"},
		{"search a client identifier in hex", "q=01020000000002", []string{beta}, "1 lease matches"},
		{"search an address", "q=198.19.", []string{omega}, "1 lease matches"},
		{"search and state together", "q=198.18.&state=bound", []string{alpha, beta}, "2 leases match"},
		{"nothing matches", "q=nothing-like-it", nil, "0 leases match"},
		{"sort by host name", "sort=hostname", []string{gamma, delta, omega, alpha, beta}, ""},
		{"sort by host name, descending", "sort=hostname&order=desc", []string{beta, alpha, omega, delta, gamma}, ""},
		{"sort by state", "sort=state", []string{alpha, beta, omega, gamma, delta}, ""},
		{"sort by address, descending", "sort=addr&order=desc", []string{omega, delta, gamma, beta, alpha}, ""},
		{"sort by hardware address", "sort=hw", []string{alpha, beta, gamma, delta, omega}, ""},
		{"an unknown sort is by address", "sort=bogus", []string{alpha, beta, gamma, delta, omega}, ""},
		{"a page past the end is empty", "page=2", nil, "5 leases match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := get(t, "GET", f.unix.URL+"/ui/leases?"+tt.query, nil, nil)
			if got := rowsOf(body); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("rows %v, want %v", got, tt.want)
			}
			if tt.count != "" && !strings.Contains(body, tt.count) {
				t.Errorf("#count does not say %q", tt.count)
			}
		})
	}
}

// engineWithLeases returns an engine whose store holds n bound leases in
// 198.18.0.0/15, every third with a host name.
func engineWithLeases(tb testing.TB, n int) *server.Engine {
	tb.Helper()
	cfg := testConfig()
	cfg.Subnets = []config.Subnet{{
		Prefix: netip.MustParsePrefix("198.18.0.0/15"), LeaseTime: time.Hour,
		Pools: []config.Range{{First: mustAddr("198.18.0.10"), Last: mustAddr("198.19.255.250")}},
	}}
	st := &lease.Memory{}
	a := mustAddr("198.18.0.10")
	ls := make([]lease.Lease, 0, n)
	for i := range n {
		l := lease.Lease{Addr: a, State: lease.Bound, Start: t0, Expiry: t0.Add(time.Duration(i%3600) * time.Second)}
		l.HW.Type, l.HW.Len = 1, 6
		copy(l.HW.Addr[:], []byte{2, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)})
		l.ClientID = string(append([]byte{1}, l.HW.Addr[:6]...))
		if i%3 == 0 {
			l.Hostname = fmt.Sprintf("host-%d", i)
		}
		ls = append(ls, l)
		a = a.Next()
	}
	if err := st.Commit(context.Background(), ls...); err != nil {
		tb.Fatal(err)
	}
	e, err := server.New(cfg, st, func() time.Time { return t0 })
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func TestLeasesPagePages(t *testing.T) {
	s, err := NewServer(Options{Engine: engineWithLeases(t, 250), Clock: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query       string
		rows        int
		first, last string
		prev, next  bool
	}{
		{"", 100, "198.18.0.10", "198.18.0.109", false, true},
		{"page=2", 100, "198.18.0.110", "198.18.0.209", true, true},
		{"page=3", 50, "198.18.0.210", "198.18.1.3", true, false},
		{"page=3&sort=addr&order=desc", 50, "198.18.0.59", "198.18.0.10", true, false},
		{"page=3&sort=hostname", 50, "198.18.0.202", "198.18.0.109", true, false}, // host-192 .. host-99, after the 166 without a name
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest("GET", "/ui/leases?"+tt.query, nil))
			body := w.Body.String()
			rows := rowsOf(body)
			if len(rows) != tt.rows || rows[0] != tt.first || rows[len(rows)-1] != tt.last {
				t.Fatalf("%d rows %v .. %v, want %d %s .. %s", len(rows), rows[0], rows[len(rows)-1], tt.rows, tt.first, tt.last)
			}
			if strings.Contains(body, `rel="prev"`) != tt.prev || strings.Contains(body, `rel="next"`) != tt.next {
				t.Errorf("links to the previous and next pages: %v %v, want %v %v", strings.Contains(body, `rel="prev"`), strings.Contains(body, `rel="next"`), tt.prev, tt.next)
			}
			if !strings.Contains(body, "250 leases match") {
				t.Error("#count does not say 250 leases match")
			}
		})
	}
}

// BenchmarkLeasesPage renders a page of the leases page over an engine
// with 100,000 leases.
func BenchmarkLeasesPage(b *testing.B) {
	e := engineWithLeases(b, 100_000)
	s, err := NewServer(Options{Engine: e, Clock: func() time.Time { return t0 }})
	if err != nil {
		b.Fatal(err)
	}
	s.Sample() // as the daemon's sampler does every 10 s
	b.Run("engine scan alone", func(b *testing.B) {
		for range b.N {
			n := 0
			e.Leases(netip.Addr{}, netip.Addr{}, func(server.LeaseView) bool { n++; return true })
		}
	})
	for _, q := range []string{"", "page=500", "sort=hostname", "sort=expiry&order=desc&page=3", "q=host-99", "state=bound&q=02:00:00:00:12"} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				w := httptest.NewRecorder()
				s.ServeHTTP(w, httptest.NewRequest("GET", "/ui/leases?"+q, nil))
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

func TestPoolsPageWarnsAboveThreshold(t *testing.T) {
	f := newUIFixture(t)
	(&dhcpClient{mac: mac(0x20)}).dora(t, f.eng, link("198.19.0.0/24")) // 198.19.0.0/24 now full
	_, body := get(t, "GET", f.unix.URL+"/ui/pools", nil, nil)
	tests := []struct {
		row, class, util string
	}{
		{`<tr data-subnet="198.19.0.0/24" class="subnet warn">`, "warn", "2 of 2 (100%)"},
		{`<tr data-subnet="198.19.0.0/24" data-pool="198.19.0.100-198.19.0.101" class="pool warn">`, "warn", "2 of 2 (100%)"},
		{`<tr data-subnet="198.18.0.0/24" class="subnet">`, "", "3 of 10 (30%)"},
	}
	for _, tt := range tests {
		i := strings.Index(body, tt.row)
		if i < 0 {
			t.Errorf("no row %s", tt.row)
			continue
		}
		if !strings.Contains(body[i:i+400], `class="util">`+tt.util+`<`) {
			t.Errorf("row %s does not show %s", tt.row, tt.util)
		}
	}
}

func TestRequestRates(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tests := []struct {
		name    string
		samples []sample
		want    []float64
	}{
		{"one sample draws nothing", []sample{{at: at(0), requests: 5}}, nil},
		{"rates between samples", []sample{{at: at(0), requests: 0}, {at: at(10), requests: 100}, {at: at(20), requests: 150}}, []float64{10, 5}},
		{"a counter that goes back counts 0", []sample{{at: at(0), requests: 100}, {at: at(10), requests: 20}}, []float64{0}},
		{"samples at the same time are skipped", []sample{{at: at(0), requests: 1}, {at: at(0), requests: 9}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []float64
			for _, p := range requestRates(tt.samples) {
				got = append(got, p.v)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("rates %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOverviewChartsTheLastHour(t *testing.T) {
	f := newUIFixture(t)
	now := t0
	f.ui.opts.Clock = func() time.Time { return now }
	for i := range SampleCount + 5 {
		f.outcomes = map[string]uint64{"offer": uint64(i * 10), "ack": uint64(i * 10)} // 2 requests a second
		f.ui.Sample()
		now = now.Add(SampleInterval)
	}
	if n := len(f.ui.samples.history()); n != SampleCount {
		t.Errorf("%d samples kept, want %d", n, SampleCount)
	}
	_, body := get(t, "GET", f.unix.URL+"/ui/", nil, nil)
	m := regexp.MustCompile(`<polyline class="line" points="([^"]+)">`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the overview has no chart line")
	}
	pts := strings.Fields(m[1])
	if len(pts) < SampleCount-2 || !strings.HasSuffix(pts[len(pts)-1], ",0.0") {
		t.Errorf("%d points, last %q; want about %d, the last at the top (2 requests/s is the most)", len(pts), pts[len(pts)-1], SampleCount)
	}
	if !strings.Contains(body, "now 2.0, at most 2.0") {
		t.Error("the chart's label does not say 2 requests per second")
	}
}

func TestClientPageShowsHistoryAndDiagnosis(t *testing.T) {
	f := newUIFixture(t)
	net1 := link("198.19.0.0/24")
	(&dhcpClient{mac: mac(0x20)}).dora(t, f.eng, net1) // 198.19.0.0/24 now full
	late := &dhcpClient{mac: mac(0x21)}
	req := late.packet(dhcpv4.Discover, nil)
	out := handle(t, f.eng, req, net1)
	if out.Reason != server.ReasonExhausted {
		t.Fatalf("DISCOVER into a full pool: %v", out.Reason)
	}
	f.book.Note(t0, req, &net1, &out)
	resp, body := get(t, "GET", f.unix.URL+"/ui/clients/02:00:00:00:00:21", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("client page: %d", resp.StatusCode)
	}
	var why Why
	if err := f.client.do(context.Background(), "GET", "/v1/clients/02:00:00:00:00:21/why", nil, nil, &why); err == nil {
		t.Fatal("the fixture's API has no history, and answered")
	}
	c := history.Client{ID: []byte{1, 2, 0, 0, 0, 0, 0x21}}
	got, _ := f.book.Lookup(c.ID)
	d := history.Diagnose(&got, history.Cached(f.eng), t0)
	i := strings.Index(body, `id="diagnosis"`)
	if i < 0 || !strings.Contains(body[i:], d.Summary) {
		t.Errorf("the page does not show the diagnosis %q: %s", d.Summary, body[i:min(len(body), i+600)])
	}
	if j := strings.Index(body, `id="why-history"`); j < 0 || !strings.Contains(body[j:], "pool-exhausted") {
		t.Error("the history does not show the decision pool-exhausted")
	}
	if resp, _ := get(t, "GET", f.unix.URL+"/ui/clients/02:00:00:00:00:77", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a client the server knows nothing of: %d, want 404", resp.StatusCode)
	}
}

// sseReader reads server-sent events.
type sseReader struct {
	r *bufio.Reader
}

// next returns the next event's name and data, skipping comments.
func (s *sseReader) next(t *testing.T) (name, data string) {
	t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

// subscribe opens GET /v1/events on the socket handler and reads up to
// its first comment, after which the stream has its place in the feed.
func (f *uiFixture) subscribe(t *testing.T) *sseReader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", f.unix.URL+"/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /v1/events: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := &sseReader{bufio.NewReader(resp.Body)}
	if line, err := r.r.ReadString('\n'); err != nil || !strings.HasPrefix(line, ":") {
		t.Fatalf("first line %q, %v", line, err)
	}
	return r
}

func TestEventStream(t *testing.T) {
	f := newUIFixture(t)
	f.ui.testTicks = make(chan time.Time)
	t.Run("delivers a decision noted in the history", func(t *testing.T) {
		r := f.subscribe(t)
		c := &dhcpClient{mac: mac(0x44)}
		req := c.packet(dhcpv4.Discover, nil)
		in := link("198.18.0.0/24")
		out := handle(t, f.eng, req, in)
		f.book.Note(t0, req, &in, &out)
		f.ui.testTicks <- t0
		name, data := r.next(t)
		var ev Event
		if err := json.Unmarshal([]byte(data), &ev); err != nil || name != "decision" {
			t.Fatalf("event %q %q: %v", name, data, err)
		}
		want := Event{Time: t0, Type: "DHCPDISCOVER", Reply: "offer", Reason: "offer", Addr: out.Addr.String(),
			Client: "01020000000044", HW: "02:00:00:00:00:44", Subnet: "198.18.0.0/24"}
		if ev != want {
			t.Errorf("event %+v, want %+v", ev, want)
		}
	})
	t.Run("a reader that falls behind loses events, counted", func(t *testing.T) {
		before := f.ui.EventStats()
		r := f.subscribe(t)
		in := link("198.18.0.0/24")
		out := server.Outcome{Reason: server.ReasonExhausted}
		for i := range history.FeedLen + 10 {
			f.book.Note(t0, (&dhcpClient{mac: mac(byte(i))}).packet(dhcpv4.Discover, nil), &in, &out)
		}
		f.ui.testTicks <- t0
		for range history.FeedLen {
			if name, _ := r.next(t); name != "decision" {
				t.Fatalf("event %q", name)
			}
		}
		st := f.ui.EventStats()
		if st.Dropped-before.Dropped != 10 || st.Sent-before.Sent != history.FeedLen {
			t.Errorf("sent %d, dropped %d; want %d, 10", st.Sent-before.Sent, st.Dropped-before.Dropped, history.FeedLen)
		}
	})
	t.Run("subscribers are bounded", func(t *testing.T) {
		f.ui.events.subscribers.Add(MaxEventSubscribers)
		defer f.ui.events.subscribers.Add(-MaxEventSubscribers)
		if resp, _ := get(t, "GET", f.unix.URL+"/v1/events", nil, nil); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("one stream too many: %d, want 503", resp.StatusCode)
		}
	})
}

func TestVisibleWritesControlCharactersAsEscapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain host-name", "plain host-name"},
		{"tab\tkept", "tab\tkept"},
		{"esc\x1b[2Jclear", `esc\x1b[2Jclear`},
		{"del\x7f", `del\x7f`},
		{"c1\u009bcsi", `c1\u009bcsi`},
		{"not utf-8 \xff\xfe", `not utf-8 \xff\xfe`},
		{"ünïcödé stays", "ünïcödé stays"},
	}
	for _, tt := range tests {
		if got := visible(tt.in); got != tt.want {
			t.Errorf("visible(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDashboardSessionCookieIsSecureOverTLS(t *testing.T) {
	f := newUIFixture(t)
	srv := httptest.NewTLSServer(f.ui.TCPHandler(testToken))
	defer srv.Close()
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(srv.URL+"/ui/login", url.Values{"token": {testToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ck := sessionCookie(t, resp); !ck.Secure {
		t.Errorf("cookie %+v over TLS is not Secure", ck)
	}
}
