package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"leased/dhcpv4"
)

// Link is the network side of the client: sending and receiving DHCP
// messages on one interface, probing an address, and configuring the
// interface. Package client/link has the Linux one.
type Link interface {
	// Send transmits msg from port 68 to port 67 of to, unicast from
	// msg.CIAddr, or of 255.255.255.255 when to is the zero Addr.
	Send(msg *dhcpv4.Packet, to netip.Addr) error
	// Receive waits for the next DHCP reply sent to port 68 and parses it
	// into msg. It returns ctx's error when ctx ends first.
	Receive(ctx context.Context, msg *dhcpv4.Packet) error
	// Probe reports whether another host on the link uses addr.
	Probe(ctx context.Context, addr netip.Addr) (conflict bool, err error)
	// Configure sets the interface up for lease, replacing old when not
	// nil.
	Configure(ctx context.Context, lease, old *Lease) error
	// Deconfigure removes what Configure set up for lease.
	Deconfigure(ctx context.Context, lease *Lease) error
}

// Clock is the Runner's time: the current time and timers.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the Clock of the time package.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Runner drives a Machine: it feeds it the messages its Link receives, the
// passing of its deadline and the results of its probes, and performs the
// actions it returns, in order. Set the fields before the first call; a
// Runner is used by one goroutine at a time.
type Runner struct {
	Machine *Machine
	Link    Link
	// Hook runs the hook for each RunHook action; nil runs nothing. Its
	// error is logged.
	Hook func(ctx context.Context, h Hook) error
	// LeaseFile is where Save writes the lease and Forget removes it;
	// empty keeps no file.
	LeaseFile string
	// Clock is the time source; nil means SystemClock.
	Clock Clock
	// Log receives the state changes and leases at info, messages at
	// debug and failures at warn; nil discards.
	Log *slog.Logger

	probes chan probeResult
}

type probeResult struct {
	addr     netip.Addr
	conflict bool
	err      error
}

// receiveRetry is the pause after a failed receive before the next one.
const receiveRetry = time.Second

func (r *Runner) clock() Clock {
	if r.Clock == nil {
		return SystemClock{}
	}
	return r.Clock
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// Start starts the machine (see Machine.Start) with the saved lease, if
// any, and performs the first actions.
func (r *Runner) Start(ctx context.Context, saved *Lease) error {
	return r.step(ctx, func(now time.Time) []Action { return r.Machine.Start(now, saved) })
}

// Run drives the machine until until reports true (checked after every
// step; nil never does), the machine stops (STOPPED), ctx ends (its error
// is returned) or the link fails for good. The error of a Configure action
// ends Run too: a client that cannot configure its lease must say so.
func (r *Runner) Run(ctx context.Context, until func(*Machine) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	recv := make(chan *dhcpv4.Packet)
	fatal := make(chan error, 1)
	done := make(chan struct{})
	defer func() {
		cancel()
		<-done
	}()
	go r.receive(ctx, recv, fatal, done)
	probes := r.probeChan()
	clk := r.clock()
	for {
		m := r.Machine
		if m.State() == Stopped || (until != nil && until(m)) {
			return nil
		}
		var timer <-chan time.Time
		if d := m.Deadline(); !d.IsZero() {
			timer = clk.After(d.Sub(clk.Now()))
		}
		var err error
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-fatal:
			return err
		case msg := <-recv:
			r.log().Debug("received", "packet", msg)
			err = r.step(ctx, func(now time.Time) []Action { return m.Receive(now, msg) })
		case <-timer:
			err = r.step(ctx, m.Timer)
		case p := <-probes:
			if p.err != nil {
				r.log().Warn("ARP probe failed; taking the address as free", "addr", p.addr, "err", p.err)
			}
			if p.conflict {
				r.log().Warn("address in use by another host: declining it", "addr", p.addr)
			}
			err = r.step(ctx, func(now time.Time) []Action { return m.ProbeResult(now, p.addr, p.conflict) })
		}
		if err != nil {
			return err
		}
	}
}

// Release releases the lease (Machine.Release) and performs the actions:
// the DHCPRELEASE, the deconfiguration, the hook. Use a live ctx: after
// Run has returned because its context ended, pass a fresh one.
func (r *Runner) Release(ctx context.Context) error {
	return r.step(ctx, r.Machine.Release)
}

// Resume takes up a configured lease (Machine.Resume).
func (r *Runner) Resume(ctx context.Context, l *Lease) error {
	return r.step(ctx, func(now time.Time) []Action { return r.Machine.Resume(now, l) })
}

// step calls f with the time, logs a change of state and performs the
// actions.
func (r *Runner) step(ctx context.Context, f func(time.Time) []Action) error {
	before := r.Machine.State()
	acts := f(r.clock().Now())
	if after := r.Machine.State(); after != before {
		r.log().Info("state", "from", before, "to", after)
	}
	return r.Do(ctx, acts)
}

// Do performs actions in order. Failures to send, deconfigure, run the
// hook or write the lease file are logged and the rest goes on; a failure
// to configure stops there and is returned. Probes run in the background;
// their results reach the machine in Run.
func (r *Runner) Do(ctx context.Context, actions []Action) error {
	log := r.log()
	for _, a := range actions {
		switch a := a.(type) {
		case Send:
			log.Debug("sending", "to", toString(a.To), "packet", a.Msg)
			if err := r.Link.Send(a.Msg, a.To); err != nil {
				log.Warn("send failed", "type", a.Msg.MessageType(), "to", toString(a.To), "err", err)
			}
		case Probe:
			probes := r.probeChan()
			go func() {
				conflict, err := r.Link.Probe(ctx, a.Addr)
				select {
				case probes <- probeResult{a.Addr, conflict, err}:
				case <-ctx.Done():
				}
			}()
		case Configure:
			if err := r.Link.Configure(ctx, a.Lease, a.Old); err != nil {
				return fmt.Errorf("configuring %v: %w", a.Lease.Addr, err)
			}
			log.Info("lease", "addr", a.Lease.Addr, "server", a.Lease.ServerID,
				"lease_time", leaseTimeString(a.Lease), "routes", len(a.Lease.EffectiveRoutes()))
		case Deconfigure:
			if err := r.Link.Deconfigure(ctx, a.Lease); err != nil {
				log.Warn("deconfigure failed", "addr", a.Lease.Addr, "err", err)
			} else {
				log.Info("removed", "addr", a.Lease.Addr)
			}
		case RunHook:
			if r.Hook != nil {
				if err := r.Hook(ctx, a.Hook); err != nil {
					log.Warn("hook failed", "reason", a.Hook.Reason, "err", err)
				}
			}
		case Save:
			if r.LeaseFile != "" {
				if err := WriteLeaseFile(r.LeaseFile, a.Lease); err != nil {
					log.Warn("saving the lease failed", "err", err)
				}
			}
		case Forget:
			if r.LeaseFile != "" {
				if err := RemoveLeaseFile(r.LeaseFile); err != nil {
					log.Warn("removing the lease file failed", "err", err)
				}
			}
		}
	}
	return nil
}

func (r *Runner) probeChan() chan probeResult {
	if r.probes == nil {
		r.probes = make(chan probeResult, 1)
	}
	return r.probes
}

// receive reads messages from the link until ctx ends, handing each to
// recv. A closed link is fatal; other errors are logged and retried after
// a pause.
func (r *Runner) receive(ctx context.Context, recv chan<- *dhcpv4.Packet, fatal chan<- error, done chan<- struct{}) {
	defer close(done)
	for {
		msg := new(dhcpv4.Packet)
		err := r.Link.Receive(ctx, msg)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				fatal <- fmt.Errorf("receiving: %w", err)
				return
			}
			r.log().Warn("receive failed", "err", err)
			select {
			case <-r.clock().After(receiveRetry):
			case <-ctx.Done():
				return
			}
			continue
		}
		select {
		case recv <- msg:
		case <-ctx.Done():
			return
		}
	}
}

func toString(a netip.Addr) string {
	if a.IsValid() {
		return a.String()
	}
	return "broadcast"
}

func leaseTimeString(l *Lease) string {
	if l.Infinite() {
		return "infinite"
	}
	return l.LeaseTime.String()
}
