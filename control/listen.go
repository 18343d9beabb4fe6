package control

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
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
	"syscall"
	"time"
)

// ErrSocketInUse is returned, wrapped, by ListenUnix when another process
// answers on the socket.
var ErrSocketInUse = errors.New("the control socket is in use by another process")

// ErrNeedToken is returned, wrapped, by ListenTCP for an address that is
// not loopback when there is no token.
var ErrNeedToken = errors.New("a token is required to serve the control API on an address that is not loopback")

// ListenUnix listens on a Unix socket at path, of mode 0600, creating its
// directory (mode 0750) if needed. A socket file left by a server that
// died is replaced; one that another process still answers on is not
// (the error wraps ErrSocketInUse). Closing the listener removes the
// file.
func ListenUnix(path string) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("control: %s exists and is not a socket", path)
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, fmt.Errorf("control: %s: %w", path, ErrSocketInUse)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("control: %s: %w", path, err)
		}
		// Nobody listens: a server that died left it.
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control: removing the stale socket: %w", err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	return ln, nil
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
// "Authorization: Bearer TOKEN" reach it; the others get 401.
func RequireToken(token string, h http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		// The scheme's name is case-insensitive (RFC 9110 §11.1).
		ok := len(auth) > len("Bearer ") && strings.EqualFold(auth[:len("Bearer ")], "Bearer ")
		got := ""
		if ok {
			got = auth[len("Bearer "):]
		}
		// Compare hashes, so that the time taken says nothing of the
		// token, not even its length.
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="leased"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Serve serves h on ln until ctx ends, then lets the requests in hand
// finish (for up to 5 s) and closes ln. It returns nil after such a stop,
// or the error that stopped it.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
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
