package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Client talks to a running server's control API. Its methods are safe
// for concurrent use.
type Client struct {
	base   string // scheme and host of every request
	where  string // for messages: the socket or address
	socket string // the Unix socket's path; empty over TCP
	token  string
	http   *http.Client
}

// NewUnixClient returns a client of the API on the Unix socket at path.
func NewUnixClient(path string) *Client {
	d := net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		},
		DisableCompression: true,
	}
	return &Client{base: "http://leased", where: path, socket: path, http: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// NewTCPClient returns a client of the API at the TCP address addr
// (host:port) that sends token, if not empty, as a bearer token.
func NewTCPClient(addr, token string) *Client {
	tr := &http.Transport{
		DialContext:        (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		DisableCompression: true,
		Proxy:              nil,
	}
	return &Client{base: "http://" + addr, where: addr, token: token, http: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// APIError is an error answer of the API.
type APIError struct {
	// StatusCode is the HTTP status: 400, 401, 404, 409, 422, 500, ...
	StatusCode int
	// Message is the server's explanation.
	Message string
}

// Error returns the server's message.
func (e *APIError) Error() string { return e.Message }

// maxResponse bounds the answers the client reads.
const maxResponse = 64 << 20

// do sends a request and decodes the JSON answer into out (unless nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if c.socket != "" && errors.Is(err, syscall.EACCES) {
			return fmt.Errorf("cannot reach the leased control API at %s: %w; %s", c.where, err, socketAccess(c.socket))
		}
		return fmt.Errorf("cannot reach the leased control API at %s (is the server running, and is this its --control?): %w", c.where, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("control API at %s: %w", c.where, err)
	}
	if resp.StatusCode >= 300 {
		var e errorBody
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(resp.Status + ": " + string(data))
		}
		return &APIError{StatusCode: resp.StatusCode, Message: e.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("control API at %s: %s %s: %w", c.where, method, path, err)
	}
	return nil
}

// Status returns the server's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, nil, &st)
	return st, err
}

// Leases returns one page of the leases q selects.
func (c *Client) Leases(ctx context.Context, q LeaseQuery) (LeasePage, error) {
	var p LeasePage
	err := c.do(ctx, http.MethodGet, "/v1/leases", q.Values(), nil, &p)
	return p, err
}

// AllLeases returns every lease q selects, following the pages from
// q.After on.
func (c *Client) AllLeases(ctx context.Context, q LeaseQuery) ([]Lease, error) {
	var all []Lease
	for {
		p, err := c.Leases(ctx, q)
		if err != nil {
			return all, err
		}
		all = append(all, p.Leases...)
		if !p.Next.IsValid() {
			return all, nil
		}
		q.After = p.Next
	}
}

// Lease returns the lease of address a.
func (c *Client) Lease(ctx context.Context, a netip.Addr) (Lease, error) {
	var l Lease
	err := c.do(ctx, http.MethodGet, "/v1/leases/"+a.String(), nil, nil, &l)
	return l, err
}

// ClientLease returns the lease of the client whose identifier or
// hardware address, in hex, is id.
func (c *Client) ClientLease(ctx context.Context, id string) (Lease, error) {
	var l Lease
	err := c.do(ctx, http.MethodGet, "/v1/clients/"+url.PathEscape(id)+"/lease", nil, nil, &l)
	return l, err
}

// Release ends the lease of address a now, and returns it as it is then.
func (c *Client) Release(ctx context.Context, a netip.Addr) (Lease, error) {
	var l Lease
	err := c.do(ctx, http.MethodPost, "/v1/leases/"+a.String()+"/release", nil, nil, &l)
	return l, err
}

// Reservations returns the reservations; source, when not empty, keeps
// those of one source (SourceConfig or SourceRuntime).
func (c *Client) Reservations(ctx context.Context, source string) ([]Reservation, error) {
	var out struct {
		Reservations []Reservation `json:"reservations"`
	}
	var q url.Values
	if source != "" {
		q = url.Values{"source": {source}}
	}
	err := c.do(ctx, http.MethodGet, "/v1/reservations", q, nil, &out)
	return out.Reservations, err
}

// AddReservation adds a run-time reservation and returns it.
func (c *Client) AddReservation(ctx context.Context, r NewReservation) (Reservation, error) {
	var out Reservation
	err := c.do(ctx, http.MethodPost, "/v1/reservations", nil, r, &out)
	return out, err
}

// RemoveReservation removes the run-time reservation of address a and
// returns it.
func (c *Client) RemoveReservation(ctx context.Context, a netip.Addr) (Reservation, error) {
	var out Reservation
	err := c.do(ctx, http.MethodDelete, "/v1/reservations/"+a.String(), nil, nil, &out)
	return out, err
}

// Pools returns the utilisation of every subnet and pool.
func (c *Client) Pools(ctx context.Context) ([]SubnetPools, error) {
	var out struct {
		Subnets []SubnetPools `json:"subnets"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/pools", nil, nil, &out)
	return out.Subnets, err
}

// Reload makes the server reload its configuration file. A refusal is an
// *APIError whose message holds the validation error.
func (c *Client) Reload(ctx context.Context) (ReloadResult, error) {
	var out ReloadResult
	err := c.do(ctx, http.MethodPost, "/v1/reload", nil, nil, &out)
	return out, err
}
