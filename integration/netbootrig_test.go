//go:build linux

package integration

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"leased/dhcpv4"
)

// The network-boot rig: one link with the boot server's host (leased, a
// TFTP server and an HTTP server, all on 198.18.0.1) and a QEMU virtual
// machine whose e1000 NIC is a tap device, a port of the link's bridge.
// The machine has no disk: its firmware (SeaBIOS and Debian's iPXE ROM)
// boots from the network or not at all.
//
//	QEMU (iPXE ROM) -- tap0 --[br0 in the hub]-- p1 -- eth0 boot server
//
// The machine runs under TCG, the emulator, even where /dev/kvm exists:
// the iPXE ROMs hang under KVM on the machines these tests run on. TCG
// is slow, so the waits of the boot are generous (bootWait).

// Constants of the rig.
const (
	bootServer = "198.18.0.1"
	// bootPool is leased's pool; the machine gets its first address.
	bootPool = "198.18.0.100-198.18.0.149"
	// vmMAC is the machine's MAC address: locally administered, and
	// apart from the hosts' 02:c6:12:00:HH:LL of newLink.
	vmMAC = "02:c6:12:00:ff:01"
	// romFile is Debian ipxe-qemu's legacy (BIOS) ROM for the e1000, the
	// NIC iPXE boots best on in QEMU.
	romFile = "/usr/lib/ipxe/qemu/pxe-e1000.rom"
	// bootWait bounds a whole boot under TCG: firmware start, two DHCP
	// exchanges (iPXE waits a few seconds for a ProxyDHCP offer in
	// each), a TFTP and an HTTP transfer.
	bootWait = 120 * time.Second
)

// requireNetboot skips t without root, QEMU, the ROM or dnsmasq (or
// fails it in CI, which installs them all).
func requireNetboot(t *testing.T) {
	t.Helper()
	requireCommands(t, "dnsmasq")
	var missing []string
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		missing = append(missing, "qemu-system-x86_64 (Debian package qemu-system-x86)")
	}
	if _, err := os.Stat(romFile); err != nil {
		missing = append(missing, romFile+" (Debian package ipxe-qemu)")
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("network boot test: missing %v", missing)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI must install them")
	}
	t.Skip(msg)
}

// netbootRig is the link, the boot server's host and the files it serves.
type netbootRig struct {
	t       *testing.T
	link    *link
	server  *host
	dir     string // configuration, logs, serial console
	tftpDir string // the TFTP server's root
	tftp    *proc
	http    *scriptServer
	capture *dhcpCapture
	vm      *proc
}

// newNetbootRig builds the link with the boot server's host and a tap
// device for the machine, and starts the TFTP server (serving tftpFiles,
// name to content), the HTTP server (serving httpFiles) and a capture of
// the DHCP traffic on the server's eth0.
func newNetbootRig(t *testing.T, tftpFiles, httpFiles map[string]string) *netbootRig {
	t.Helper()
	r := &netbootRig{t: t, link: newLink(t), dir: t.TempDir()}
	r.server = r.link.addHost("boot-server", bootServer+"/24")
	r.link.ip("-n", r.link.hub, "tuntap", "add", "dev", "tap0", "mode", "tap")
	r.link.ip("-n", r.link.hub, "link", "set", "tap0", "master", "br0", "up")
	r.capture = startDHCPCapture(t, r.server)
	r.tftpDir = filepath.Join(r.dir, "tftp")
	if err := os.Mkdir(r.tftpDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range tftpFiles {
		writeFile(t, filepath.Join(r.tftpDir, name), content, 0o644)
	}
	r.tftp = startProc(t, r.server, "dnsmasq (TFTP only)", filepath.Join(r.dir, "tftp.log"), nil,
		"dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0", "--no-resolv", "--no-hosts",
		"--user=root", "--group=root", "--pid-file=",
		"--interface=eth0", "--bind-interfaces",
		"--enable-tftp", "--tftp-root="+r.tftpDir, "--log-facility=-")
	if err := waitFor(startWait, "the TFTP server to start", func() (bool, error) {
		if r.tftp.exited() {
			return false, fmt.Errorf("dnsmasq exited (%v):\n%s", r.tftp.err, r.tftp.output())
		}
		return strings.Contains(r.tftp.output(), "TFTP root is"), nil
	}); err != nil {
		t.Fatal(err)
	}
	r.http = startScriptServer(t, r.server, httpFiles)
	return r
}

// tftpSent returns how many times the TFTP server logged sending the file
// name.
func (r *netbootRig) tftpSent(name string) int {
	return strings.Count(r.tftp.output(), "sent "+filepath.Join(r.tftpDir, name)+" to ")
}

// startVM starts the machine, booting from the network, with its serial
// console (SeaBIOS and iPXE write there) in a file. Cleanup kills it by
// its process ID.
func (r *netbootRig) startVM() {
	r.t.Helper()
	hub := &host{link: r.link, name: "qemu", ns: r.link.hub}
	r.vm = startProc(r.t, hub, "qemu", filepath.Join(r.dir, "qemu.log"), nil,
		"qemu-system-x86_64", "-accel", "tcg", "-nographic", "-display", "none", "-monitor", "none",
		"-no-reboot", "-m", "96", "-boot", "n",
		"-device", "e1000,netdev=n0,mac="+vmMAC+",romfile="+romFile,
		"-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
		"-serial", "file:"+r.console())
	r.t.Cleanup(func() {
		if r.t.Failed() {
			r.t.Logf("--- the machine's serial console, last lines:\n%s", tail(r.consoleText(), 40))
		}
	})
}

// console is the path of the machine's serial console.
func (r *netbootRig) console() string { return filepath.Join(r.dir, "console") }

// consoleText returns the console so far, without carriage returns and
// terminal escapes' noise left in.
func (r *netbootRig) consoleText() string {
	b, _ := os.ReadFile(r.console())
	return strings.ReplaceAll(string(b), "\r", "")
}

// firmwareGaveUp is what iPXE writes when no network boot worked, before
// it returns to the BIOS.
const firmwareGaveUp = "No more network devices"

// waitBoot waits until cond holds, or fails, or the machine ends, or its
// firmware gives up, or bootWait passes.
func (r *netbootRig) waitBoot(what string, cond func() (bool, error)) {
	r.t.Helper()
	err := waitFor(bootWait, what, func() (bool, error) {
		if ok, err := cond(); ok || err != nil {
			return ok, err
		}
		if r.vm.exited() {
			return false, fmt.Errorf("the machine stopped (%v)", r.vm.err)
		}
		if strings.Contains(r.consoleText(), firmwareGaveUp) {
			return false, fmt.Errorf("the firmware gave up booting from the network (%q)", firmwareGaveUp)
		}
		return false, nil
	})
	if err != nil {
		acks, cerr := r.capture.acks()
		r.t.Fatalf("%v\nDHCP exchanges seen (capture error: %v):%s", err, cerr, describeAll(acks))
	}
}

// scriptServer is the HTTP server of the boot scripts, on the boot
// server's address inside its namespace. It records the paths asked for.
type scriptServer struct {
	url   string // base, "http://198.18.0.1:PORT"
	mu    sync.Mutex
	paths []string
}

// startScriptServer serves files (path without its slash to content) on
// the host h's address, on a port of the system's choosing. Cleanup
// closes it.
func startScriptServer(t *testing.T, h *host, files map[string]string) *scriptServer {
	t.Helper()
	var ln net.Listener
	err := inNamespace(h.ns, func() error {
		var err error
		ln, err = net.Listen("tcp4", bootServer+":0")
		return err
	})
	if err != nil {
		t.Fatalf("HTTP server in %s: %v", h.name, err)
	}
	s := &scriptServer{url: "http://" + ln.Addr().String()}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			s.mu.Lock()
			s.paths = append(s.paths, req.URL.Path)
			s.mu.Unlock()
			content, ok := files[strings.TrimPrefix(req.URL.Path, "/")]
			if !ok {
				http.NotFound(w, req)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, content)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

// fetched reports whether the path was asked for.
func (s *scriptServer) fetched(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.paths, path)
}

// dhcpCapture records the DHCP messages that cross a host's eth0, both
// ways, from a packet socket in the host's namespace. The socket takes
// every protocol (ETH_P_ALL): only such sockets see outgoing frames too.
type dhcpCapture struct {
	mu   sync.Mutex
	pkts []*dhcpv4.Packet // in the order seen
	err  error            // why the capture stopped early
}

// startDHCPCapture starts capturing on h's eth0. Cleanup stops it.
func startDHCPCapture(t *testing.T, h *host) *dhcpCapture {
	t.Helper()
	ifi, err := interfaceIndex(h, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	err = inNamespace(h.ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return fmt.Errorf("packet socket: %w", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi}); err != nil {
			unix.Close(fd)
			return fmt.Errorf("bind packet socket to eth0: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("capture on %s: %v", h.name, err)
	}
	// A receive timeout lets the reader see the stop.
	tv := unix.Timeval{Usec: 200000}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	c := &dhcpCapture{}
	stop, done := make(chan struct{}), make(chan struct{})
	go c.read(fd, stop, done)
	t.Cleanup(func() {
		close(stop)
		<-done
		unix.Close(fd)
	})
	return c
}

// interfaceIndex returns the index of the interface name in h's namespace.
func interfaceIndex(h *host, name string) (int, error) {
	var idx int
	err := inNamespace(h.ns, func() error {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return err
		}
		idx = ifi.Index
		return nil
	})
	return idx, err
}

// htons converts a 16-bit value to network byte order, as packet sockets
// want their protocol.
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// read receives IPv4 packets until stop, keeping the DHCP messages (UDP
// port 67 or 68 on either side).
func (c *dhcpCapture) read(fd int, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	buf := make([]byte, 65536)
	for {
		select {
		case <-stop:
			return
		default:
		}
		n, from, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); !ok || ll.Protocol != htons(unix.ETH_P_IP) {
			continue
		}
		if p, ok := dhcpPayload(buf[:n]); ok {
			c.mu.Lock()
			c.pkts = append(c.pkts, p)
			c.mu.Unlock()
		}
	}
}

// dhcpPayload parses an IPv4 packet carrying a DHCP message over UDP.
func dhcpPayload(b []byte) (*dhcpv4.Packet, bool) {
	if len(b) < 20 || b[0]>>4 != 4 || b[9] != unix.IPPROTO_UDP {
		return nil, false
	}
	ihl := int(b[0]&0x0f) * 4
	if len(b) < ihl+8 {
		return nil, false
	}
	udp := b[ihl:]
	src, dst := binary.BigEndian.Uint16(udp[0:2]), binary.BigEndian.Uint16(udp[2:4])
	if (src != 67 && src != 68) || (dst != 67 && dst != 68) {
		return nil, false
	}
	p := new(dhcpv4.Packet)
	if err := dhcpv4.Parse(udp[8:], p); err != nil {
		return nil, false
	}
	return p, true
}

// exchange is a client's request and the server's reply that followed it.
type exchange struct {
	request, reply *dhcpv4.Packet
}

// acks returns the DHCPACKs seen, each with the last DHCPREQUEST seen
// before it from the same client.
func (c *dhcpCapture) acks() ([]exchange, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []exchange
	last := map[[16]byte]*dhcpv4.Packet{}
	for _, p := range c.pkts {
		switch p.MessageType() {
		case dhcpv4.Request:
			last[p.CHAddr] = p
		case dhcpv4.Ack:
			if req := last[p.CHAddr]; req != nil {
				out = append(out, exchange{request: req, reply: p})
			}
		}
	}
	return out, c.err
}

// userClasses returns the user classes of a request (option 77): the
// RFC 3004 list, or the whole value when it is not one (iPXE's plain
// "iPXE").
func userClasses(p *dhcpv4.Packet) []string {
	v, ok := p.Options.Get(dhcpv4.OptUserClass)
	if !ok {
		return nil
	}
	list, err := dhcpv4.ParseUserClass(v, nil)
	if err != nil {
		return []string{string(v)}
	}
	var out []string
	for _, c := range list {
		out = append(out, string(c))
	}
	return out
}

// bootFile returns the boot file a reply names: the header's file field,
// or else option 67.
func bootFile(p *dhcpv4.Packet) string {
	if f := p.BootFile(); f != "" {
		return f
	}
	v, _ := p.Options.Get(dhcpv4.OptBootfileName)
	return strings.TrimRight(string(v), "\x00")
}

// describe is an exchange in one line, for failure messages.
func (e exchange) describe() string {
	return fmt.Sprintf("request user-class=%q -> ack yiaddr=%s siaddr=%s file=%q",
		userClasses(e.request), e.reply.YIAddr, e.reply.SIAddr, bootFile(e.reply))
}

// describeAll is describe for a list.
func describeAll(es []exchange) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString("\n\t" + e.describe())
	}
	if b.Len() == 0 {
		return " none"
	}
	return b.String()
}
