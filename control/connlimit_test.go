package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestDefaultLimits(t *testing.T) {
	for _, tc := range []struct {
		nofile uint64
		want   ListenerLimits
	}{
		{1 << 20, ListenerLimits{
			Unix: ConnLimits{Total: 64}, Metrics: ConnLimits{Total: 64, PerSource: 64},
			TCP: ConnLimits{Total: 1024, PerSource: 64, Unauthenticated: 512},
		}},
		{4096, ListenerLimits{
			Unix: ConnLimits{Total: 64}, Metrics: ConnLimits{Total: 64, PerSource: 64},
			TCP: ConnLimits{Total: 1024, PerSource: 64, Unauthenticated: 512},
		}},
		{384, ListenerLimits{ // 256 kept: 128 for the control plane
			Unix: ConnLimits{Total: 16}, Metrics: ConnLimits{Total: 16, PerSource: 16},
			TCP: ConnLimits{Total: 96, PerSource: 24, Unauthenticated: 48},
		}},
		{100, ListenerLimits{ // below the margin: the least
			Unix: ConnLimits{Total: 4}, Metrics: ConnLimits{Total: 4, PerSource: 4},
			TCP: ConnLimits{Total: 4, PerSource: 4, Unauthenticated: 4},
		}},
	} {
		if got := DefaultLimits(tc.nofile); got != tc.want {
			t.Errorf("DefaultLimits(%d) = %+v, want %+v", tc.nofile, got, tc.want)
		}
		l := DefaultLimits(tc.nofile)
		if used := uint64(l.Unix.Total + l.Metrics.Total + l.TCP.Total); tc.nofile > 512 && used+DescriptorMargin(tc.nofile) > tc.nofile {
			t.Errorf("DefaultLimits(%d) uses %d descriptors, leaving less than the margin %d", tc.nofile, used, DescriptorMargin(tc.nofile))
		}
	}
	for nofile, want := range map[uint64]uint64{0: 256, 1024: 256, 4096: 1024, 65536: 16384} {
		if got := DescriptorMargin(nofile); got != want {
			t.Errorf("DescriptorMargin(%d) = %d, want %d", nofile, got, want)
		}
	}
}

// dialHeld opens a connection to ln and reports whether the server keeps
// it open for a while (false: it closed it at once).
func dialHeld(t *testing.T, addr string) (net.Conn, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	return c, errors.As(err, &ne) && ne.Timeout()
}

// serveLimited serves an API that answers 200 behind the token on a
// LimitedListener with lim, on loopback.
func serveLimited(t *testing.T, lim ConnLimits) *LimitedListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := Limit(ln, lim, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Serve(ctx, ll, RequireToken("0123456789abcdef", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		})), nil)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ll
}

func TestLimitCaps(t *testing.T) {
	t.Run("total and per source", func(t *testing.T) {
		ll := serveLimited(t, ConnLimits{Total: 3, PerSource: 2})
		addr := ll.Addr().String()
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for i := range 2 {
			c, ok := dialHeld(t, addr)
			held = append(held, c)
			if !ok {
				t.Fatalf("connection %d within the caps was closed", i)
			}
		}
		c, ok := dialHeld(t, addr)
		held = append(held, c)
		if ok {
			t.Fatal("a third connection from one source was kept")
		}
		if st := ll.Stats(); st.Refused[RefusedPerSource] != 1 || st.Open != 2 {
			t.Errorf("stats %+v, want 2 open and 1 refused per source", st)
		}
		// A place given back is taken again.
		held[0].Close()
		waitOpen(t, ll, 1)
		c, ok = dialHeld(t, addr)
		held = append(held, c)
		if !ok {
			t.Fatal("a connection after one was closed was refused")
		}
	})
	t.Run("total", func(t *testing.T) {
		ll := serveLimited(t, ConnLimits{Total: 1})
		c1, ok1 := dialHeld(t, ll.Addr().String())
		defer c1.Close()
		c2, ok2 := dialHeld(t, ll.Addr().String())
		defer c2.Close()
		if !ok1 || ok2 || ll.Stats().Refused[RefusedTotal] != 1 {
			t.Errorf("kept %v %v, stats %+v; want the first kept and the second refused", ok1, ok2, ll.Stats())
		}
	})
	t.Run("unauthenticated", func(t *testing.T) {
		ll := serveLimited(t, ConnLimits{Total: 10, Unauthenticated: 2, UnauthenticatedTimeout: time.Second})
		addr := ll.Addr().String()
		idle1, ok1 := dialHeld(t, addr)
		defer idle1.Close()
		idle2, ok2 := dialHeld(t, addr)
		defer idle2.Close()
		third, ok3 := dialHeld(t, addr)
		defer third.Close()
		if !ok1 || !ok2 || ok3 {
			t.Fatalf("kept %v %v %v, want the first two kept and the third closed", ok1, ok2, ok3)
		}
		if st := ll.Stats(); st.Refused[RefusedUnauthenticated] != 1 {
			t.Errorf("stats %+v, want 1 refused as unauthenticated", st)
		}
		// The idle ones are closed after the timeout.
		waitOpen(t, ll, 0)

		// A connection with the token is no longer counted as
		// unauthenticated, and outlives the timeout.
		good, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer good.Close()
		br := bufio.NewReader(good)
		get := func(tok string) (int, error) {
			fmt.Fprintf(good, "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", tok)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				return 0, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode, nil
		}
		if code, err := get("0123456789abcdef"); code != 200 || err != nil {
			t.Fatalf("with the token: %d %v", code, err)
		}
		time.Sleep(1200 * time.Millisecond)
		if code, err := get("0123456789abcdef"); code != 200 || err != nil {
			t.Fatalf("with the token, after the unauthenticated timeout: %d %v", code, err)
		}
		// A wrong token gets 401 and the connection closed.
		bad, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Close()
		fmt.Fprintf(bad, "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-token-000000\r\n\r\n")
		bad.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(bad), nil)
		if err != nil || resp.StatusCode != 401 || !resp.Close {
			t.Fatalf("wrong token: %v %v, want 401 and Connection: close", resp, err)
		}
	})
}

// waitOpen waits until ll has n connections open.
func waitOpen(t *testing.T, ll *LimitedListener, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for ll.Stats().Open != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open, want %d", ll.Stats().Open, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// failingListener fails its first accepts with EMFILE.
type failingListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// An accept that finds no descriptor is retried after a pause, not
// returned (http.Server would log each) and not spun on.
func TestLimitAcceptBacksOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fl := &failingListener{Listener: ln}
	fl.fails.Store(4)
	ll := Limit(fl, ConnLimits{}, nil)
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			defer c.Close()
			time.Sleep(time.Second)
		}
	}()
	start := time.Now()
	c, err := ll.Accept()
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	c.Close()
	// Pauses of 5, 10, 20 and 40 ms.
	if d := time.Since(start); d < 75*time.Millisecond {
		t.Errorf("Accept returned after %v: it did not pause", d)
	}
	if st := ll.Stats(); st.AcceptErrors != 4 {
		t.Errorf("accept errors %d, want 4", st.AcceptErrors)
	}
	ln.Close()
	if _, err := ll.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a closed listener: %v", err)
	}
}

func TestMetricsConnections(t *testing.T) {
	reg, err := NewRegistry(MetricsSources{Connections: func() map[string]ConnStats {
		return map[string]ConnStats{
			"tcp":  {Open: 3, Refused: map[string]uint64{RefusedPerSource: 7, RefusedUnauthenticated: 2}, AcceptErrors: 5},
			"unix": {Open: 1, Refused: map[string]uint64{}},
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := scrape(t, reg)
	for k, want := range map[string]float64{
		`leased_control_connections{listener="tcp"}`:                                        3,
		`leased_control_connections{listener="unix"}`:                                       1,
		`leased_control_connections_refused_total{listener="tcp",reason="per-source"}`:      7,
		`leased_control_connections_refused_total{listener="tcp",reason="unauthenticated"}`: 2,
		`leased_control_connections_refused_total{listener="tcp",reason="total"}`:           0,
		`leased_control_connections_refused_total{listener="unix",reason="total"}`:          0,
		`leased_control_accept_errors_total{listener="tcp"}`:                                5,
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", k, v, ok, want)
		}
	}
	reg, err = NewRegistry(MetricsSources{})
	if err != nil {
		t.Fatal(err)
	}
	for k := range scrape(t, reg) {
		if strings.HasPrefix(k, "leased_control_") {
			t.Errorf("%s without a source of connections", k)
		}
	}
}
