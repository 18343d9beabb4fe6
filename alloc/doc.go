// Package alloc keeps the free-address sets of one subnet's dynamic pools
// and chooses the next address to hand out.
//
// A Pool covers all the address ranges (first-last, inclusive) configured
// for one subnet. Every address of every range is either free or taken. The
// server engine Takes the addresses that are in use (bound, offered,
// reserved, declined: whatever its reasons) and Frees them when they come
// back; Next takes a free address chosen by the policy below. The pool does
// not know why an address is taken.
//
// # Not here
//
// Reservations, offers, leases, probation of declined addresses and the
// RFC 2131 §4.3.1 order of preference (reservation, current binding,
// previous address, requested address, then the pool) are the server
// engine's business (package server); lease records and their durability
// belong to package lease. The pool holds no locks, does no I/O, keeps no
// clock and persists nothing: after a restart the engine rebuilds it from
// the lease store by Taking every address in use. IPv6 is out of scope.
//
// # Allocation policy
//
// RFC 2131 §2.2 asks a server to try to give a client the same address
// every time and suggests reusing the least recently assigned address. A
// Pool therefore avoids handing an address that just came back straight to
// someone else, so that its previous holder has the longest possible time
// to ask for it again. It does so with a next-fit cursor that sweeps round
// the pool in laps:
//
//   - The addresses of all ranges form one sequence in ascending order.
//     Next returns the first free address at or after the cursor and moves
//     the cursor just past it. When no address it may return is left
//     between the cursor and the end of the sequence, the cursor wraps to
//     the first address and a new lap begins.
//   - An address freed during a lap is not returned by Next again in the
//     same lap. An address freed behind the cursor needs nothing for this:
//     the cursor has already passed it. An address freed at or ahead of the
//     cursor is put in quarantine and skipped once, when the cursor reaches
//     it, and so is returned in a later lap at the earliest.
//
// Hence, after Free(a), Next returns every address that has been free
// since the current lap began (never used, or freed in an earlier lap)
// before it returns a, and within a lap addresses come in ascending order.
//
// The quarantine is bounded so that a pool keeps to about one bit per
// address: it holds at most Size()/2048 addresses, but at least 32 (or
// Size(), if smaller). When more addresses than that are freed ahead of
// the cursor in one lap, those freed earliest leave the quarantine first
// and are treated like any other free address: Next returns them when the
// cursor reaches them.
//
// Take never moves the cursor. Seek moves it and begins a new lap there;
// the engine can use it after a restart to continue where it left off
// rather than at the first address.
//
// # Cost
//
// The free set is a bitmap with one bit per address and summary levels
// above it (one bit per non-empty word of the level below), so Next finds
// the next free address in a few word operations even in a nearly full /8,
// and Take, Free, IsFree and Contains are a binary search over the ranges
// plus a constant number of word operations. None of them allocates. A /8
// pool uses about 2.2 MiB, 1.1 bits per address, quarantine included.
//
// # Concurrency
//
// A Pool is not safe for concurrent use. The server engine keeps one Pool
// per subnet and guards it with that subnet's mutex.
package alloc
