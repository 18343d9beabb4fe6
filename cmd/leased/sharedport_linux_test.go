package main

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"leased/udp4"
)

// TestServerRefusesPortHeldByAnotherProcess: a second server on a port
// that another socket holds (SO_REUSEADDR lets it bind) refuses to start,
// names the process and says how to start anyway.
func TestServerRefusesPortHeldByAnotherProcess(t *testing.T) {
	held, err := udp4.Listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer held.Close()
	addr := held.LocalAddr().String()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := serverCommand(context.Background(), []string{"-i", "lo", "--range", "127.0.0.10-127.0.0.20", "--listen", addr,
		"--control", "", "--store", filepath.Join(dir, "store")}, &stdout, &stderr)
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	want := "port " + port + " on lo is held by process " + strconv.Itoa(os.Getpid())
	t.Logf("stderr: %s", stderr.String())
	if code != 1 || !strings.Contains(stderr.String(), want) ||
		!strings.Contains(stderr.String(), "start with --share-port") {
		t.Errorf("exit %d, stderr:\n%s\nwant status 1 and %q with the --share-port hint", code, stderr.String(), want)
	}
}
