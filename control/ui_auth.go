package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"leased/ratelimit"
)

// This file is the authentication of the control listener on TCP: the
// bearer token, as RequireToken checks it, or a session cookie that the
// dashboard's login page gives for the token.

// Sessions of the dashboard.
const (
	// SessionCookie is the name of the session cookie.
	SessionCookie = "leased_session"
	// SessionLifetime is how long a session lasts after its login.
	SessionLifetime = 12 * time.Hour
	// MaxSessions bounds the sessions kept; a login beyond it ends the
	// session closest to its end.
	MaxSessions = 256
	// CSRFHeader carries a session's CSRF token on the requests that
	// change something; the pages hold it in <meta name="csrf-token">.
	CSRFHeader = "X-CSRF-Token"
)

// loginLimit is how many logins an address may try: a burst of 5, then
// one every 12 seconds.
var loginLimit = ratelimit.Limit{Rate: 1.0 / 12, Burst: 5}

// session is one logged-in browser.
type session struct {
	csrf    string
	expires time.Time
}

// sessions is the bounded table of the dashboard's sessions.
type sessions struct {
	mu    sync.Mutex
	byID  map[string]session
	clock func() time.Time
}

func newSessions(clock func() time.Time) *sessions {
	return &sessions{byID: map[string]session{}, clock: clock}
}

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session and returns its id and CSRF token.
func (t *sessions) create() (id string, s session) {
	now := t.clock()
	id, s = randomToken(), session{csrf: randomToken(), expires: now.Add(SessionLifetime)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.byID) >= MaxSessions {
		oldest := ""
		for k, v := range t.byID {
			if !now.Before(v.expires) {
				delete(t.byID, k)
				continue
			}
			if oldest == "" || v.expires.Before(t.byID[oldest].expires) {
				oldest = k
			}
		}
		if len(t.byID) >= MaxSessions {
			delete(t.byID, oldest)
		}
	}
	t.byID[id] = s
	return id, s
}

// get returns the live session id.
func (t *sessions) get(id string) (session, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.byID[id]
	if ok && !t.clock().Before(s.expires) {
		delete(t.byID, id)
		return session{}, false
	}
	return s, ok
}

// end ends session id.
func (t *sessions) end(id string) {
	t.mu.Lock()
	delete(t.byID, id)
	t.mu.Unlock()
}

// len returns the number of sessions kept.
func (t *sessions) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// csrfKey is the context key of a request's CSRF token, set for requests
// authenticated by a session.
type csrfKey struct{}

// csrfOf returns the CSRF token of r's session, "" when r did not come
// with one.
func csrfOf(r *http.Request) string {
	s, _ := r.Context().Value(csrfKey{}).(string)
	return s
}

// tokenAuth checks the token of the TCP listener.
type tokenAuth struct {
	want [32]byte
}

// check compares got with the token in constant time: hashes are
// compared, so that the time taken says nothing of the token, not even
// its length.
func (a *tokenAuth) check(got string) bool {
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], a.want[:]) == 1
}

// bearer reports whether r carries "Authorization: Bearer TOKEN" with
// the token.
func (a *tokenAuth) bearer(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	// The scheme's name is case-insensitive (RFC 9110 §11.1).
	if len(auth) <= len("Bearer ") || !strings.EqualFold(auth[:len("Bearer ")], "Bearer ") {
		return false
	}
	return a.check(auth[len("Bearer "):])
}

// TCPHandler returns s's handler for a TCP listener guarded by token: a
// request passes with the bearer token (as RequireToken), or with the
// session cookie of the dashboard's login page, /ui/login. A request with
// a session that changes something (any method but GET and HEAD) must
// also carry the session's CSRF token in the X-CSRF-Token header. Without
// either, the dashboard's pages redirect to the login page and the rest
// answers 401. An empty token guards nothing: the handler is s.
func (s *Server) TCPHandler(token string) http.Handler {
	if token == "" {
		return s
	}
	a := &tokenAuth{want: sha256.Sum256([]byte(token))}
	limit := ratelimit.New(loginLimit, 1024)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ui/login":
			s.login(w, r, a, limit)
			return
		case "/ui/logout":
			s.logout(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/ui/static/") {
			s.ServeHTTP(w, r) // the style sheet and script, for the login page
			return
		}
		if a.bearer(r) {
			authenticated(r.Context())
			s.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(SessionCookie); err == nil {
			if ses, ok := s.sessions.get(c.Value); ok {
				if r.Method != http.MethodGet && r.Method != http.MethodHead &&
					subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(ses.csrf)) != 1 {
					writeError(w, http.StatusForbidden, "missing or wrong "+CSRFHeader+" header: reload the page")
					return
				}
				authenticated(r.Context())
				s.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey{}, ses.csrf)))
				return
			}
		}
		if r.Method == http.MethodGet && (r.URL.Path == "/" || r.URL.Path == "/ui" || strings.HasPrefix(r.URL.Path, "/ui/")) {
			http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="leased"`)
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
	})
}

// login serves the login page and checks the token it posts.
func (s *Server) login(w http.ResponseWriter, r *http.Request, a *tokenAuth, limit *ratelimit.Table) {
	w.Header().Set("Cache-Control", "no-store")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.renderLogin(w, r, http.StatusOK, "")
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, "/ui/login takes GET or POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	tok := ""
	if err := r.ParseForm(); err == nil {
		tok = r.PostForm.Get("token")
	}
	host := remoteHost(r)
	// Every attempt takes a token of its address's bucket, before the
	// token is even looked at: a guesser learns nothing past the limit.
	if !limit.Allow(limit.Key(host.AsSlice(), nil), s.opts.Clock()) {
		s.renderLogin(w, r, http.StatusTooManyRequests, "Too many attempts from your address: wait a minute and try again.")
		return
	}
	if !a.check(tok) {
		s.log.Warn("control: dashboard login refused", "remote", host)
		s.renderLogin(w, r, http.StatusUnauthorized, "Wrong token.")
		return
	}
	id, _ := s.sessions.create()
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: int(SessionLifetime / time.Second),
	})
	authenticated(r.Context())
	s.log.Info("control: dashboard login", "remote", remoteHost(r))
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// logout ends the session of r, if any, and goes back to the login page.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		s.sessions.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: -1})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// remoteHost returns the address r came from, the zero Addr when unknown.
func remoteHost(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}
