//go:build linux

package integration

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"leased/control"
	"leased/dhcpv4"
)

// fullFS is a small file system of the test's own (a size-limited tmpfs)
// that the test fills and frees.
type fullFS struct {
	t    *testing.T
	dir  string // the mount point
	fill string // the file that takes all the space
}

// mountSmallFS mounts a tmpfs of size bytes on a temporary directory, and
// unmounts it when the test ends (after the processes it started, which
// were started later, have stopped). It skips the test where mounting is
// not allowed.
func mountSmallFS(t *testing.T, size int64) *fullFS {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		msg := fmt.Sprintf("cannot mount a tmpfs to fill (needs CAP_SYS_ADMIN): %v", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			// Something still holds it: detach it, it goes when released.
			if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", dir, err)
			}
		}
	})
	return &fullFS{t: t, dir: dir, fill: filepath.Join(dir, "fill")}
}

// freeBytes is the room left on the file system for an unprivileged
// writer, as the store sees it.
func (f *fullFS) freeBytes() int64 {
	f.t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(f.dir, &st); err != nil {
		f.t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// fillUp writes the fill file until the file system has no room left.
func (f *fullFS) fillUp() {
	f.t.Helper()
	w, err := os.OpenFile(f.fill, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		f.t.Fatal(err)
	}
	defer w.Close()
	buf := make([]byte, 1<<20)
	for _, n := range []int{1 << 20, 4096, 1} {
		for {
			if _, err := w.Write(buf[:n]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					f.t.Fatalf("filling %s: %v", f.dir, err)
				}
				break
			}
		}
	}
	if free := f.freeBytes(); free != 0 {
		f.t.Fatalf("%s: %d bytes free after filling it", f.dir, free)
	}
}

// free removes the fill file.
func (f *fullFS) free() {
	f.t.Helper()
	if err := os.Remove(f.fill); err != nil {
		f.t.Fatal(err)
	}
}

// storeStatus returns the server's status through its control socket.
func storeStatus(t *testing.T, sock string) control.Status {
	t.Helper()
	var st control.Status
	ctlGet(t, sock, "GET", "/v1/status", "", 200, &st)
	if st.Store == nil {
		t.Fatal("status without the store")
	}
	return st
}

// replyWithin returns the probe's first reply to req within timeout, or
// nil. It does not send.
func replyWithin(pr *probe, req *dhcpv4.Packet, timeout time.Duration) *dhcpv4.Packet {
	pr.t.Helper()
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for {
		pr.conn.SetReadDeadline(deadline)
		n, err := pr.conn.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil
			}
			pr.t.Fatalf("probe on %s: %v", pr.host.name, err)
		}
		var p dhcpv4.Packet
		if dhcpv4.Parse(buf[:n], &p) == nil && p.Op == dhcpv4.BootReply && p.XID == req.XID {
			return &p
		}
	}
}

// exhaustLog makes the store use up the room its log has on a full disk:
// the probe's client asks for its lease again and again, each time with a
// long client identifier and host name (a record of about 300 bytes),
// until the status says the store is not writable. It returns how many
// requests that took.
func exhaustLog(t *testing.T, pr *probe, sock string) int {
	t.Helper()
	long := []byte(strings.Repeat("x", 120))
	edit := func(p *dhcpv4.Packet) {
		p.Options.Set(dhcpv4.OptClientID, append([]byte{0}, long...))
		p.Options.Set(dhcpv4.OptHostName, long)
	}
	d := discover(t, 1, edit)
	pr.broadcast(d)
	offer := replyWithin(pr, d, leaseWait)
	if offer == nil || offer.MessageType() != dhcpv4.Offer {
		t.Fatalf("the probe got no offer: %v", offer)
	}
	sid, _ := offer.Options.Addr(dhcpv4.OptServerID)
	for i := range 20000 {
		req := discover(t, 1, func(p *dhcpv4.Packet) {
			edit(p)
			p.XID += uint32(i + 1)
			p.Options.SetMessageType(dhcpv4.Request)
			p.Options.SetAddr(dhcpv4.OptServerID, sid)
			p.Options.SetAddr(dhcpv4.OptRequestedIP, offer.YIAddr)
		})
		pr.broadcast(req)
		// Acknowledged while the store has room, then for the time the
		// lease has left; silence is not expected.
		if r := replyWithin(pr, req, 2*time.Second); r == nil || r.MessageType() != dhcpv4.Ack {
			t.Fatalf("request %d of the probe's client for its lease: %v, want an ACK", i+1, r)
		}
		if i%10 == 9 && !storeStatus(t, sock).Store.Healthy {
			return i + 1
		}
	}
	t.Fatal("the store is still writable after 20000 commits on a full disk")
	return 0
}

// leaseSeconds returns the lease time a hook invocation received.
func leaseSeconds(t *testing.T, c *dhcpClient, e clientEvent) time.Duration {
	t.Helper()
	l, err := c.leaseOf(e)
	if err != nil {
		t.Fatal(err)
	}
	return l.leaseTime
}

// TestStoreOnFullDisk: issue 23. The lease store lives on a small file
// system that fills up while a real udhcpc holds a lease. While the store
// cannot commit, the client's renewal is still acknowledged, for the time
// its lease has left on disk and no longer; a new client gets no
// DHCPOFFER, and the refusal is counted (store-not-writable). Once space
// is freed, the store is writable again within about a second, without
// traffic, and a new client gets a lease. Killed (SIGKILL) and started
// again on the full disk, the server starts and renews the lease.
func TestStoreOnFullDisk(t *testing.T) {
	requireClientCommands(t, udhcpc)
	l, srvHost, hosts := newServerLink(t, 3)
	probeHost := l.addHost("probe", "198.18.0.250/24")
	fs := mountSmallFS(t, 4<<20)
	store := filepath.Join(fs.dir, "store")
	if err := os.Mkdir(store, 0o750); err != nil {
		t.Fatal(err)
	}
	const leaseTime = 2 * time.Minute // T1 after the test's end: renewals come when asked
	pool := mustRange("198.18.0.100", "198.18.0.149")
	sock := ctlSocketPath(t)
	// Quick mode's settings, but for the client rate limit: the probe
	// fills the disk with one client's requests, thousands a second.
	cfg := filepath.Join(t.TempDir(), "leased.yaml")
	writeFile(t, cfg, fmt.Sprintf("interfaces: [eth0]\nlease-time: %s\nrate-limit: {client: off}\nsubnets:\n  - prefix: 198.18.0.0/24\n    pools: [%s]\n",
		leaseTime, pool), 0o644)
	args := []string{"--config", cfg, "--control", sock}
	srv := startServer(t, srvHost, store, args...)

	holder := newClient(t, udhcpc, hosts[0])
	holder.start()
	got := holder.waitLease(0)
	granted := time.Now()

	fs.fillUp()
	pr := newProbe(t, probeHost)
	asked := exhaustLog(t, pr, sock)
	// The free space shown is at most a second old.
	var st control.Status
	err := waitFor(startWait, "the status to show the full disk", func() (bool, error) {
		st = storeStatus(t, sock)
		return st.Store.FreeBytes == 0, nil
	})
	if err != nil || st.Store.Healthy || !st.Store.LowSpace {
		t.Errorf("status on a full disk: %+v, want not writable, low on space, 0 bytes free (%v)", *st.Store, err)
	}
	t.Logf("the store stopped taking writes after %d requests on the full disk", asked)

	t.Run("issue 23 renewal of a durable lease is acknowledged for the time it has left", func(t *testing.T) {
		from := len(holder.eventsSoFar())
		asked := time.Now()
		holder.renewNow()
		e := holder.waitEvent(leaseWait, from, "renew", "bound", "deconfig", "leasefail")
		if e.reason != "renew" {
			t.Fatalf("udhcpc after SIGUSR1 on a full disk: %q, want renew", e.reason)
		}
		renewed, err := holder.leaseOf(e)
		if err != nil {
			t.Fatal(err)
		}
		if renewed.addr != got.addr {
			t.Errorf("renewed %v, want the same %v", renewed.addr, got.addr)
		}
		// What the lease had left: at most leaseTime less the time since
		// it was granted, at least that less the time the renewal took.
		most := leaseTime - asked.Sub(granted) + time.Second
		least := leaseTime - time.Since(granted) - time.Second
		if renewed.leaseTime > most || renewed.leaseTime < least {
			t.Errorf("lease time %v, want the %v to %v it had left", renewed.leaseTime, least, most)
		}
		if kept := srv.events("ack-kept", holder.host.mac); len(kept) == 0 || kept[0]["addr"] != got.addr.Addr().String() {
			t.Errorf("server log: ack-kept to %s %v, want %v", holder.host.mac, kept, got.addr.Addr())
		}
	})

	t.Run("issue 23 no offer that would need a new commitment", func(t *testing.T) {
		before := storeStatus(t, sock).Outcomes["store-not-writable"]
		newcomer := newClient(t, udhcpc, hosts[1])
		if newcomer.tryOnce(3 * time.Second) {
			t.Fatal("a new client got a lease from a store that cannot commit")
		}
		if offers := srv.events("offer", newcomer.host.mac); len(offers) != 0 {
			t.Errorf("offers to the new client: %v", offers)
		}
		if refused := srv.events("store-not-writable", newcomer.host.mac); len(refused) == 0 {
			t.Error("no store-not-writable in the log for the new client")
		}
		if after := storeStatus(t, sock).Outcomes["store-not-writable"]; after <= before {
			t.Errorf("store-not-writable counted %d, was %d: want more", after, before)
		}
	})

	t.Run("issue 23 writable again within a second of freeing space", func(t *testing.T) {
		fs.free()
		freed := time.Now()
		var writable time.Duration
		err := waitFor(leaseWait, "the store to be writable again", func() (bool, error) {
			if st := storeStatus(t, sock); st.Store.Healthy {
				writable = time.Since(freed)
				return true, nil
			}
			return false, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// The store promises a second; the status is polled, and the
		// machine is shared and slow.
		if writable > 3*time.Second {
			t.Errorf("writable %v after the space was freed, want about 1 s", writable)
		}
		newcomer := newClient(t, udhcpc, hosts[2])
		newcomer.start()
		lease := newcomer.waitLease(0)
		t.Logf("after freeing the space: writable in %v, the first new lease (%v) in %v", writable, lease.addr, time.Since(freed))
		if !pool.contains(lease.addr.Addr()) {
			t.Errorf("new lease %v outside the pool %v", lease.addr, pool)
		}
	})

	t.Run("issue 23 SIGKILL and restart on a full disk", func(t *testing.T) {
		fs.fillUp()
		exhaustLog(t, pr, sock)
		if err := srv.stop(syscall.SIGKILL); err == nil || srv.exitCode() != -1 {
			t.Fatalf("server after SIGKILL: %v, want killed", err)
		}
		srv = startServer(t, srvHost, store, args...)
		st = storeStatus(t, sock)
		if !st.Store.LowSpace {
			t.Errorf("status after a restart on a full disk: %+v, want low on space", *st.Store)
		}
		srv.waitRecord(t, 0, map[string]string{"level": "WARN", "msg": "lease store: the disk is about to fill; free space now, or new leases will be refused"})
		from := len(holder.eventsSoFar())
		holder.renewNow()
		e := holder.waitEvent(leaseWait, from, "renew", "bound", "deconfig", "leasefail")
		if e.reason != "renew" {
			t.Fatalf("udhcpc after the restart: %q, want renew", e.reason)
		}
		if lt := leaseSeconds(t, holder, e); lt <= 0 || lt > leaseTime {
			t.Errorf("renewed lease time %v", lt)
		}
		acks := len(srv.events("ack", holder.host.mac)) + len(srv.events("ack-kept", holder.host.mac))
		if acks == 0 {
			t.Error("the restarted server logged no ack to the holder")
		}
		t.Logf("after the restart on a full disk: store writable %v; renewal %s", st.Store.Healthy, e.reason)
	})
}
