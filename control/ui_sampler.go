package control

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file is the dashboard's memory of the last hour: every
// SampleInterval, the decisions counted so far and each subnet's
// utilisation, for the charts.

// Sampling of the dashboard's charts.
const (
	// SampleInterval is the time between two samples.
	SampleInterval = 10 * time.Second
	// SampleCount is the number of samples kept: one hour.
	SampleCount = 360
)

// sample is the server's numbers at one time.
type sample struct {
	at time.Time
	// requests counts every decision since the server started.
	requests uint64
	// use is each subnet's used addresses and size.
	use map[netip.Prefix][2]int
}

// sampler is a ring of the last SampleCount samples.
type sampler struct {
	mu   sync.Mutex
	ring [SampleCount]sample
	n    int // samples taken, ever
}

// Sample records the server's numbers now: the decisions counted
// (Options.Outcomes) and the utilisation of each subnet. RunSampler calls
// it every SampleInterval.
func (s *Server) Sample() {
	smp := sample{at: s.opts.Clock(), use: map[netip.Prefix][2]int{}}
	if s.opts.Outcomes != nil {
		for _, n := range s.opts.Outcomes() {
			smp.requests += n
		}
	}
	for _, st := range s.opts.Engine.PoolStats() {
		smp.use[st.Prefix] = [2]int{st.Used, st.Size}
	}
	s.samples.mu.Lock()
	s.samples.ring[s.samples.n%SampleCount] = smp
	s.samples.n++
	s.samples.mu.Unlock()
}

// RunSampler takes a sample at once and every SampleInterval until ctx
// ends.
func (s *Server) RunSampler(ctx context.Context) {
	s.Sample()
	t := time.NewTicker(SampleInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sample()
		}
	}
}

// history returns the samples kept, oldest first.
func (sp *sampler) history() []sample {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	n := min(sp.n, SampleCount)
	out := make([]sample, 0, n)
	for i := sp.n - n; i < sp.n; i++ {
		out = append(out, sp.ring[i%SampleCount])
	}
	return out
}

// latest returns the latest sample, if any.
func (sp *sampler) latest() (sample, bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.n == 0 {
		return sample{}, false
	}
	return sp.ring[(sp.n-1)%SampleCount], true
}

// point is one point of a chart: a time and a value.
type point struct {
	at time.Time
	v  float64
}

// requestRates returns the requests per second between each two samples.
// A counter that went back (a restart of the counting) gives 0.
func requestRates(smp []sample) []point {
	var out []point
	for i := 1; i < len(smp); i++ {
		dt := smp[i].at.Sub(smp[i-1].at).Seconds()
		if dt <= 0 {
			continue
		}
		rate := 0.0
		if smp[i].requests >= smp[i-1].requests {
			rate = float64(smp[i].requests-smp[i-1].requests) / dt
		}
		out = append(out, point{smp[i].at, rate})
	}
	return out
}

// utilisation returns the utilisation of subnet p in percent at each
// sample that knew it.
func utilisation(smp []sample, p netip.Prefix) []point {
	var out []point
	for i := range smp {
		if u, ok := smp[i].use[p]; ok && u[1] > 0 {
			out = append(out, point{smp[i].at, 100 * float64(u[0]) / float64(u[1])})
		}
	}
	return out
}

// chart is a line chart drawn as an SVG polyline.
type chart struct {
	// Width and Height are the size of the SVG's view box.
	Width, Height int
	// Points is the polyline's points attribute; "" when there are no
	// points.
	Points string
	// Max is the value at the top of the chart; Last the latest value.
	Max, Last float64
}

// drawChart draws pts over the span that ends at now, values from 0 (the
// bottom) to top, or to their largest when top is 0.
func drawChart(pts []point, now time.Time, span time.Duration, width, height int, top float64) chart {
	c := chart{Width: width, Height: height, Max: top}
	if c.Max == 0 {
		for _, p := range pts {
			c.Max = max(c.Max, p.v)
		}
		if c.Max == 0 {
			c.Max = 1
		}
	}
	var b strings.Builder
	start := now.Add(-span)
	for _, p := range pts {
		if p.at.Before(start) {
			continue
		}
		x := float64(width) * float64(p.at.Sub(start)) / float64(span)
		y := float64(height) - float64(height)*min(p.v, c.Max)/c.Max
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(min(x, float64(width)), 'f', 1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
		c.Last = p.v
	}
	c.Points = b.String()
	return c
}

// Label says what the chart shows, for those who cannot see it.
func (c chart) Label(what string) string {
	if c.Points == "" {
		return "no samples yet"
	}
	return fmt.Sprintf("%s: now %.1f, at most %.1f", what, c.Last, c.Max)
}
