package control

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"leased/dhcpv4"
	"leased/history"
	"leased/server"
)

// whyFixture is an API over an engine whose pool of 198.19.0.0/24 (two
// addresses) is full, and a history of the decisions about its clients.
type whyFixture struct {
	eng    *server.Reloadable
	book   *history.Book
	client *Client
}

func newWhyFixture(t *testing.T, withHistory bool) *whyFixture {
	t.Helper()
	e, err := server.New(testConfig(), &testStore{}, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	f := &whyFixture{eng: server.NewReloadable(e), book: history.New(history.Options{Clients: 64})}
	opts := Options{Engine: f.eng, Clock: func() time.Time { return t0 }}
	if withHistory {
		opts.History = f.book
	}
	api, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	f.client = NewTCPClient(srv.Listener.Addr().String(), "")
	return f
}

// send hands p to the engine and notes the decision, as netio does.
func (f *whyFixture) send(t *testing.T, p *dhcpv4.Packet, in server.Arrival) server.Outcome {
	t.Helper()
	out := handle(t, f.eng, p, in)
	f.book.Note(t0, p, &in, &out)
	return out
}

func TestWhyExplainsEachClient(t *testing.T) {
	f := newWhyFixture(t, true)
	net1 := link("198.19.0.0/24")
	for _, m := range []byte{1, 2} {
		c := &dhcpClient{mac: mac(m)}
		a := c.discover(t, f.eng, net1)
		f.send(t, c.packet(dhcpv4.Request, func(o *dhcpv4.Options) {
			o.SetAddr(dhcpv4.OptServerID, net1.IfAddrs[0].Addr())
			o.SetAddr(dhcpv4.OptRequestedIP, a)
		}), net1)
	}
	if out := f.send(t, (&dhcpClient{mac: mac(3)}).packet(dhcpv4.Discover, nil), net1); out.Reason != server.ReasonExhausted {
		t.Fatalf("third client: %v, want pool-exhausted", out.Reason)
	}
	f.send(t, (&dhcpClient{mac: mac(4), cid: []byte{0xff, 9}}).packet(dhcpv4.Request, func(o *dhcpv4.Options) {
		o.SetAddr(dhcpv4.OptServerID, mustAddr("198.18.0.9"))
		o.SetAddr(dhcpv4.OptRequestedIP, mustAddr("198.19.0.100"))
	}), net1)

	tests := []struct {
		name, id  string
		verdict   string
		reason    string
		summary   string
		advice    string
		withLease bool
	}{
		{"pool full, by hardware address", "02:00:00:00:00:03", "silence", "pool-exhausted",
			"the pool 198.19.0.100-198.19.0.101 is full: 2 bound; the first lease ends at 06:06:07 UTC", "enlarge the pool or shorten lease-time", false},
		{"acknowledged, by address", "198.19.0.101", "ACK", "ack", "acknowledged 198.19.0.101 from 198.19.0.0/24", "", true},
		{"another server, by client identifier", "ff:09", "silence", "not-for-us", "names server 198.18.0.9, not us", "198.18.0.9", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := f.client.Why(context.Background(), tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if len(w.Clients) == 0 {
				t.Fatalf("no client for %s", tt.id)
			}
			c := w.Clients[0]
			d := c.Diagnosis
			if d.Verdict != tt.verdict || d.Reason != tt.reason || !strings.Contains(d.Summary, tt.summary) || !strings.Contains(d.Advice, tt.advice) {
				t.Errorf("diagnosis %+v\nwant %s %s %q %q", d, tt.verdict, tt.reason, tt.summary, tt.advice)
			}
			if len(c.History) == 0 || c.History[len(c.History)-1].Reason != tt.reason || c.History[len(c.History)-1].Detail == "" {
				t.Errorf("history %+v does not end with %s and its detail", c.History, tt.reason)
			}
			if (c.Lease != nil) != tt.withLease {
				t.Errorf("lease %+v, want one: %v", c.Lease, tt.withLease)
			}
			if w.Kept.Clients != 64 || w.Kept.PerClient != history.DefaultPerClient {
				t.Errorf("kept %+v", w.Kept)
			}
		})
	}
}

func TestWhyErrors(t *testing.T) {
	tests := []struct {
		name        string
		withHistory bool
		id          string
		code        int
		says        string
	}{
		{"a client never heard from", true, "02:00:00:00:00:77", http.StatusNotFound, "has not heard from it"},
		{"not hex, not an address", true, "nonsense", http.StatusBadRequest, "not a client identifier"},
		{"no history kept", false, "02:00:00:00:00:01", http.StatusNotFound, "keeps no client history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newWhyFixture(t, tt.withHistory)
			_, err := f.client.Why(context.Background(), tt.id)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.code || !strings.Contains(apiErr.Message, tt.says) {
				t.Errorf("error %v, want %d saying %q", err, tt.code, tt.says)
			}
		})
	}
}
