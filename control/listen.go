package control

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrSocketInUse is returned, wrapped, by ListenUnix when another process
// answers on the socket. The error reads "control socket PATH is in use
// by a running server".
var ErrSocketInUse = errors.New("in use by a running server")

// ErrNeedToken is returned, wrapped, by ListenTCP for an address that is
// not loopback when there is no token.
var ErrNeedToken = errors.New("a token is required to serve the control API on an address that is not loopback")

// UnixListener is a listener on the control API's Unix socket, as
// ListenUnix opens it. Closing it removes the socket file, unless another
// socket has replaced it since.
type UnixListener struct {
	*net.UnixListener
	path   string
	file   os.FileInfo // the socket file, to know it is still ours
	unlink atomic.Bool
}

// Addr returns the address of the socket: its path.
func (l *UnixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

// SetUnlinkOnClose sets whether Close removes the socket file (it does
// by default).
func (l *UnixListener) SetUnlinkOnClose(unlink bool) { l.unlink.Store(unlink) }

// Close stops listening and removes the socket file, if it is still the
// one ListenUnix made.
func (l *UnixListener) Close() error {
	err := l.UnixListener.Close()
	if l.unlink.Swap(false) {
		if fi, serr := os.Lstat(l.path); serr == nil && os.SameFile(fi, l.file) {
			os.Remove(l.path)
		}
	}
	return err
}

// maxSocketPath is the longest path a Unix socket may be bound to on
// Linux (sun_path holds 108 bytes, with a terminating NUL).
const maxSocketPath = 107

// ListenUnix listens on a Unix socket at path, of mode 0600 whatever the
// umask, creating its directory (mode 0750) if needed. A socket file left
// by a server that died is replaced; one that another process still
// answers on is not (the error wraps ErrSocketInUse). Closing the
// listener removes the file.
//
// The socket is never reachable by others, not even for an instant: it
// is bound inside a private directory (mode 0700) made beside path, its
// mode set to 0600 there, and only then renamed to path, atomically.
// (Binding at path and then changing its mode leaves a moment in which
// anyone can connect; a restrictive umask around the bind would do, but
// the umask belongs to the whole process, and other goroutines creating
// files or directories at that moment would get it too.)
func ListenUnix(path string) (*UnixListener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("control: %s exists and is not a socket", path)
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s is %w", path, ErrSocketInUse)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("control: %s: %w", path, err)
		}
		// Nobody listens: a server that died left it. The rename below
		// replaces it.
	}
	private, err := os.MkdirTemp(dir, ".leased-")
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	defer os.RemoveAll(private)
	tmp := filepath.Join(private, "s")
	if len(tmp) > maxSocketPath || len(path) > maxSocketPath {
		return nil, fmt.Errorf("control: the socket path %s is too long: it is bound first as %s, and a Unix socket's path has at most %d bytes; choose a shorter one", path, tmp, maxSocketPath)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	// The file is renamed away: the listener must not try to remove tmp.
	ln.SetUnlinkOnClose(false)
	fail := func(err error) (*UnixListener, error) {
		ln.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	l := &UnixListener{UnixListener: ln, path: path, file: fi}
	l.unlink.Store(true)
	return l, nil
}

// ListenTCP listens on the TCP address addr (host:port). Without a token
// (token empty) it refuses any address that is not loopback: the API can
// release leases and change reservations, so it is not put on a network
// unprotected.
func ListenTCP(addr, token string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("control: TCP address %q: %w", addr, err)
	}
	if token == "" && !isLoopback(host) {
		return nil, fmt.Errorf("control: refusing to listen on %s: %w (anyone who reaches it could control the server); give a token file, or listen on 127.0.0.1", addr, ErrNeedToken)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	return ln, nil
}

// isLoopback reports whether host names only loopback addresses:
// "localhost" or a loopback IP address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// MinTokenLen is the shortest token ReadToken accepts.
const MinTokenLen = 16

// ReadToken reads the bearer token from the file at path: its content,
// without surrounding white space, at least MinTokenLen characters.
func ReadToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("control: token: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4097))
	if err != nil {
		return "", fmt.Errorf("control: token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	switch {
	case len(b) > 4096:
		return "", fmt.Errorf("control: token file %s is larger than 4 KiB", path)
	case strings.ContainsAny(tok, " \t\r\n"):
		return "", fmt.Errorf("control: token file %s: the token is one line without spaces", path)
	case len(tok) < MinTokenLen:
		return "", fmt.Errorf("control: token file %s: the token has %d characters; use at least %d (e.g. head -c 32 /dev/urandom | base64)", path, len(tok), MinTokenLen)
	}
	return tok, nil
}

// RequireToken wraps h so that only requests with the header
// "Authorization: Bearer TOKEN" reach it; the others get 401. The
// dashboard's login wants (*Server).TCPHandler instead.
func RequireToken(token string, h http.Handler) http.Handler {
	a := &tokenAuth{want: sha256.Sum256([]byte(token))}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.bearer(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="leased"`)
			// A connection that has not presented the token is not
			// kept for another try.
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		authenticated(r.Context())
		h.ServeHTTP(w, r)
	})
}

// Timeouts of the control API's connections: a request's header must
// arrive within ReadHeaderTimeout, and an idle connection is closed
// after IdleTimeout. A connection that has not presented a valid token
// on a listener with a cap on such connections (see Limit) is closed
// after ConnLimits.UnauthenticatedTimeout, whatever it does.
const (
	ReadHeaderTimeout = 5 * time.Second
	IdleTimeout       = 30 * time.Second
)

// Serve serves h on ln until ctx ends, then lets the requests in hand
// finish (for up to 5 s) and closes ln. It returns nil after such a stop,
// or the error that stopped it. When ln is a LimitedListener, RequireToken
// tells it which connections presented a valid token.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext:       withConn,
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
	})
	err := srv.Serve(ln)
	if stop() {
		// Serve failed on its own: ctx has not ended.
		return err
	}
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
