package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"leased/lease"
)

// TestBatchCostsOneAllocationPerLease checks that adding a lease to a
// batch and encoding the batch's arrays for leased_commit costs one
// allocation per lease (its note's string) once the batch's arrays have
// grown: pgx boxes no element, and the bytes of the leases are copied
// into buffers that batches reuse.
func TestBatchCostsOneAllocationPerLease(t *testing.T) {
	m := pgtype.NewMap()
	oids := []uint32{pgtype.Int4ArrayOID, pgtype.InetArrayOID, pgtype.ByteaArrayOID, pgtype.Int2ArrayOID,
		pgtype.ByteaArrayOID, pgtype.ByteaArrayOID, pgtype.Int2ArrayOID, pgtype.TimestamptzArrayOID,
		pgtype.TimestamptzArrayOID, pgtype.TextArrayOID, pgtype.Int2ArrayOID, pgtype.Int2ArrayOID}
	allocs := func(n int) float64 {
		ls := make([]lease.Lease, n)
		for i := range ls {
			ls[i] = bound(fmt.Sprintf("198.18.%d.%d", 1+i/250, 1+i%250), fmt.Sprint("client", i), t0.Add(time.Hour))
			if i%2 == 0 {
				ls[i].FQDN = fmt.Sprint("client", i, ".example.net")
				ls[i].DNS, ls[i].DNSState = lease.DNSForward|lease.DNSReverse, lease.DNSAdded
			}
		}
		b := newBatch()
		var buf []byte
		run := func() {
			b.reset()
			for i := range ls {
				b.add(nil, "srv", ls[i:i+1])
			}
			for i, a := range b.args("srv")[1:] {
				var err error
				if buf, err = m.Encode(oids[i], pgtype.BinaryFormatCode, a, buf[:0]); err != nil {
					t.Fatal(err)
				}
			}
		}
		run() // grow the arrays and the buffers
		return testing.AllocsPerRun(20, run)
	}
	few, many := allocs(10), allocs(300)
	if per := (many - few) / 290; per > 1.01 {
		t.Errorf("%.2f allocations per lease (%.0f for 10 leases, %.0f for 300), want 1", per, few, many)
	}
}
