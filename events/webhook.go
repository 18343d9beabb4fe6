package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// Headers of a webhook's POST.
const (
	// SignatureHeader holds "sha256=" and the hex HMAC-SHA256 of the body
	// under the shared secret.
	SignatureHeader = "X-Leased-Signature"
	// EventHeader holds the event's type.
	EventHeader = "X-Leased-Event"
)

// Webhook POSTs each event, as the JSON object of Record.AppendJSON, to a
// URL, retrying with backoff.
type Webhook struct {
	// URL receives the POSTs.
	URL string
	// Secret, when not empty, signs each body (SignatureHeader).
	Secret []byte
	// Timeout bounds each attempt.
	Timeout time.Duration
	// Retries is the number of attempts after the first.
	Retries int
	// Backoff is the wait before the first retry, doubled before each
	// next one up to a minute; 0 is one second.
	Backoff time.Duration
	// Client sends the requests; nil is a client of its own.
	Client *http.Client
	// Logger receives a line per failure.
	Logger *slog.Logger

	failed, timedOut atomic.Uint64
}

// Failed counts the events given up on after every attempt; TimedOut the
// attempts that ran out of time.
func (w *Webhook) Failed() uint64   { return w.failed.Load() }
func (w *Webhook) TimedOut() uint64 { return w.timedOut.Load() }

// Sign returns the value of SignatureHeader for body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Handle delivers r, retrying until an attempt is answered with a 2xx
// status, the attempts run out, or ctx ends. A 4xx answer other than 408
// and 429 is not retried: the receiver refuses the event.
func (w *Webhook) Handle(ctx context.Context, r *Record) {
	body := r.AppendJSON(nil)
	wait := w.Backoff
	if wait <= 0 {
		wait = time.Second
	}
	var err error
	for attempt := 0; attempt <= w.Retries; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wait = min(2*wait, time.Minute)
		}
		var retry bool
		retry, err = w.post(ctx, r, body)
		if err == nil {
			return
		}
		if !retry || ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return // stopping: not the receiver's failure
	}
	w.failed.Add(1)
	w.Logger.Warn("webhook failed", "event", r.Type.String(), "addr", addrString(r.Addr), "url", w.URL, "err", err)
}

// post makes one attempt; retry says whether another may succeed.
func (w *Webhook) post(ctx context.Context, r *Record, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(EventHeader, r.Type.String())
	if len(w.Secret) > 0 {
		req.Header.Set(SignatureHeader, Sign(w.Secret, body))
	}
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			w.timedOut.Add(1)
		}
		return true, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return false, nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return true, fmt.Errorf("status %s", resp.Status)
	default:
		return false, fmt.Errorf("status %s", resp.Status)
	}
}
