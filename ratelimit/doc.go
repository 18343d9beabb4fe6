// Package ratelimit holds token buckets for many keys in a table of fixed
// size, so that a flood of requests from ever new keys (random hardware
// addresses, forged relay addresses) costs a bounded amount of memory and
// no allocation per request.
//
// A bucket is kept in the form of the generic cell rate algorithm (GCRA,
// ITU-T I.371): one timestamp per key, the theoretical arrival time of
// its next request, which is equivalent to a token bucket of Limit.Burst
// tokens refilled at Limit.Rate tokens a second. The table is set
// associative: a key's hash picks a set of a few slots; a key not found
// there takes the slot whose bucket is the fullest, and a full bucket is
// exactly what a new key starts with, so evicting one loses nothing. Under
// a flood of new keys, each of which spent one token, the keys evicted
// first are those, while a key that floods on its own (an empty bucket)
// stays in the table and stays limited.
//
// Keys are hashed with a seed chosen at random per table (hash/maphash),
// so that a sender cannot choose keys that collide with another's.
//
// Not here: what the keys are (package netio builds them from clients and
// relay agents), counting and logging what is refused.
package ratelimit
