package journal

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"leased/lease"
)

// The crash test runs the test binary again as a child (TestCrashChild)
// that commits from many goroutines and reports on stdout each commit
// before it starts ("I", intent) and after it returned ("D", done). The
// parent kills it with SIGKILL at a random moment, recovers the store and
// checks it against the reports.
const (
	crashDirEnv   = "JOURNAL_CRASH_DIR"
	crashRoundEnv = "JOURNAL_CRASH_ROUND"
	crashG        = 8  // committing goroutines in the child
	crashAddrs    = 48 // addresses per goroutine
	crashClients  = 16 // clients per goroutine
)

// crashValue is what the store holds for an address; absent is Free.
type crashValue struct {
	state     lease.State
	cid, host string
	seq       uint64
}

func (v crashValue) same(w crashValue) bool {
	return v.state == w.state && v.cid == w.cid && v.host == w.host
}

func TestCrashRecoversEveryAcknowledgedLease(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	dir := t.TempDir()
	current := make(map[netip.Addr]crashValue) // the verified state after the last round
	totalDone := 0
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := 1; round <= rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashRoundEnv+"="+strconv.Itoa(round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		intents := make(map[uint64][]crashIntent)
		done := make(map[netip.Addr]crashValue)
		var doneSeqs []uint64
		ready := make(chan struct{})
		var readErr error
		var rd sync.WaitGroup
		rd.Go(func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				switch {
				case line == "R":
					close(ready)
				case strings.HasPrefix(line, "I "):
					seq, ls, err := parseIntent(line)
					if err != nil {
						readErr = err
						return
					}
					intents[seq] = ls
				case strings.HasPrefix(line, "D "):
					seq, err := strconv.ParseUint(line[2:], 10, 64)
					if err != nil || intents[seq] == nil {
						readErr = fmt.Errorf("done line %q without its intent", line)
						return
					}
					doneSeqs = append(doneSeqs, seq)
				}
			}
		})
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: child never became ready: %s", round, stderr.String())
		}
		time.Sleep(time.Duration(5+r.IntN(120)) * time.Millisecond)
		cmd.Process.Kill()
		rd.Wait()
		cmd.Wait()
		if readErr != nil {
			t.Fatalf("round %d: %v", round, readErr)
		}
		// What was acknowledged, address by address, in order.
		for _, seq := range doneSeqs {
			for _, in := range intents[seq] {
				done[in.addr] = in.val
			}
			delete(intents, seq)
		}
		totalDone += len(doneSeqs)

		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("round %d: recovery after SIGKILL: %v\nchild stderr: %s", round, err, stderr.String())
		}
		got := make(map[netip.Addr]crashValue)
		holders := make(map[string]netip.Addr)
		s.All(func(l lease.Lease) bool {
			got[l.Addr] = crashValue{state: l.State, cid: l.ClientID, host: l.Hostname}
			if l.State == lease.Bound {
				if other, dup := holders[l.ClientID]; dup {
					t.Errorf("round %d: client %q bound to both %v and %v", round, l.ClientID, other, l.Addr)
				}
				holders[l.ClientID] = l.Addr
			}
			return true
		})
		s.Close()
		// Each address holds its last acknowledged value, or the value
		// of a commit that was in flight at the kill.
		addrs := make(map[netip.Addr]bool)
		for a := range current {
			addrs[a] = true
		}
		for a := range done {
			addrs[a] = true
		}
		for a := range got {
			addrs[a] = true
		}
		for a := range addrs {
			want, ok := done[a]
			if !ok {
				want = current[a]
			}
			g := got[a]
			if g.same(want) {
				continue
			}
			inFlight := false
			for _, ls := range intents {
				for _, in := range ls {
					inFlight = inFlight || in.addr == a && in.val.same(g)
				}
			}
			if !inFlight {
				t.Errorf("round %d: %v recovered as %+v, acknowledged %+v", round, a, g, want)
			}
		}
		current = got
		if t.Failed() {
			t.Fatalf("round %d: child stderr: %s", round, stderr.String())
		}
	}
	if totalDone < rounds {
		t.Errorf("only %d commits acknowledged in %d rounds: the test did not exercise the store", totalDone, rounds)
	}
	t.Logf("%d rounds, %d acknowledged commits, %d records at the end", rounds, totalDone, len(current))
}

// crashIntent is one lease of a reported commit.
type crashIntent struct {
	addr netip.Addr
	val  crashValue
}

// parseIntent parses "I seq addr,state,cid,host ...".
func parseIntent(line string) (uint64, []crashIntent, error) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return 0, nil, fmt.Errorf("bad intent line %q", line)
	}
	seq, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("bad intent line %q", line)
	}
	var out []crashIntent
	for _, x := range f[2:] {
		p := strings.Split(x, ",")
		if len(p) != 4 {
			return 0, nil, fmt.Errorf("bad intent line %q", line)
		}
		a, err := netip.ParseAddr(p[0])
		st, serr := lease.ParseState(p[1])
		if err != nil || serr != nil {
			return 0, nil, fmt.Errorf("bad intent line %q", line)
		}
		v := crashValue{state: st, cid: "\x01" + p[2], host: p[3], seq: seq}
		if st == lease.Free {
			v = crashValue{}
		}
		out = append(out, crashIntent{a, v})
	}
	return seq, out, nil
}

// TestCrashChild is the child of TestCrashRecoversEveryAcknowledgedLease.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child process of the crash test only")
	}
	round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
	// Small thresholds, so that kills also land in compactions.
	s, err := Open(dir, Options{CompactMinBytes: 24 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var outMu sync.Mutex
	say := func(line string) {
		outMu.Lock()
		defer outMu.Unlock()
		if _, err := os.Stdout.WriteString(line + "\n"); err != nil {
			os.Exit(3)
		}
	}
	recs := contents(s)
	say("R")
	deadline := time.Now().Add(20 * time.Second) // in case the parent is gone
	var wg sync.WaitGroup
	for g := range crashG {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(round), uint64(g)))
			holder := make(map[int]int) // address index -> client bound to it
			where := make(map[int]int)  // client -> address index
			for i := range crashAddrs {
				l, ok := recs[addrN(g*crashAddrs+i)]
				if !ok || l.State != lease.Bound {
					continue
				}
				var c int
				if _, err := fmt.Sscanf(l.ClientID, "\x01g%02dc%02d", new(int), &c); err == nil {
					holder[i], where[c] = c, i
				}
			}
			for n := uint64(0); time.Now().Before(deadline); n++ {
				seq := uint64(round)<<40 | uint64(g)<<32 | n
				c := r.IntN(crashClients)
				a := r.IntN(crashAddrs)
				if _, taken := holder[a]; taken {
					continue
				}
				cid := fmt.Sprintf("g%02dc%02d", g, c)
				host := "s" + strconv.FormatUint(seq, 10)
				l := lease.Lease{Addr: addrN(g*crashAddrs + a), ClientID: "\x01" + cid, Hostname: host, State: lease.Bound, Start: testTime, Expiry: testTime.Add(time.Hour)}
				ls := []lease.Lease{l}
				if old, ok := where[c]; ok {
					prev := lease.Lease{Addr: addrN(g*crashAddrs + old), State: lease.Free}
					if r.IntN(2) == 0 {
						prev = l
						prev.Addr, prev.State = addrN(g*crashAddrs+old), lease.Released
					}
					ls = []lease.Lease{prev, l}
				}
				line := "I " + strconv.FormatUint(seq, 10)
				for _, x := range ls {
					line += fmt.Sprintf(" %v,%v,%s,%s", x.Addr, x.State, cid, host)
				}
				say(line)
				if err := s.Commit(context.Background(), ls...); err != nil {
					say("E " + err.Error())
					os.Exit(4)
				}
				say("D " + strconv.FormatUint(seq, 10))
				if old, ok := where[c]; ok {
					delete(holder, old)
				}
				holder[a], where[c] = c, a
			}
		})
	}
	wg.Wait()
	s.Close()
}
