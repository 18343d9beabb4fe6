package control

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"leased/history"
	"leased/lease"
)

// This file is the web dashboard: server-rendered pages over the same
// engine as the JSON API, and a little script (web/app.js) that calls
// the API for the actions and follows GET /v1/events.

//go:embed web
var webFS embed.FS

// WarnUtilisation is the utilisation, in percent, above which the pools
// page marks a subnet or pool.
const WarnUtilisation = 80

// pageNames are the dashboard's pages, each a template in web/.
var pageNames = []string{"overview", "pools", "leases", "client", "reservations", "login"}

// parsePages parses each page with the layout.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{"text": visible, "when": when}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(webFS, "web/layout.html", "web/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("control: dashboard page %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// visible returns s with its control characters (C0 but for tab, DEL,
// C1) and the bytes that are not UTF-8 written as Go escapes, so that
// what a client chose to send shows as what it is; html/template then
// escapes the markup.
func visible(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) && r != '\t' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unicode.IsControl(r) && r != '\t':
			b.WriteString(strings.Trim(strconv.QuoteRune(r), "'"))
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// when shows a time for people, in UTC; "" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// routeUI registers the dashboard and the live events.
func (s *Server) routeUI() error {
	pages, err := parsePages()
	if err != nil {
		return err
	}
	s.pages = pages
	static, err := fs.Sub(webFS, "web/static")
	if err != nil {
		return err
	}
	s.mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	s.mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusSeeOther))
	s.mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusSeeOther))
	// Without a token there is nothing to log into or out of.
	s.mux.Handle("GET /ui/login", http.RedirectHandler("/ui/", http.StatusSeeOther))
	s.mux.Handle("GET /ui/logout", http.RedirectHandler("/ui/", http.StatusSeeOther))
	s.mux.HandleFunc("GET /ui/{$}", s.overviewPage)
	s.mux.HandleFunc("GET /ui/pools", s.poolsPage)
	s.mux.HandleFunc("GET /ui/leases", s.leasesPage)
	s.mux.HandleFunc("GET /ui/clients/{id}", s.clientPage)
	s.mux.HandleFunc("GET /ui/reservations", s.reservationsPage)
	s.route("/v1/events", "GET", s.eventStream)
	return nil
}

// page is what every page's template gets.
type page struct {
	Page, Title string
	// CSRF is the session's CSRF token; "" without a session.
	CSRF string
	// Body is the page's own data.
	Body any
}

// render writes the page name with status code.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name, title string, body any) {
	var buf bytes.Buffer
	p := page{Page: name, Title: title, CSRF: csrfOf(r), Body: body}
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("control: dashboard page", "page", name, "err", err)
		http.Error(w, "the page could not be drawn: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// renderLogin writes the login page, with msg in #message.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.render(w, r, code, "login", "Log in", struct{ Message string }{msg})
}

// overview is the data of the overview page.
type overview struct {
	Version, Uptime, ConfigHash, ConfigFile string
	// Store is "healthy", "not writable", "low on space", or "" when
	// the server has no durable store.
	Store    string
	StoreBad bool
	Rate     chart
	Outcomes []outcomeRow
	Leases   []outcomeRow
}

type outcomeRow struct {
	Name  string
	Count uint64
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Clock()
	o := overview{Version: s.opts.Version, Uptime: now.Sub(s.opts.Started).Truncate(time.Second).String()}
	if s.opts.Config != nil {
		cs := s.opts.Config()
		o.ConfigHash, o.ConfigFile = cs.SHA256, cs.File
	}
	if s.opts.Store != nil {
		st := s.opts.Store.StoreStats()
		switch {
		case !st.Writable:
			o.Store, o.StoreBad = "not writable: acknowledgements are stopped", true
		case st.LowOnSpace():
			o.Store, o.StoreBad = "low on space", true
		default:
			o.Store = "healthy"
		}
	}
	if s.opts.Outcomes != nil {
		for k, n := range s.opts.Outcomes() {
			o.Outcomes = append(o.Outcomes, outcomeRow{k, n})
		}
		sort.Slice(o.Outcomes, func(i, j int) bool {
			if o.Outcomes[i].Count != o.Outcomes[j].Count {
				return o.Outcomes[i].Count > o.Outcomes[j].Count
			}
			return o.Outcomes[i].Name < o.Outcomes[j].Name
		})
	}
	var byState [lease.NumStates]int
	for _, sub := range s.opts.Engine.PoolStats() {
		for _, st := range lease.LiveStates() {
			byState[st] += sub.Leases[st]
		}
	}
	for _, st := range lease.LiveStates() {
		o.Leases = append(o.Leases, outcomeRow{st.String(), uint64(byState[st])})
	}
	o.Rate = drawChart(requestRates(s.samples.history()), now, time.Hour, 720, 160, 0)
	s.render(w, r, http.StatusOK, "overview", "Overview", o)
}

// poolRow is one row of the pools table: a subnet or one of its pools.
type poolRow struct {
	Subnet, Name                       string
	Pool                               bool
	Used, Size                         int
	Bound, Offered, Declined, Reserved int
	Warn                               bool
	Spark                              chart
}

// Util shows the utilisation: "12 of 100 (12%)".
func (p poolRow) Util() string {
	return fmt.Sprintf("%d of %d (%d%%)", p.Used, p.Size, percent(p.Used, p.Size))
}

func percent(used, size int) int {
	if size == 0 {
		return 0
	}
	return used * 100 / size
}

// over reports whether used of size is above WarnUtilisation.
func over(used, size int) bool { return size > 0 && used*100 > WarnUtilisation*size }

func (s *Server) poolsPage(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Clock()
	smp := s.samples.history()
	var rows []poolRow
	for _, st := range s.opts.Engine.PoolStats() {
		sub := st.Prefix.String()
		row := poolRow{Subnet: sub, Name: sub, Used: st.Used, Size: st.Size, Warn: over(st.Used, st.Size),
			Bound: st.Leases[lease.Bound], Offered: st.Leases[lease.Offered], Declined: st.Leases[lease.Declined],
			Reserved: st.ReservedConfig + st.ReservedRuntime,
			Spark:    drawChart(utilisation(smp, st.Prefix), now, time.Hour, 120, 24, 100)}
		rows = append(rows, row)
		for _, p := range st.Pools {
			rows = append(rows, poolRow{Subnet: sub, Name: p.First.String() + "-" + p.Last.String(), Pool: true,
				Used: p.Used, Size: p.Size, Warn: over(p.Used, p.Size),
				Bound: p.Bound, Offered: p.Offered, Declined: p.Declined, Reserved: p.Reserved})
		}
	}
	s.render(w, r, http.StatusOK, "pools", "Pools", struct {
		Rows []poolRow
		Warn int
	}{rows, WarnUtilisation})
}

// reservationsPage lists the reservations, the run-time ones with a
// button to remove them.
func (s *Server) reservationsPage(w http.ResponseWriter, r *http.Request) {
	var rows []Reservation
	for _, v := range s.opts.Engine.Reservations() {
		rows = append(rows, reservationOf(v))
	}
	slices.SortFunc(rows, func(a, b Reservation) int { return a.Address.Compare(b.Address) })
	s.render(w, r, http.StatusOK, "reservations", "Reservations", struct {
		Rows    []Reservation
		Runtime string
	}{rows, SourceRuntime})
}

// clientView is the data of a client page.
type clientView struct {
	Query   string
	Leases  []Lease
	Clients []WhyClient
	// Diagnosis is the first client's; Known is false when the server
	// knows nothing of the client.
	Diagnosis Diagnosis
	Known     bool
	// NoHistory is set when the server keeps no history.
	NoHistory bool
}

func (s *Server) clientPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	v := clientView{Query: id}
	book := s.opts.History
	if book == nil {
		v.NoHistory = true
		book = history.New(history.Options{Clients: 16, PerClient: 1})
	}
	found, ok := s.findClients(book, id)
	if !ok {
		s.render(w, r, http.StatusBadRequest, "client", "Client "+id, v)
		return
	}
	now := s.opts.Clock()
	st := history.Cached(s.opts.Engine)
	for i := range found {
		wc := s.whyClient(&found[i], st, now)
		v.Clients = append(v.Clients, wc)
		if wc.Lease != nil && !slices.ContainsFunc(v.Leases, func(l Lease) bool { return l.Address == wc.Lease.Address }) {
			v.Leases = append(v.Leases, *wc.Lease)
		}
	}
	if a, err := netip.ParseAddr(id); err == nil && a.Is4() {
		if lv, ok := s.opts.Engine.LeaseByAddr(a); ok && !slices.ContainsFunc(v.Leases, func(l Lease) bool { return l.Address == a }) {
			v.Leases = append(v.Leases, leaseOf(lv))
		}
	}
	code := http.StatusOK
	if len(v.Clients) > 0 {
		v.Known, v.Diagnosis = true, v.Clients[0].Diagnosis
	} else if len(v.Leases) == 0 {
		code = http.StatusNotFound
	}
	s.render(w, r, code, "client", "Client "+id, v)
}
