package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"leased/config"
	"leased/ddns"
	"leased/dhcpv4"
	"leased/escape"
	"leased/events"
	"leased/history"
	"leased/lease"
	"leased/reservations"
	"leased/server"
)

// Engine is what the API needs of the server engine; *server.Engine and
// *server.Reloadable are ones.
type Engine interface {
	Leases(first, last netip.Addr, fn func(server.LeaseView) bool)
	LeaseByAddr(a netip.Addr) (server.LeaseView, bool)
	LeaseOfClient(id []byte) (server.LeaseView, bool)
	LeaseOfHardwareAddr(hw []byte) (server.LeaseView, bool)
	ForceRelease(ctx context.Context, a netip.Addr) (server.LeaseView, error)
	PoolStats() []server.SubnetStats
	Reservations() []server.ReservationView
	RuntimeReservations() []config.Reservation
	AddReservation(r config.Reservation) error
	RemoveReservation(a netip.Addr) (server.ReservationView, error)
}

// StoreInfo is what the API shows of the lease store, whatever its
// backend; *journal.Store is one.
type StoreInfo interface {
	StoreStats() lease.StoreStats
	Dir() string
}

// ReservationSaver keeps the run-time reservations across restarts: the
// API calls Save with all of them after every change, and undoes the
// change when Save fails. reservations.File is one.
type ReservationSaver interface {
	Save(rs []config.Reservation) error
}

// ErrNoReload is returned, wrapped, by an Options.Reload that has nothing
// to reload (a server configured by flags alone); the API answers 409.
var ErrNoReload = errors.New("no configuration file to reload (the server was started with flags only)")

// Options configure a Server. Engine is required; the other fields may be
// left zero.
type Options struct {
	// Engine is the engine the API shows and acts on.
	Engine Engine
	// Version is the server's version, for status.
	Version string
	// Started is when the server started; zero means when NewServer ran.
	Started time.Time
	// Clock is the time source for uptime; nil means time.Now.
	Clock func() time.Time
	// Config returns the configuration in effect, for status.
	Config func() ConfigStatus
	// Reload reloads the configuration file, as SIGHUP does, and returns
	// the new configuration's status, or why it refused: an error
	// wrapping ErrNoReload, or the validation error. Nil: the API answers
	// every reload with ErrNoReload.
	Reload func() (ConfigStatus, error)
	// Store is the lease store, for status; nil leaves the store out.
	Store StoreInfo
	// Outcomes returns the engine's decisions counted by reason
	// (netio.Stats.Outcomes), for status; nil leaves them out.
	Outcomes func() map[string]uint64
	// Hooks returns the counters of the lease event hooks, for status;
	// nil leaves them out.
	Hooks func() events.Stats
	// DDNS returns the counters of the DNS updater, for status; nil
	// leaves them out.
	DDNS func() ddns.Stats
	// Reservations keeps the run-time reservations across restarts; nil
	// means they are not kept.
	Reservations ReservationSaver
	// Logger receives one line per action (release, reservation,
	// reload); nil discards.
	Logger *slog.Logger
	// Timeout bounds the lease store commit of a release; 0 means 10 s.
	Timeout time.Duration
	// History is the clients' recent decisions, for GET
	// /v1/clients/{id}/why; nil: the endpoint answers 404.
	History *history.Book
}

// Server is the control API. Its handler is safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
	// allow holds the methods of each pattern, for the Allow header of a
	// 405. It is only written by NewServer.
	allow map[string][]string
	// resMu makes each change of the run-time reservations and its
	// saving to the file one step.
	resMu sync.Mutex
	// The dashboard: its pages, sessions, samples for the charts and
	// the counters of the live event streams.
	pages    map[string]*template.Template
	sessions *sessions
	samples  sampler
	events   eventCounters
	// lastMatched is the number of leases the last sorted query of the
	// leases page matched, to size the next one's rows.
	lastMatched atomic.Int64
	// testTicks, when set, replaces the ticker of the event streams.
	testTicks chan time.Time
}

// NewServer returns the API for opts.
func NewServer(opts Options) (*Server, error) {
	if opts.Engine == nil {
		return nil, errors.New("control: NewServer needs an engine")
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Started.IsZero() {
		opts.Started = opts.Clock()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux(), allow: map[string][]string{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.route("/v1/status", "GET", s.status)
	s.route("/v1/leases", "GET", s.leases)
	s.route("/v1/leases/{addr}", "GET", s.lease)
	s.route("/v1/leases/{addr}/release", "POST", s.release)
	s.route("/v1/clients/{id}/lease", "GET", s.clientLease)
	s.route("/v1/clients/{id}/why", "GET", s.why)
	s.route("/v1/reservations", "GET", s.reservations)
	s.route("/v1/reservations", "POST", s.addReservation)
	s.route("/v1/reservations/{addr}", "DELETE", s.removeReservation)
	s.route("/v1/pools", "GET", s.pools)
	s.route("/v1/reload", "POST", s.reload)
	s.sessions = newSessions(opts.Clock)
	if err := s.routeUI(); err != nil {
		return nil, err
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s (see GET /v1/status, /v1/leases, /v1/reservations, /v1/pools, and the dashboard at /ui/)", r.URL.Path))
	})
	return s, nil
}

// route registers h for method on pattern, and an answer of 405 in JSON
// for the other methods.
func (s *Server) route(pattern, method string, h http.HandlerFunc) {
	s.mux.HandleFunc(method+" "+pattern, h)
	if _, seen := s.allow[pattern]; !seen {
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(s.allow[pattern], ", "))
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s does not take %s", r.URL.Path, r.Method))
		})
	}
	s.allow[pattern] = append(s.allow[pattern], method)
}

// ServeHTTP serves the API without authentication: for the Unix socket,
// whose file mode decides who may connect. Use RequireToken for TCP.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

// writeJSON writes v with status code. Control characters are JSON
// escapes, DEL and C1 included, so that the JSON is safe on a terminal.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(escape.JSONWriter(w))
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to do
}

// writeError writes {"error": msg} with status code.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// statusOf maps the engine's errors to HTTP statuses.
func statusOf(err error) int {
	switch {
	case errors.Is(err, server.ErrInvalidReservation):
		return http.StatusBadRequest
	case errors.Is(err, server.ErrNoLease), errors.Is(err, server.ErrNoReservation), errors.Is(err, server.ErrNoSubnet):
		return http.StatusNotFound
	case errors.Is(err, server.ErrAddressInUse), errors.Is(err, server.ErrAlreadyReserved), errors.Is(err, server.ErrConfigReservation):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// pathAddr parses the {addr} path value, or writes a 400 and reports
// false.
func pathAddr(w http.ResponseWriter, r *http.Request) (netip.Addr, bool) {
	s := r.PathValue("addr")
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is not an IPv4 address", s))
		return netip.Addr{}, false
	}
	return a, true
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Clock()
	st := Status{
		Version:       s.opts.Version,
		Started:       s.opts.Started.UTC(),
		UptimeSeconds: now.Sub(s.opts.Started).Seconds(),
		Leases:        map[string]int{},
		Reservations:  map[string]int{SourceConfig: 0, SourceRuntime: 0},
	}
	if s.opts.Config != nil {
		st.Config = s.opts.Config()
		st.Config.Loaded = utc(st.Config.Loaded)
	}
	if s.opts.Store != nil {
		js := s.opts.Store.StoreStats()
		st.Store = &StoreStatus{
			Dir: s.opts.Store.Dir(), Healthy: js.Writable, LogBytes: js.LogBytes, LiveRecords: js.LiveRecords,
			Commits: js.Commits, FailedCommits: js.FailedCommits, WriteErrors: js.WriteErrors,
			Compactions: js.Compactions, CompactionErrors: js.CompactionErrors,
			FreeBytes: js.FreeBytes, SnapshotBytes: js.SnapshotBytes, LowSpace: js.LowOnSpace(),
			Conflicts: js.Conflicts, Refused: js.Refused, TimedOut: js.TimedOut, Reconnects: js.Reconnects,
		}
	}
	if s.opts.Outcomes != nil {
		st.Outcomes = s.opts.Outcomes()
	}
	if s.opts.Hooks != nil {
		st.Hooks = hookStatus(s.opts.Hooks())
	}
	if s.opts.History != nil {
		ev := s.EventStats()
		st.Events = &ev
	}
	if s.opts.DDNS != nil {
		st.DDNS = ddnsStatus(s.opts.DDNS())
	}
	for _, ls := range lease.LiveStates() {
		st.Leases[ls.String()] = 0
	}
	for _, sub := range s.opts.Engine.PoolStats() {
		for _, ls := range lease.LiveStates() {
			st.Leases[ls.String()] += sub.Leases[ls]
		}
		st.Reservations[SourceConfig] += sub.ReservedConfig
		st.Reservations[SourceRuntime] += sub.ReservedRuntime
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) leases(w http.ResponseWriter, r *http.Request) {
	f, err := parseLeaseQuery(r.URL.Query())
	page := LeasePage{Leases: []Lease{}}
	if errors.Is(err, errEmpty) {
		writeJSON(w, http.StatusOK, page)
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad filter: "+err.Error())
		return
	}
	more := false
	s.opts.Engine.Leases(f.first, f.last, func(v server.LeaseView) bool {
		if !f.match(&v) {
			return true
		}
		if len(page.Leases) == f.limit {
			more = true
			return false
		}
		page.Leases = append(page.Leases, leaseOf(v))
		return true
	})
	if more {
		page.Next = page.Leases[len(page.Leases)-1].Address
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) lease(w http.ResponseWriter, r *http.Request) {
	a, ok := pathAddr(w, r)
	if !ok {
		return
	}
	v, ok := s.opts.Engine.LeaseByAddr(a)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no lease of %v", a))
		return
	}
	writeJSON(w, http.StatusOK, leaseOf(v))
}

func (s *Server) clientLease(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	b, err := reservations.ParseHex(id)
	if err != nil || len(b) > 255 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a client identifier or hardware address in hex, such as 02:00:00:00:00:01", id))
		return
	}
	v, ok := s.opts.Engine.LeaseOfClient(b)
	if !ok && len(b) <= 16 {
		v, ok = s.opts.Engine.LeaseOfHardwareAddr(b)
	}
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no lease of client %s", dhcpv4.FormatHex(b)))
		return
	}
	writeJSON(w, http.StatusOK, leaseOf(v))
}

func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	a, ok := pathAddr(w, r)
	if !ok {
		return
	}
	// The commit must not be cut short by a client that goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.opts.Timeout)
	defer cancel()
	v, err := s.opts.Engine.ForceRelease(ctx, a)
	if err != nil {
		code := statusOf(err)
		if code == http.StatusInternalServerError {
			s.log.Error("control: release", "addr", a, "err", err)
		}
		writeError(w, code, err.Error())
		return
	}
	s.log.Info("control: lease released", "addr", a, "client", v.HW.String())
	writeJSON(w, http.StatusOK, leaseOf(v))
}

func (s *Server) reservations(w http.ResponseWriter, r *http.Request) {
	source := r.URL.Query().Get("source")
	for k := range r.URL.Query() {
		if k != "source" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("bad filter: unknown parameter %q (want source)", k))
			return
		}
	}
	if source != "" && source != SourceConfig && source != SourceRuntime {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("bad filter: source=%q: want config or runtime", source))
		return
	}
	out := struct {
		Reservations []Reservation `json:"reservations"`
	}{Reservations: []Reservation{}}
	for _, v := range s.opts.Engine.Reservations() {
		if res := reservationOf(v); source == "" || res.Source == source {
			out.Reservations = append(out.Reservations, res)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// maxBody bounds request bodies.
const maxBody = 64 << 10

func (s *Server) addReservation(w http.ResponseWriter, r *http.Request) {
	var nr NewReservation
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&nr); err != nil {
		writeError(w, http.StatusBadRequest, "bad reservation: "+err.Error())
		return
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		writeError(w, http.StatusBadRequest, "bad reservation: more than one JSON value in the body")
		return
	}
	res, err := nr.Reservation()
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad reservation: "+err.Error())
		return
	}

	s.resMu.Lock()
	defer s.resMu.Unlock()
	if err := s.opts.Engine.AddReservation(res); err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	if err := s.save(); err != nil {
		if _, rerr := s.opts.Engine.RemoveReservation(res.Addr); rerr != nil {
			err = errors.Join(err, rerr)
		}
		s.log.Error("control: reservation not added", "addr", res.Addr, "err", err)
		writeError(w, http.StatusInternalServerError, "reservation not added: "+err.Error())
		return
	}
	var added Reservation
	for _, v := range s.opts.Engine.Reservations() {
		if v.Addr == res.Addr {
			added = reservationOf(v)
		}
	}
	s.log.Info("control: reservation added", "addr", res.Addr, "hw", added.HWAddr, "client_id", added.ClientID, "classes", added.Classes)
	writeJSON(w, http.StatusCreated, added)
}

func (s *Server) removeReservation(w http.ResponseWriter, r *http.Request) {
	a, ok := pathAddr(w, r)
	if !ok {
		return
	}
	s.resMu.Lock()
	defer s.resMu.Unlock()
	v, err := s.opts.Engine.RemoveReservation(a)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	if err := s.save(); err != nil {
		if aerr := s.opts.Engine.AddReservation(v.Config()); aerr != nil {
			err = errors.Join(err, fmt.Errorf("and it could not be put back: %w", aerr))
		}
		s.log.Error("control: reservation not removed", "addr", a, "err", err)
		writeError(w, http.StatusInternalServerError, "reservation not removed: "+err.Error())
		return
	}
	s.log.Info("control: reservation removed", "addr", a)
	writeJSON(w, http.StatusOK, reservationOf(v))
}

// save keeps the run-time reservations, if they are kept.
func (s *Server) save() error {
	if s.opts.Reservations == nil {
		return nil
	}
	return s.opts.Reservations.Save(s.opts.Engine.RuntimeReservations())
}

func (s *Server) pools(w http.ResponseWriter, r *http.Request) {
	out := struct {
		Subnets []SubnetPools `json:"subnets"`
	}{Subnets: []SubnetPools{}}
	for _, st := range s.opts.Engine.PoolStats() {
		out.Subnets = append(out.Subnets, subnetPoolsOf(st))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	if s.opts.Reload == nil {
		writeError(w, http.StatusConflict, "reload refused: "+ErrNoReload.Error())
		return
	}
	cs, err := s.opts.Reload()
	switch {
	case errors.Is(err, ErrNoReload):
		writeError(w, http.StatusConflict, "reload refused: "+err.Error())
	case err != nil:
		writeError(w, http.StatusUnprocessableEntity, "reload refused; the running configuration stays: "+err.Error())
	default:
		cs.Loaded = utc(cs.Loaded)
		writeJSON(w, http.StatusOK, ReloadResult{Reloaded: true, Config: cs})
	}
}
