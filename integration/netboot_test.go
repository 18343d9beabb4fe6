//go:build linux

package integration

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The network-boot tests boot a QEMU machine with no disk from leased
// (see the rig in netbootrig_test.go): its firmware is Debian's iPXE ROM,
// which gets an address and a boot file from leased, fetches a first-stage
// iPXE script over TFTP from dnsmasq, and that script asks DHCP again and
// chains an HTTP boot script.
//
// The chain and its loop. QEMU's boot ROM is itself iPXE: its very first
// DHCP request already carries the user class "iPXE" (as the plain
// string, not an RFC 3004 list) and iPXE's option 175. So the usual
// "user class iPXE -> HTTP script, else -> undionly.kpxe" split would
// send this firmware straight to HTTP, and a first stage that asks DHCP
// again would get its own file back, forever. The site's first stage
// therefore marks its own requests: it sets its user class to the RFC 3004
// list ("iPXE", "leased-chain") before its "dhcp", so that the firmware's
// second exchange still carries user class "iPXE" (one of its entries)
// and also the marker. The subnet names the boot server (next-server,
// siaddr: iPXE ignores option 66 when siaddr is 0), and the classes, of
// which the earlier sets a boot field (see docs/configuration.md), most
// specific first:
//
//	ipxe           user class iPXE and marker  http://.../boot.ipxe
//	ipxe-firmware  user class iPXE             stage1.ipxe (TFTP)
//	bios           arch 0 (option 93)          undionly.kpxe (plain PXE firmware)
//
// The firmware's first request (arch 0, user class iPXE) is in
// ipxe-firmware and bios and gets stage1.ipxe; the marked request is in
// all three and gets the HTTP URL, which the script chains: no loop. A
// plain PXE firmware would get undionly.kpxe, whose iPXE would then get
// stage1.ipxe in turn.

// chainMarker is the user class entry the first-stage script adds.
const chainMarker = "leased-chain"

// markedUserClass is the value of "set user-class:hex" that makes iPXE
// send the RFC 3004 list ("iPXE", chainMarker) as option 77.
func markedUserClass() string {
	var hex []string
	for _, c := range []string{"iPXE", chainMarker} {
		hex = append(hex, fmt.Sprintf("%02x", len(c)))
		for _, b := range []byte(c) {
			hex = append(hex, fmt.Sprintf("%02x", b))
		}
	}
	return strings.Join(hex, ":")
}

// stage1Script is the first-stage script served over TFTP: it marks the
// firmware's DHCP requests, asks again, and chains what DHCP names now.
// With chainTo set, it chains that URL instead (for a server that cannot
// tell the two stages apart).
func stage1Script(chainTo string) string {
	if chainTo == "" {
		chainTo = "${filename}"
	}
	return fmt.Sprintf(`#!ipxe
echo leased-netboot: stage 1 from TFTP
set user-class:hex %s
dhcp
echo leased-netboot: stage 2 boot file ${filename}
chain %s
`, markedUserClass(), chainTo)
}

// httpScriptRuns is what the HTTP boot script writes on the console.
const httpScriptRuns = "leased-netboot: the HTTP boot script runs"

// httpScript is the last stage, served over HTTP.
const httpScript = "#!ipxe\necho " + httpScriptRuns + "\n"

// TestNetbootIPXEChain: a machine's iPXE firmware gets next-server (siaddr)
// and a first boot file from leased by client class, loads it over TFTP,
// and its second DHCP exchange (user class iPXE, marked by the first
// stage) is answered with the HTTP boot script's URL, which it fetches.
func TestNetbootIPXEChain(t *testing.T) {
	requireNetboot(t)
	r := newNetbootRig(t,
		map[string]string{"stage1.ipxe": stage1Script("")},
		map[string]string{"boot.ipxe": httpScript})
	url := r.http.url + "/boot.ipxe"
	cfg := filepath.Join(r.dir, "leased.yaml")
	writeFile(t, cfg, fmt.Sprintf(`interfaces: [eth0]
lease-time: 1h
subnets:
  - prefix: 198.18.0.0/24
    pools: [%s]
    options:
      routers: [%s]
    boot: {next-server: %[2]s}
client-classes:
  - name: ipxe
    match: {all-of: [{user-class: iPXE}, {user-class: %s}]}
    boot: {file: "%s"}
  - name: ipxe-firmware
    match: {user-class: iPXE}
    boot: {file: stage1.ipxe}
  - name: bios
    match: {arch: 0}
    boot: {file: undionly.kpxe}
`, bootPool, bootServer, chainMarker, url), 0o644)
	srv := startServerNoWait(t, r.server, newStore(t), "--config", cfg)
	if err := srv.waitServing(); err != nil {
		t.Fatal(err)
	}

	r.startVM()
	r.waitBoot("the HTTP boot script to run", func() (bool, error) {
		if n := r.tftpSent("stage1.ipxe"); n > 1 {
			return false, fmt.Errorf("stage1.ipxe sent %d times: the chain loops", n)
		}
		return r.http.fetched("/boot.ipxe") && strings.Contains(r.consoleText(), httpScriptRuns), nil
	})

	if n := r.tftpSent("stage1.ipxe"); n != 1 {
		t.Errorf("the TFTP server sent stage1.ipxe %d times, want 1:\n%s", n, r.tftp.output())
	}
	acks, err := r.capture.acks()
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	first := slices.IndexFunc(acks, func(e exchange) bool {
		return slices.Equal(userClasses(e.request), []string{"iPXE"}) &&
			e.reply.SIAddr == mustAddr(t, bootServer) && bootFile(e.reply) == "stage1.ipxe"
	})
	if first < 0 {
		t.Errorf("no DHCPACK to the firmware's first request (user class iPXE) with siaddr %s and file stage1.ipxe; exchanges:%s",
			bootServer, describeAll(acks))
	}
	second := slices.IndexFunc(acks, func(e exchange) bool {
		uc := userClasses(e.request)
		return slices.Contains(uc, "iPXE") && slices.Contains(uc, chainMarker) && bootFile(e.reply) == url
	})
	if second < 0 {
		t.Errorf("no DHCPACK to the firmware's second request (user class iPXE, %s) with file %s; exchanges:%s",
			chainMarker, url, describeAll(acks))
	}
	if first >= 0 && second >= 0 && second < first {
		t.Errorf("the HTTP URL was acknowledged before the first stage; exchanges:%s", describeAll(acks))
	}
}

// TestNetbootBootfileURL runs the rig with what needs no client class:
// leased names the first stage as a full TFTP URL in option 67
// (bootfile-name), which iPXE follows even with siaddr 0; the first
// stage marks its user class, asks DHCP again and gets an answer, and
// chains a fixed HTTP URL.
func TestNetbootBootfileURL(t *testing.T) {
	requireNetboot(t)
	r := newNetbootRig(t, map[string]string{}, map[string]string{"boot.ipxe": httpScript})
	url := r.http.url + "/boot.ipxe"
	writeFile(t, filepath.Join(r.tftpDir, "stage1.ipxe"), stage1Script(url), 0o644)
	tftpURL := "tftp://" + bootServer + "/stage1.ipxe"
	cfg := filepath.Join(r.dir, "leased.yaml")
	writeFile(t, cfg, fmt.Sprintf(`interfaces: [eth0]
lease-time: 1h
subnets:
  - prefix: 198.18.0.0/24
    pools: [%s]
    options:
      routers: [%s]
      bootfile-name: "%s"
`, bootPool, bootServer, tftpURL), 0o644)
	startServer(t, r.server, newStore(t), "--config", cfg)

	r.startVM()
	r.waitBoot("the HTTP boot script to run", func() (bool, error) {
		return r.http.fetched("/boot.ipxe") && strings.Contains(r.consoleText(), httpScriptRuns), nil
	})

	if n := r.tftpSent("stage1.ipxe"); n != 1 {
		t.Errorf("the TFTP server sent stage1.ipxe %d times, want 1:\n%s", n, r.tftp.output())
	}
	acks, err := r.capture.acks()
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	for _, want := range [][]string{{"iPXE"}, {"iPXE", chainMarker}} {
		if !slices.ContainsFunc(acks, func(e exchange) bool {
			return slices.Equal(userClasses(e.request), want) && bootFile(e.reply) == tftpURL &&
				e.reply.YIAddr.IsValid() && !e.reply.YIAddr.IsUnspecified()
		}) {
			t.Errorf("no DHCPACK with an address and option 67 %s to a request with user class %q; exchanges:%s",
				tftpURL, want, describeAll(acks))
		}
	}
}
