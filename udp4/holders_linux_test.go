package udp4

import (
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestParseProcNetUDP(t *testing.T) {
	const table = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1001 2 0000000000000000 0
  101: 0100127F:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1002 2 0000000000000000 0
  102: 0200127F:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1003 2 0000000000000000 0
  103: 0100127F:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1004 2 0000000000000000 0
  104: 0100127F:0043 0500127F:0043 01 00000000:00000000 00:00000000 00000000     0        0 1005 2 0000000000000000 0
`
	for _, tc := range []struct {
		name  string
		local string
		want  []string
	}{
		{"any address: every socket on the port", "0.0.0.0:67", []string{"0.0.0.0:67/1001", "127.18.0.1:67/1002", "127.18.0.2:67/1003"}},
		{"one address: the wildcard and that address", "127.18.0.1:67", []string{"0.0.0.0:67/1001", "127.18.0.1:67/1002"}},
		{"another port: nothing", "0.0.0.0:69", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcNetUDP(strings.NewReader(table), netip.MustParseAddrPort(tc.local))
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, h := range got {
				s = append(s, h.Addr.String()+"/"+strconv.FormatUint(h.Inode, 10))
			}
			if strings.Join(s, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %v, want %v", s, tc.want)
			}
		})
	}
	if _, err := parseProcNetUDP(strings.NewReader("header\n 1: zz:0043 00000000:0000 07 0 0 0 0 0 17 2 0 0\n"), netip.MustParseAddrPort("0.0.0.0:67")); err == nil {
		t.Error("a malformed line was accepted")
	}
}

// TestPortHoldersFindsSecondSocket: a second socket on a port (which
// SO_REUSEADDR lets bind) finds the first and the process holding it;
// alone, it finds nothing.
func TestPortHoldersFindsSecondSocket(t *testing.T) {
	first, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	addr := netip.MustParseAddrPort(first.LocalAddr().String())
	alone, err := PortHolders(addr, first)
	if err != nil {
		t.Fatal(err)
	}
	if len(alone) != 0 {
		t.Errorf("alone on the port: holders %v, want none", alone)
	}
	second, err := Listen(netip.AddrPortFrom(netip.IPv4Unspecified(), addr.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	got, err := PortHolders(netip.AddrPortFrom(netip.IPv4Unspecified(), addr.Port()), second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PID != os.Getpid() || got[0].Addr != addr || got[0].Command == "" {
		t.Fatalf("holders %+v, want this process (%d) holding %v", got, os.Getpid(), addr)
	}
	if s := got[0].String(); !strings.HasPrefix(s, "process ") {
		t.Errorf("String() = %q", s)
	}
	if s := (PortHolder{Inode: 7}).String(); !strings.Contains(s, "another process") || !strings.Contains(s, "socket inode 7") {
		t.Errorf("String() of a holder no process was found for = %q", s)
	}
}
