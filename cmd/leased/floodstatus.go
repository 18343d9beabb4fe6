package main

import (
	"fmt"
	"io"

	"leased/control"
)

// printFloodStatus prints the line of "leased status" about floods, when
// there were some: the requests the rate limits dropped and the offers
// made beyond the offer limit without holding their address.
func printFloodStatus(w io.Writer, st control.Status) {
	limited, unheld := st.Outcomes["rate-limited"], st.Outcomes["offer-unheld"]
	if limited > 0 || unheld > 0 {
		fmt.Fprintf(w, "floods:\t%d requests dropped by the rate limits (rate-limited), %d offers beyond the offer limit not held (offer-unheld)\n",
			limited, unheld)
	}
}
