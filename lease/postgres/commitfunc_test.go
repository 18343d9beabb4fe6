package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"leased/lease"
)

// TestCommitFunctionVersionsAgree checks that each version of
// leased_commit decides as version 1 did: the same calls refused with
// the same holders, the same records left in the table, and the same
// notifications, split at the same places (from version 3 on, the store
// sends them after the function returned). Later versions only make it
// faster.
func TestCommitFunctionVersionsAgree(t *testing.T) {
	if shared == nil {
		t.Skip("no PostgreSQL")
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	future, past := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond), time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	with := func(l lease.Lease, st lease.State) lease.Lease { l.State = st; return l }
	long := func(l lease.Lease) lease.Lease { l.Hostname = strings.Repeat("h", 250); return l }
	many := func(n int, client string) [][]lease.Lease {
		var calls [][]lease.Lease
		for i := range n {
			calls = append(calls, []lease.Lease{long(bound(fmt.Sprintf("198.18.%d.%d", 2+i/250, 1+i%250), fmt.Sprint(client, i), future))})
		}
		return calls
	}
	for _, tc := range []struct {
		name  string
		prior []lease.Lease   // committed first, one call each
		batch [][]lease.Lease // then these calls, in one batch
	}{
		{"one-record calls: free, renewed, held, ended, released, declined",
			[]lease.Lease{bound("198.18.1.2", "a", future), bound("198.18.1.3", "a", future), bound("198.18.1.4", "a", past),
				with(bound("198.18.1.5", "a", future), lease.Released), with(bound("198.18.1.6", "a", future), lease.Declined)},
			[][]lease.Lease{{bound("198.18.1.1", "b", future)}, {bound("198.18.1.2", "a", future.Add(time.Minute))},
				{bound("198.18.1.3", "b", future)}, {bound("198.18.1.4", "b", future)}, {bound("198.18.1.5", "b", future)},
				{bound("198.18.1.6", "b", future)}}},
		{"expiring a lease renewed elsewhere, and one that ended",
			[]lease.Lease{bound("198.18.1.1", "a", future), bound("198.18.1.2", "a", past)},
			[][]lease.Lease{{with(bound("198.18.1.1", "a", past), lease.Expired)}, {with(bound("198.18.1.2", "a", past), lease.Expired)}}},
		{"deletions: of a held lease, of one's own",
			[]lease.Lease{bound("198.18.1.1", "a", future), bound("198.18.1.2", "b", future)},
			[][]lease.Lease{{with(bound("198.18.1.1", "b", past), lease.Free)}, {with(bound("198.18.1.2", "b", past), lease.Free)}}},
		{"a call of several records applies all or none",
			[]lease.Lease{bound("198.18.1.3", "a", future)},
			[][]lease.Lease{{bound("198.18.1.1", "b", future), bound("198.18.1.2", "b", future)},
				{bound("198.18.1.4", "c", future), bound("198.18.1.3", "c", future)}}},
		{"two calls for one address in a batch: the second sees the first",
			[]lease.Lease{bound("198.18.1.2", "a", future)},
			[][]lease.Lease{{bound("198.18.1.1", "a", future)}, {bound("198.18.1.1", "b", future)},
				{with(bound("198.18.1.2", "a", future), lease.Released)}, {bound("198.18.1.2", "b", future)}}},
		{"notifications split under 7,900 bytes", nil, many(120, "c")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for v := 1; v <= len(ms); v++ {
				url := shared.NewDB(t)
				if err := migrateTo(context.Background(), Options{URL: url}, ms[:v], true, func(int, int) {}); err != nil {
					t.Fatal(err)
				}
				out := runCommitFunction(t, url, v, tc.prior, tc.batch)
				if v == 1 {
					got = out
					continue
				}
				for i := range max(len(out), len(got)) {
					if i >= len(out) || i >= len(got) || out[i] != got[i] {
						t.Errorf("version %d differs from version 1 at line %d:\n%s\nversion 1:\n%s", v, i, strings.Join(out, "\n"), strings.Join(got, "\n"))
						break
					}
				}
			}
			if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "table ") }) {
				t.Error("no record left in the table: the case checks nothing")
			}
		})
	}
}

// commitSQLv2 is the statement of schema versions 1 and 2, whose
// leased_commit took the channel and the records' notes, and notified.
const commitSQLv2 = `SELECT o_call, o_addr, o_client, o_hw_type, o_hw_addr, o_hostname, o_state, o_start, o_expiry
FROM leased_commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`

// commitSQLv3 is the statement of schema version 3, whose leased_commit
// took no DNS fields; version 4 keeps it for the servers of version 3.
const commitSQLv3 = `SELECT o_call, o_addr, o_client, o_hw_type, o_hw_addr, o_hostname, o_state, o_start, o_expiry
FROM leased_commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

// runCommitFunction commits prior (a call each) and then calls through
// leased_commit of schema version v on url, and returns what the
// function returned for the batch, the table's records, and the
// notifications of the batch, one per line, leaving out the database's
// clock. From version 3 on, it sends the notifications as the store
// does, after the function returned.
func runCommitFunction(t *testing.T, url string, v int, prior []lease.Lease, calls [][]lease.Lease) []string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var b *batch
	call := func(cs [][]lease.Lease) pgx.Rows {
		b = newBatch()
		for _, ls := range cs {
			b.add(nil, "srv", ls)
		}
		query, args := commitSQL, b.args("srv")
		switch {
		case v < 3:
			query = commitSQLv2
			args = append([]any{args[0], channel}, append(args[1:10], textArray(b.notes))...)
		case v == 3:
			query, args = commitSQLv3, args[:10]
		}
		rows, err := c.Query(ctx, query, args...)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	var pc [][]lease.Lease
	for _, l := range prior {
		pc = append(pc, []lease.Lease{l})
	}
	rows := call(pc)
	rows.Close()
	if _, err := c.Exec(ctx, "LISTEN "+channel); err != nil {
		t.Fatal(err)
	}
	var out []string
	rows = call(calls)
	refused := make(map[int32]*lease.ConflictError)
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		if v >= 4 {
			// The holder's DNS fields, which the test's leases do not have.
			if dns := fmt.Sprint(vals[9:]); dns != "[ 0 0]" {
				t.Errorf("version %d: the holder's DNS fields are %s", v, dns)
			}
			vals = vals[:9]
		}
		out = append(out, fmt.Sprint("refused ", vals))
		refused[vals[0].(int32)] = &lease.ConflictError{}
	}
	if rows.Close(); rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if v >= 3 {
		if _, err := c.Exec(ctx, notifySQL, channel, b.payloads("srv", refused, nil)); err != nil {
			t.Fatal(err)
		}
	}
	rows, err = c.Query(ctx, `SELECT addr, client_id, hw_type, hw_addr, hostname, state, start_time, expiry, server FROM leased_leases ORDER BY addr`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint("table ", vals))
	}
	if rows.Close(); rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	// A session's notifications arrive in order: this one comes last.
	if _, err := c.Exec(ctx, "NOTIFY "+channel+", 'end'"); err != nil {
		t.Fatal(err)
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := c.WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if n.Payload == "end" {
			return out
		}
		out = append(out, fmt.Sprintf("notify %d %s", len(n.Payload), n.Payload))
	}
}
