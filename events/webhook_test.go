package events

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestWebhookSignsAndRetries: each POST carries the event as JSON and a
// signature the receiver can check; failures are retried, up to Retries,
// and only a refusal (4xx) stops at once.
func TestWebhookSignsAndRetries(t *testing.T) {
	secret := []byte("s3cret")
	for _, tc := range []struct {
		name         string
		failFirst    int // attempts answered with failStatus
		failStatus   int
		retries      int
		wantAttempts int32
		wantFailed   uint64
	}{
		{"first attempt", 0, 0, 3, 1, 0},
		{"retried until it succeeds", 2, http.StatusServiceUnavailable, 3, 3, 0},
		{"retries run out", 10, http.StatusInternalServerError, 2, 3, 1},
		{"429 is retried", 1, http.StatusTooManyRequests, 1, 2, 0},
		{"refused, not retried", 10, http.StatusBadRequest, 3, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var attempts atomic.Int32
			var badSignature atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := attempts.Add(1)
				body, _ := io.ReadAll(r.Body)
				if !hmac.Equal([]byte(r.Header.Get(SignatureHeader)), []byte(Sign(secret, body))) || r.Header.Get(EventHeader) != "commit" {
					badSignature.Store(true)
				}
				var m map[string]string
				if json.Unmarshal(body, &m) != nil || m["address"] != "198.18.0.11" {
					badSignature.Store(true)
				}
				if int(n) <= tc.failFirst {
					w.WriteHeader(tc.failStatus)
				}
			}))
			defer srv.Close()
			w := &Webhook{URL: srv.URL, Secret: secret, Timeout: 5 * time.Second, Retries: tc.retries,
				Backoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
			w.Handle(context.Background(), record(Commit, "198.18.0.11"))
			if got := attempts.Load(); got != tc.wantAttempts {
				t.Errorf("attempts %d, want %d", got, tc.wantAttempts)
			}
			if w.Failed() != tc.wantFailed {
				t.Errorf("failed %d, want %d", w.Failed(), tc.wantFailed)
			}
			if badSignature.Load() {
				t.Error("a request had a wrong signature, event header or body")
			}
		})
	}
}

// TestWebhookTimesOut: a receiver that never answers costs one timeout
// per attempt, and the event is given up on.
func TestWebhookTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	w := &Webhook{URL: srv.URL, Timeout: 50 * time.Millisecond, Retries: 1, Backoff: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)}
	w.Handle(context.Background(), record(Expire, "198.18.0.12"))
	if w.TimedOut() != 2 || w.Failed() != 1 {
		t.Fatalf("timed out %d, failed %d; want 2, 1", w.TimedOut(), w.Failed())
	}
}
