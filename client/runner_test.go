package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"leased/dhcpv4"
)

// fakeClock is a Clock that moves only when the test says so.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := c.now.Add(d)
	if !at.After(c.now) {
		ch <- c.now
	} else {
		c.waiters = append(c.waiters, fakeWaiter{at, ch})
	}
	return ch
}

// set moves the clock to t and fires the timers due.
func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// fakeLink is a Link whose traffic the test sees and makes.
type fakeLink struct {
	sent     chan Send
	incoming chan *dhcpv4.Packet
	recvErr  chan error
	conflict bool

	mu      sync.Mutex
	calls   []string
	confErr error
}

func newFakeLink() *fakeLink {
	return &fakeLink{sent: make(chan Send, 16), incoming: make(chan *dhcpv4.Packet), recvErr: make(chan error, 1)}
}

func (l *fakeLink) record(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
}

func (l *fakeLink) callList() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

func (l *fakeLink) Send(msg *dhcpv4.Packet, to netip.Addr) error {
	l.sent <- Send{Msg: msg, To: to}
	return nil
}

func (l *fakeLink) Receive(ctx context.Context, msg *dhcpv4.Packet) error {
	select {
	case p := <-l.incoming:
		msg.CopyFrom(p)
		return nil
	case err := <-l.recvErr:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *fakeLink) Probe(ctx context.Context, addr netip.Addr) (bool, error) {
	l.record("probe " + addr.String())
	return l.conflict, nil
}

func (l *fakeLink) Configure(ctx context.Context, lease, old *Lease) error {
	l.record("configure " + lease.Addr.String())
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.confErr
}

func (l *fakeLink) Deconfigure(ctx context.Context, lease *Lease) error {
	l.record("deconfigure " + lease.Addr.String())
	return nil
}

// next waits for the link's next sent message.
func (l *fakeLink) next(t *testing.T) Send {
	t.Helper()
	select {
	case s := <-l.sent:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("nothing sent")
		return Send{}
	}
}

type runnerFixture struct {
	r     *Runner
	link  *fakeLink
	clock *fakeClock
	hooks chan Hook
	file  string
}

func newRunnerFixture(t *testing.T, edit func(*Config)) *runnerFixture {
	t.Helper()
	cfg := Config{Interface: "eth0", HardwareAddr: testMAC, Rand: &fakeRand{}}
	if edit != nil {
		edit(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &runnerFixture{link: newFakeLink(), clock: &fakeClock{now: t0}, hooks: make(chan Hook, 16)}
	f.file = filepath.Join(t.TempDir(), "client-eth0.json")
	f.r = &Runner{
		Machine:   m,
		Link:      f.link,
		Clock:     f.clock,
		LeaseFile: f.file,
		Hook: func(ctx context.Context, h Hook) error {
			f.hooks <- h
			return nil
		},
	}
	return f
}

// run starts Run in the background and returns its result channel.
func (f *runnerFixture) run(ctx context.Context, until func(*Machine) bool) chan error {
	done := make(chan error, 1)
	go func() { done <- f.r.Run(ctx, until) }()
	return done
}

func wait(t *testing.T, done chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func isBound(m *Machine) bool { return m.State() == Bound }

// handshake takes the fixture's client through DORA with serverA.
func (f *runnerFixture) handshake(t *testing.T) {
	t.Helper()
	disc := f.link.next(t)
	if disc.Msg.MessageType() != dhcpv4.Discover {
		t.Fatalf("first message %v", disc.Msg)
	}
	f.link.incoming <- wire(t, reply(disc.Msg, dhcpv4.Offer, addrA, serverA, leaseOpts(time.Hour)))
	f.clock.set(t0.Add(window))
	req := f.link.next(t)
	if req.Msg.MessageType() != dhcpv4.Request {
		t.Fatalf("second message %v", req.Msg)
	}
	f.link.incoming <- wire(t, reply(req.Msg, dhcpv4.Ack, addrA, serverA, leaseOpts(time.Hour)))
}

func TestRunner(t *testing.T) {
	t.Run("DORA through the link: probe, configure, lease file, hook, until BOUND", func(t *testing.T) {
		f := newRunnerFixture(t, nil)
		ctx := t.Context()
		if err := f.r.Start(ctx, nil); err != nil {
			t.Fatal(err)
		}
		done := f.run(ctx, isBound)
		f.handshake(t)
		if err := wait(t, done); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if want := []string{"probe 198.18.0.100", "configure 198.18.0.100/24"}; !slices.Equal(f.link.callList(), want) {
			t.Errorf("link calls %q, want %q", f.link.callList(), want)
		}
		if h := <-f.hooks; h.Reason != ReasonBound || h.Lease.Addr.Addr() != addrA {
			t.Errorf("hook %v %v", h.Reason, h.Lease.Addr)
		}
		saved, err := ReadLeaseFile(f.file)
		if err != nil {
			t.Fatal(err)
		}
		if saved.Addr.Addr() != addrA || saved.ServerID != serverA {
			t.Errorf("lease file holds %v from %v", saved.Addr, saved.ServerID)
		}

		// Release afterwards: unicast DHCPRELEASE, deconfigure, hook,
		// lease file removed.
		if err := f.r.Release(ctx); err != nil {
			t.Fatal(err)
		}
		rel := f.link.next(t)
		if rel.Msg.MessageType() != dhcpv4.Release || rel.To != serverA {
			t.Errorf("release %v to %v", rel.Msg, rel.To)
		}
		if h := <-f.hooks; h.Reason != ReasonRelease {
			t.Errorf("hook %v, want RELEASE", h.Reason)
		}
		if _, err := ReadLeaseFile(f.file); err == nil {
			t.Errorf("lease file still there after the release")
		}
		if calls := f.link.callList(); calls[len(calls)-1] != "deconfigure 198.18.0.100/24" {
			t.Errorf("link calls %q, want a deconfigure last", calls)
		}
	})
	t.Run("ARP conflict: DECLINE through the link, no configuration", func(t *testing.T) {
		f := newRunnerFixture(t, nil)
		f.link.conflict = true
		ctx := t.Context()
		if err := f.r.Start(ctx, nil); err != nil {
			t.Fatal(err)
		}
		done := f.run(ctx, func(m *Machine) bool { return m.State() == Init })
		f.handshake(t)
		if err := wait(t, done); err != nil {
			t.Fatal(err)
		}
		if d := f.link.next(t); d.Msg.MessageType() != dhcpv4.Decline {
			t.Errorf("sent %v, want DECLINE", d.Msg)
		}
		if calls := f.link.callList(); !slices.Equal(calls, []string{"probe 198.18.0.100"}) {
			t.Errorf("link calls %q, want the probe only", calls)
		}
	})
	t.Run("a failure to configure ends Run with the error", func(t *testing.T) {
		f := newRunnerFixture(t, func(c *Config) { c.NoProbe = true })
		f.link.confErr = errors.New("netlink says no")
		ctx := t.Context()
		f.r.Start(ctx, nil)
		done := f.run(ctx, nil)
		f.handshake(t)
		if err := wait(t, done); err == nil || !errors.Is(err, f.link.confErr) {
			t.Errorf("Run: %v, want the configure error", err)
		}
	})
	t.Run("Run returns the context's error when it ends", func(t *testing.T) {
		f := newRunnerFixture(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		f.r.Start(ctx, nil)
		done := f.run(ctx, nil)
		f.link.next(t)
		cancel()
		if err := wait(t, done); !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v, want context.Canceled", err)
		}
	})
	t.Run("receive errors are retried; a closed link ends Run", func(t *testing.T) {
		f := newRunnerFixture(t, nil)
		ctx := t.Context()
		f.r.Start(ctx, nil)
		done := f.run(ctx, nil)
		f.link.next(t)
		f.link.recvErr <- fmt.Errorf("transient: %w", errors.New("ENETDOWN"))
		// Taken only once the receiver is back after its pause, which is
		// on the fake clock: keep it moving.
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
					f.clock.set(f.clock.Now().Add(receiveRetry))
				}
			}
		}()
		f.link.recvErr <- fmt.Errorf("link: %w", net.ErrClosed)
		if err := wait(t, done); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Run: %v, want net.ErrClosed", err)
		}
	})
}
