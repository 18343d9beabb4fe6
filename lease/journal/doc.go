// Package journal is leased's default lease store: durable, embedded in
// the server process, with no service to run beside it. It implements
// lease.Store.
//
// Its promise: a lease whose Commit returned nil survives any crash,
// power loss or restart, and Commit does not cost one fsync per lease.
//
// It is for one server on one machine. It is not a database: there is no
// query but All, no index but the address, and no sharing between
// servers (a lock file refuses a second one); a store shared by several
// servers is another package's job. It implements no RFC: the file
// format below is its own.
//
// # How it works
//
// The store keeps the latest record of every address in memory, packed
// as its encoded bytes in large chunks (a few tens of bytes per lease, no
// pointers), and on disk as a snapshot plus append-only logs.
//
// Group commit: Commit encodes its records into the pending batch and
// waits. One writer goroutine takes everything pending, writes it with
// one write(2), syncs it with one fdatasync(2), applies it to memory, and
// only then wakes every committer of the batch. While it writes, the next
// batch fills up, so batches grow with the load. A caller whose context
// ends stops waiting; its records may still become durable.
//
// DNS confirmations: the lease store is the durable queue of DNS
// updates. A record keeps its FQDN, its DNS records and its DNS state,
// and the DNS updater, once it has made a record's updates, confirms
// them with ConfirmDNS. That sets the state of the record in memory at
// once, when the record still has the Start confirmed, and adds a small
// confirmation record to the pending batch without waiting for it to be
// written: it goes to the log with the next commits, under their
// fdatasync, or, when no commit comes within Options.ConfirmFlush (1 s),
// in a batch of its own, written and synced by the writer with nobody
// waiting; Close writes it too. A commit never waits for a
// confirmation, except when it arrives while a batch of confirmations
// alone is being synced, as it would wait for any batch in flight. A
// crash loses the confirmations not yet synced: the updates of those
// records are made again after the restart, which is harmless. Every
// batch is still synced before the next is written, so recovery's
// rules stay as they are.
//
// Compaction: when the logs that recovery would replay outgrow the live
// records (Options.CompactRatio, Options.CompactMinBytes), the writer
// starts a new log of the next generation N, copies the address map, and
// a background goroutine writes the snapshot of that copy: to
// snapshot.tmp, fdatasync, rename to snapshot, fsync of the directory.
// Commits go on into log N meanwhile; the writer notes which addresses
// they change and carries those over when it installs the compacted
// state. Then the logs before N are removed.
//
// Recovery: Open loads the snapshot of generation G, then replays logs G,
// G+1, ... in order; logs older than G are left-overs of a compaction and
// are removed, as is a snapshot.tmp. A crash at any step of a compaction
// leaves a directory that recovers to the same records: before the
// rename, the old snapshot and all the logs after it are there; after it,
// the new snapshot and the new log are. Only the last batch of the last
// log can be incomplete, since each batch is synced before the next is
// written; such a torn tail is ignored. Anything else that is not as
// written (a bad checksum, a gap in the log generations, a short
// snapshot) is corruption: Open fails with a *CorruptError that names the
// file and offset, unless Options.Salvage is set.
//
// Open writes nothing that it needs, so that a store that opened once
// opens again whatever the state of the disk (full, failing): when the
// last log ends cleanly the writer appends to it; when it ends in a torn
// batch it is left as it is, and the writer starts a new log after it
// (see Files: the new log's header says where the old one ends); a last
// log without a whole header (a crash or a full disk while it was
// created; it holds nothing) is not replayed and is made anew. If that
// new log cannot be written, Open still succeeds, with a store that is
// not writable yet and repairs itself as below. Only a salvage writes
// before Open returns.
//
// Recovery never builds on bytes that may exist only in memory. Before
// reading the last log, Open fdatasyncs it (a killed process's writes
// reach the disk, or fail) and then asks the kernel to drop its clean
// cached pages (posix_fadvise POSIX_FADV_DONTNEED), so that it reads what
// the disk holds. This matters after a failed fdatasync: Linux marks the
// pages clean without writing them, and a new process on the same kernel
// would otherwise read the failed batch from the page cache, take it for
// valid, append after it, and find a hole there after the next reboot,
// with the failed commit meanwhile back as bound. Dropping the pages was
// chosen over O_DIRECT reads, which need aligned buffers and are not
// supported by every file system, and over always starting from a fresh
// snapshot, which needs room for the snapshot and still keeps the failed
// commit. On systems other than Linux the pages are not dropped: a
// restart after a failed fsync, without a reboot in between, may read a
// failed batch as written.
//
// Write errors: after a failed write or fdatasync (disk full, I/O error)
// the commits of that batch fail, the error is logged once for the burst
// (nothing is logged per refused commit) and counted, Stats.Writable
// turns false, and the log is not trusted again. Retrying an fdatasync
// that failed proves nothing (the kernel may have dropped the pages and
// cleared the error), and the log may end in a partial batch. Instead,
// the writer repairs the store after a pause (Options.RetryInterval,
// doubling up to 1 s), whether commits come or not; commits in the pause
// fail at once. The repair starts a new log whose header records where
// the synced batches of the suspect log end: recovery reads the suspect
// log up to there and ignores the rest. It needs room for a log header
// and the next batch only; memory holds exactly the records of the
// synced batches, the same that recovery reads. The snapshot that makes
// the suspect log obsolete is written by a compaction that starts right
// after the repair, and retried later if there is no room for it. A
// failed compaction never stops commits: the current log has room
// (it is filled ahead), so commits go on into it.
//
// Filling ahead (see Files) is not needed for durability: when there is
// no room for the zeros, the batch's own fdatasync decides, and the log
// grows by the batch alone.
//
// A failed commit does not come back, with one exception that the store
// cannot tell apart: when its batch reached the page cache whole (its
// write succeeded and the disk kept the data although fdatasync failed,
// or the process was killed during its fdatasync) and the process stops
// before the store commits anything else, the next Open may read the
// batch as written. Then it comes back as its own records only, the bindings its
// own clients asked for, which later commits override as usual; it
// never hides or breaks a record acknowledged before or after it. A
// commit whose context ended is in the same case.
//
// # Files
//
// A store is a directory holding:
//
//	lock                  flock(2)ed by the server that has the store open; holds its process id
//	snapshot              the live records as of the start of its generation's log
//	snapshot.tmp          a snapshot being written; removed at Open
//	log.<generation>      logs; the generation is 16 lower-case hex digits
//
// All integers are little-endian. Every checksum is CRC-32C (Castagnoli).
//
// A log and a snapshot start with a 32-byte file header:
//
//	magic       [8]byte  "LEASEDJL" for a log, "LEASEDJS" for a snapshot
//	version     uint32   1
//	generation  uint64   the log's generation; for a snapshot, the first log it does not cover
//	count       uint64   snapshot: number of records; log: where the log before it ends (0: all of it)
//	crc         uint32   of the 28 bytes before it
//
// A log is its header followed by batches, each written by one write(2),
// and then zeros up to the end of the file. The writer keeps the file
// ahead of its contents, filled with zeros (64 KiB to 1 MiB at a time), so
// that the fdatasync of a batch written over them needs no change of the
// file's size, which would cost a commit of the file system's journal on
// every batch. A batch is:
//
//	magic       uint32   0x4c424a31
//	length      uint32   bytes of records that follow
//	count       uint32   number of records that follow
//	crc         uint32   of the 12 bytes before it
//	records     [length]byte
//
// A snapshot is its header followed by exactly count records and nothing
// else. A record is a frame around a payload:
//
//	length      uint16   bytes of payload, 18 to 65,322
//	crc         uint32   of the payload
//	payload:
//	  kind      uint8    1: a lease; 2: a lease with long client fields;
//	                     3: a lease with DNS fields; 4: a DNS confirmation
//	  address   [4]byte  the IPv4 address, the record's key
//	  state     uint8    lease.State; 5 (Free) deletes the address
//	  start     int64 seconds since 1970 UTC, uint32 nanoseconds
//	  expiry    int64 seconds since 1970 UTC, uint32 nanoseconds
//	  htype     uint8    hardware type
//	  hlen      uint8    hardware address length, at most 16
//	  chaddr    [hlen]byte
//	  idlen     kind 1: uint8; kinds 2, 3: uint16. Client identifier [idlen]byte
//	  namelen   kind 1: uint8; kinds 2, 3: uint16. Host name [namelen]byte
//	  fqdnlen   kind 3 only: uint8, at most 253. FQDN [fqdnlen]byte
//	  dns       kind 3 only: uint8, lease.DNSFlags (1 forward, 2 reverse)
//	  dnsstate  kind 3 only: uint8, lease.DNSState (0 pending, 1 added, 2 removed)
//
// Kind 3 is laid out as kind 2 (two-byte idlen and namelen) followed by
// the DNS fields. A confirmation, kind 4, is 18 bytes:
//
//	kind      uint8    4
//	address   [4]byte  the address of the record it confirms
//	dnsstate  uint8    the DNS state reached
//	start     int64 seconds since 1970 UTC, uint32 nanoseconds: the Start of the record it confirms
//
// Kind 2 differs from kind 1 in the width of idlen and namelen only; idlen
// and namelen add up to at most lease.MaxClientBytes. It is written for a
// client whose identifier or host name is longer than 255 bytes (RFC 3396
// long options), and kind 1 for every other: a store of ordinary clients
// has the same bytes as before kind 2 existed, and versions of leased
// that know kind 1 only read it. They refuse a store holding a kind 2
// record as corrupt (a salvage drops the record). In the same way, kind
// 3 is written only for a record with an FQDN, DNS records or a DNS
// state other than pending, and kind 4 only by ConfirmDNS: a store of a
// server without DNS updates keeps the bytes of kinds 1 and 2, and
// versions of leased before kind 3 read it; they refuse a store holding
// kind 3 or 4 records as corrupt. The client identifier, host name and
// FQDN add up to at most lease.MaxClientBytes, so that a payload's
// length fits its two bytes.
//
// A confirmation sets the DNS state of the live record of its address
// when that record has its Start, to the nanosecond, and changes nothing
// otherwise (a later record replaced it, or none is live). It is never
// in a snapshot: a snapshot holds the confirmed records themselves.
//
// A later record for an address replaces an earlier one. Times come back
// in UTC without a monotonic reading.
//
// A log whose successor's header gives its end is read up to there: its
// batches must end exactly at that offset, and whatever follows (a
// failed batch, zeros, a hole) is ignored. Logs written before this rule
// carry 0 there and are read whole.
//
// Elsewhere, where a log's batches end, the rest of the file must be
// zeros. In the last log, a bad batch is a torn tail, and is cut off, when no valid
// batch (header and every record) can be found at any later offset: each
// batch is synced before the next is written, so a crash can damage only
// the last one, in any way (missing, zeroed or holed pages), and nothing
// valid can follow it. Any other bad batch is corruption. Two rare kinds
// of damage are accepted silently by these rules, as they cannot be told
// from a crash: a corrupted last batch of the last log is dropped, and
// zeros where a log's last batches were read as its end.
//
// Salvage skips a bad batch whole (or a bad snapshot record) to the next
// valid one it can find.
package journal
