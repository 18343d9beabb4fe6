package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/control"
	"leased/dhcpv4"
	"leased/history"
	"leased/lease"
	"leased/server"
)

// whySocket serves a control API whose engine has a pool of one address,
// bound to 02:00:00:00:00:01, and whose history holds that client's
// DORA and 02:00:00:00:00:02's DISCOVER, refused for want of an address;
// the second client is in the client class "lab".
func whySocket(t *testing.T) string {
	t.Helper()
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	cfg := &config.Config{
		OfferHold: 30 * time.Second, DeclineProbation: time.Minute, Defaults: config.SubnetDefaults{LeaseTime: time.Hour},
		Subnets: []config.Subnet{{Prefix: netip.MustParsePrefix("198.18.0.0/24"), LeaseTime: time.Hour,
			Pools: []config.Range{{First: netip.MustParseAddr("198.18.0.100"), Last: netip.MustParseAddr("198.18.0.100")}}}},
		ClientClasses: []config.ClientClass{{Name: "lab", Match: config.ClassMatch{Kind: config.MatchHWPrefix, Text: "\x02\x00\x00\x00\x00\x02"}}},
	}
	eng, err := server.New(cfg, &lease.Memory{}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	book := history.New(history.Options{Clients: 16})
	in := server.Arrival{IfIndex: 2, IfName: "eth0", IfAddrs: []netip.Prefix{netip.MustParsePrefix("198.18.0.1/24")}}
	send := func(n byte, typ dhcpv4.MessageType, want server.Reason) {
		var req, reply dhcpv4.Packet
		req.Op, req.XID = dhcpv4.BootRequest, uint32(n)
		req.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, n})
		req.Options.SetMessageType(typ)
		if typ == dhcpv4.Request {
			req.Options.SetAddr(dhcpv4.OptServerID, netip.MustParseAddr("198.18.0.1"))
			req.Options.SetAddr(dhcpv4.OptRequestedIP, netip.MustParseAddr("198.18.0.100"))
		}
		out := eng.Handle(context.Background(), &req, in, &reply)
		if out.Reason != want {
			t.Fatalf("%v of client %d: %v, want %v", typ, n, out.Reason, want)
		}
		book.Note(now, &req, &in, &out)
	}
	send(1, dhcpv4.Discover, server.ReasonOffer)
	send(1, dhcpv4.Request, server.ReasonAck)
	send(2, dhcpv4.Discover, server.ReasonExhausted)

	dir, err := os.MkdirTemp("", "leased-why-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket := filepath.Join(dir, "control.sock")
	api, err := control.NewServer(control.Options{Engine: eng, Clock: func() time.Time { return now }, History: book})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := control.ListenUnix(socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { control.Serve(ctx, ln, api, nil); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return socket
}

func TestWhyCommand(t *testing.T) {
	socket := whySocket(t)
	tests := []struct {
		name  string
		args  []string
		code  int
		says  []string // in stdout, or in stderr when code is not 0
		lacks []string
	}{
		{"pool full, by hardware address", []string{"why", "02:00:00:00:00:02"}, 0, []string{
			"client 01020000000002 (hardware address 02:00:00:00:00:02)", "lease: none",
			"DISCOVER", "CLASSES", "lab", "silence", "pool-exhausted",
			"diagnosis: silence (pool-exhausted): the pool 198.18.0.100-198.18.0.100 is full: 1 bound; the first lease ends at 08:08:09 UTC",
			"what to do: enlarge the pool or shorten lease-time"}, nil},
		{"a bound client, by address", []string{"why", "198.18.0.100"}, 0, []string{
			"lease: 198.18.0.100 bound in 198.18.0.0/24, until 2026-05-06T08:08:09Z", "OFFER", "ACK",
			"diagnosis: ACK (ack): acknowledged 198.18.0.100 from 198.18.0.0/24"}, []string{"CLASSES"}},
		{"a client never heard from", []string{"why", "02:00:00:00:00:09"}, 1, []string{"has not heard from it"}, nil},
		{"no argument", []string{"why"}, 2, []string{"missing argument"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append(tt.args, "--control", socket), &out, &errb)
			text := out.String()
			if tt.code != 0 {
				text = errb.String()
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, errb.String())
			}
			for _, s := range tt.says {
				if !strings.Contains(text, s) {
					t.Errorf("output does not say %q:\n%s", s, text)
				}
			}
			for _, s := range tt.lacks {
				if strings.Contains(text, s) {
					t.Errorf("output says %q:\n%s", s, text)
				}
			}
		})
	}
}

func TestWhyCommandJSON(t *testing.T) {
	socket := whySocket(t)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"why", "--json", "02:00:00:00:00:02", "--control", socket}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var w control.Why
	if err := json.Unmarshal(out.Bytes(), &w); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if len(w.Clients) != 1 || w.Clients[0].Diagnosis.Reason != "pool-exhausted" || len(w.Clients[0].History) != 1 ||
		w.Clients[0].History[0].Subnet != netip.MustParsePrefix("198.18.0.0/24") || w.Clients[0].History[0].Classes != "lab" {
		t.Errorf("JSON %s", out.String())
	}
}
