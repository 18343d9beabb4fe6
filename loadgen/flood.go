package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"leased/dhcpv4"
	"leased/udp4"
)

// FloodResult is what Flood measured.
type FloodResult struct {
	// Sent is the number of DHCPDISCOVERs sent, SendErrors those the
	// socket refused.
	Sent, SendErrors uint64
	// Offers and OtherReplies count the replies received (until the end
	// of the flood and Config.Timeout after it).
	Offers, OtherReplies uint64
	// Elapsed is the time the flood was sent over.
	Elapsed time.Duration
}

// Rate returns the DHCPDISCOVERs sent per second.
func (r *FloodResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

// Flood sends DHCPDISCOVERs from random hardware addresses, a new one
// each, relayed from cfg.GIAddr, as fast as the socket takes them (or at
// cfg.Rate when it is set), until cfg.Duration has passed, cfg.Count
// were sent or ctx ends; it takes nothing it is offered. This is the
// flood that drains a pool that holds every offer and that no per-client
// limit stops: each DHCPDISCOVER comes from a client never seen before.
// It uses cfg's Server, Local, GIAddr, Rate, Duration, Count, Timeout,
// Batch, Buffer and Clock; the fields of simulated clients are ignored.
// Point it only at a server run for the test, on a network of its own.
func Flood(ctx context.Context, cfg Config) (*FloodResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	tmpl, err := newTemplate(dhcpv4.Discover, cfg.GIAddr, false)
	if err != nil {
		return nil, err
	}
	conn, err := listen(cfg.Local, cfg.Buffer)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	reader, err := udp4.NewReader(conn, cfg.Batch, 1500)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	writer, err := udp4.NewWriter(conn)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	var offers, others atomic.Uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		countReplies(reader, &offers, &others)
	}()
	res := &FloodResult{}
	start := cfg.Clock()
	floodSend(ctx, &cfg, &tmpl, writer, start, res)
	res.Elapsed = cfg.Clock().Sub(start)
	// The replies in flight, then the receiver stops with the socket.
	wait := time.NewTimer(cfg.Timeout)
	select {
	case <-ctx.Done():
	case <-wait.C:
	}
	wait.Stop()
	conn.Close()
	wg.Wait()
	res.Offers, res.OtherReplies = offers.Load(), others.Load()
	return res, nil
}

// floodSend sends the flood's DHCPDISCOVERs in batches and counts them in
// res.
func floodSend(ctx context.Context, cfg *Config, tmpl *template, w *udp4.Writer, start time.Time, res *FloodResult) {
	out := udp4.NewBatch(cfg.Batch, len(tmpl.msg))
	rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), 0x6c65617365640a))
	for ctx.Err() == nil {
		elapsed := cfg.Clock().Sub(start)
		if (cfg.Duration > 0 && elapsed >= cfg.Duration) || (cfg.Count > 0 && res.Sent+res.SendErrors >= cfg.Count) {
			return
		}
		n := uint64(cfg.Batch)
		if cfg.Count > 0 {
			n = min(n, cfg.Count-res.Sent-res.SendErrors)
		}
		if cfg.Rate > 0 {
			due := uint64(cfg.Rate*elapsed.Seconds()) + 1
			if due <= res.Sent+res.SendErrors {
				time.Sleep(min(maxWait, time.Duration(float64(time.Second)/cfg.Rate)))
				continue
			}
			n = min(n, due-res.Sent-res.SendErrors)
		}
		out.Reset()
		for range n {
			var mac [macLen]byte
			v := rng.Uint64()
			for i := range mac {
				mac[i] = byte(v >> (8 * i))
			}
			mac[0] = mac[0]&^1 | 2 // unicast, locally administered
			buf := out.Buf()[:len(tmpl.msg)]
			tmpl.fill(buf, uint32(v>>48)|uint32(rng.Uint32())<<16, &mac, netip.Addr{}, netip.Addr{})
			out.Push(buf, cfg.Server, 0)
		}
		for sent := 0; sent < out.Len(); {
			k, err := w.Write(out, sent, out.Len())
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				res.SendErrors++ // the datagram at sent was refused
				k++
			} else {
				res.Sent += uint64(k)
			}
			sent += k
		}
	}
}

// countReplies counts the replies read until the socket is closed.
func countReplies(r *udp4.Reader, offers, others *atomic.Uint64) {
	var p dhcpv4.Packet
	for {
		got, err := r.Read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		for i := range got {
			if dhcpv4.Parse(got[i].Data, &p) == nil && p.MessageType() == dhcpv4.Offer {
				offers.Add(1)
			} else {
				others.Add(1)
			}
		}
	}
}
