// Package atomicfile replaces small files whole: a reader, or the file
// system after a crash, sees either the old content or the new one, never
// a mix or a truncated file.
//
// It is for the small state files of leased that are rewritten whole: the
// client's lease file and the server's run-time reservations. It is not
// for the lease store (package lease/journal keeps its own log with group
// commit) and not for files other processes append to.
//
// It implements no RFC. It relies on POSIX rename(2) replacing the target
// atomically and on fsync(2) of the file and of its directory making the
// content and the rename durable.
package atomicfile
