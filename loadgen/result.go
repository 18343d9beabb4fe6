package loadgen

import "time"

// Result is what a run measured.
type Result struct {
	// Elapsed runs from the first exchange started to the end of the
	// sending, or to the last exchange completed if that came later.
	Elapsed time.Duration
	// DiscoverOnly is Config.DiscoverOnly: exchanges end at the OFFER.
	DiscoverOnly bool

	Started  uint64 // exchanges started: DISCOVERs sent
	Offers   uint64 // OFFERs answering a DISCOVER in progress
	Requests uint64 // REQUESTs sent
	Acks     uint64 // ACKs answering a REQUEST in progress
	Naks     uint64 // NAKs answering a REQUEST in progress

	// OfferTimeouts and AckTimeouts count DISCOVERs and REQUESTs left
	// unanswered for Config.Timeout: the exchange is lost.
	OfferTimeouts, AckTimeouts uint64
	// Unexpected counts replies that answer no exchange in progress:
	// late (after their timeout), repeated, of a type not awaited, or for
	// a hardware address or transaction ID not ours.
	Unexpected uint64
	// Malformed counts datagrams that are not DHCP replies.
	Malformed uint64
	// Skipped counts exchanges not started, in open loop, because every
	// simulated client had one in progress: the rate asked for was not
	// offered. Add clients or lower the rate.
	Skipped uint64
	// SendErrors counts datagrams the system refused to send; their
	// exchanges are abandoned (a DISCOVER that failed is not counted in
	// Started).
	SendErrors uint64
	// Conflicts counts ACKs of an address that the latest ACK had given
	// to another simulated client: a server that binds an address to two
	// clients at once.
	Conflicts uint64

	// Offer is the DISCOVER to OFFER delay, Ack the REQUEST to ACK delay
	// and Exchange the DISCOVER to ACK delay, of answered messages.
	Offer, Ack, Exchange Latency
}

// Completed returns the number of exchanges completed: ACKs, or OFFERs
// with DiscoverOnly.
func (r *Result) Completed() uint64 {
	if r.DiscoverOnly {
		return r.Offers
	}
	return r.Acks
}

// Rate returns the exchanges completed per second.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Completed()) / r.Elapsed.Seconds()
}

// Loss returns the fraction of exchanges started that did not complete:
// lost to a timeout, refused with a NAK or abandoned. 0 when none started.
func (r *Result) Loss() float64 {
	if r.Started == 0 {
		return 0
	}
	c := r.Completed()
	if c >= r.Started {
		return 0
	}
	return float64(r.Started-c) / float64(r.Started)
}

// Progress is a snapshot taken while a run goes on, for a progress line.
// Rates, the loss and the means are over the last interval; the counts are
// totals.
type Progress struct {
	Elapsed   time.Duration // since the run started
	Started   uint64        // exchanges started so far
	Completed uint64        // exchanges completed so far
	Lost      uint64        // exchanges lost to a timeout so far
	InFlight  int           // exchanges in progress now

	StartRate    float64 // exchanges started per second
	CompleteRate float64 // exchanges completed per second
	// Loss is the exchanges lost in the interval over those started in
	// it; as a lost exchange is noticed Config.Timeout after its start,
	// it lags the load by that much.
	Loss      float64
	OfferMean time.Duration // mean DISCOVER to OFFER delay
	AckMean   time.Duration // mean REQUEST to ACK delay
}
