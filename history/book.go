package history

import (
	"bytes"
	"sync"
	"time"

	"leased/dhcpv4"
	"leased/server"
)

// Defaults and bounds of Options.
const (
	DefaultClients   = 4096
	DefaultPerClient = 16
	MaxPerClient     = 256
	// KeyLen is the longest client identity kept; longer client
	// identifiers are cut, and clients whose first KeyLen bytes agree
	// share a history.
	KeyLen = 64
)

// shardCount is the number of independently locked parts of a Book.
const shardCount = 16

// Options size a Book.
type Options struct {
	// Clients is the most clients kept; when a new client comes, the one
	// seen least recently is forgotten. Default DefaultClients; it is
	// rounded up to a multiple of 16.
	Clients int
	// PerClient is the number of decisions kept per client, the oldest
	// forgotten first. Default DefaultPerClient, at most MaxPerClient.
	PerClient int
}

// Book is the history of the clients seen lately. It is safe for
// concurrent use; Note allocates nothing.
type Book struct {
	perClient int
	clients   int
	shards    [shardCount]shard
	// feed is every client's last decisions, in order.
	feed feed
}

// Key is a client's identity, as kept: the bytes of its client identifier,
// else its hardware type followed by its hardware address.
type Key struct {
	n uint8
	b [KeyLen]byte
}

// Bytes returns the identity. It aliases k.
func (k *Key) Bytes() []byte { return k.b[:k.n] }

// setFrom sets k, which must be zero, to the identity of the client that
// sent req.
func (k *Key) setFrom(req *dhcpv4.Packet) {
	if id, ok := req.Options.Get(dhcpv4.OptClientID); ok && len(id) > 0 {
		k.n = uint8(copy(k.b[:], id))
		return
	}
	k.b[0] = req.HType
	k.n = 1 + uint8(copy(k.b[1:], req.HardwareAddr()))
}

// keyFrom returns id as a Key, cut to KeyLen bytes.
func keyFrom(id []byte) Key {
	var k Key
	k.n = uint8(copy(k.b[:], id))
	return k
}

func (k *Key) hash() uint32 {
	h := uint32(2166136261) // FNV-1a
	for _, c := range k.b[:k.n] {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// New returns an empty Book sized by opts. Its memory is set aside at
// once: about Clients × PerClient × the size of a Record (about 200
// bytes).
func New(opts Options) *Book {
	if opts.Clients <= 0 {
		opts.Clients = DefaultClients
	}
	if opts.PerClient <= 0 {
		opts.PerClient = DefaultPerClient
	}
	opts.PerClient = min(opts.PerClient, MaxPerClient)
	per := (opts.Clients + shardCount - 1) / shardCount
	b := &Book{perClient: opts.PerClient, clients: per * shardCount}
	for i := range b.shards {
		b.shards[i].init(per, opts.PerClient)
	}
	return b
}

// Capacity returns the most clients kept and the decisions kept per
// client.
func (b *Book) Capacity() (clients, perClient int) { return b.clients, b.perClient }

// Len returns the number of clients kept.
func (b *Book) Len() int {
	n := 0
	for i := range b.shards {
		s := &b.shards[i]
		s.mu.Lock()
		n += len(s.clients)
		s.mu.Unlock()
	}
	return n
}

// Note records the engine's decision out about req, which arrived as in,
// at now.
func (b *Book) Note(now time.Time, req *dhcpv4.Packet, in *server.Arrival, out *server.Outcome) {
	var k Key
	k.setFrom(req)
	h := k.hash()
	s := &b.shards[h%shardCount]
	s.mu.Lock()
	r := s.next(&k, h)
	r.fill(now, req, in, out)
	b.feed.put(&k, r)
	s.mu.Unlock()
}

// NoteRateLimited records that req was dropped by the rate limits.
func (b *Book) NoteRateLimited(now time.Time, req *dhcpv4.Packet, in *server.Arrival) {
	out := server.Outcome{Reason: server.ReasonRateLimited}
	b.Note(now, req, in, &out)
}

// NoteForeign records that req, a direct request, was dropped because it
// arrived on an interface the server does not serve.
func (b *Book) NoteForeign(now time.Time, req *dhcpv4.Packet, in *server.Arrival) {
	var k Key
	k.setFrom(req)
	h := k.hash()
	s := &b.shards[h%shardCount]
	s.mu.Lock()
	r := s.next(&k, h)
	r.fill(now, req, in, &server.Outcome{})
	r.Foreign = true
	b.feed.put(&k, r)
	s.mu.Unlock()
}

// Client is the history of one client.
type Client struct {
	// ID is the client's identity (see Key).
	ID []byte
	// Records are its decisions, oldest first.
	Records []Record
}

// Latest returns the client's most recent record.
func (c *Client) Latest() *Record { return &c.Records[len(c.Records)-1] }

// Lookup returns the history of the client whose identity is id.
func (b *Book) Lookup(id []byte) (Client, bool) {
	k := keyFrom(id)
	h := k.hash()
	s := &b.shards[h%shardCount]
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(&k, h)
	if i < 0 {
		return Client{}, false
	}
	return s.copyOut(i), true
}

// Find returns the history of every client one of whose records match
// accepts, most recently seen first within each shard. It looks at every
// record: it is meant for operators, not for the request path.
func (b *Book) Find(match func(id []byte, r *Record) bool) []Client {
	var out []Client
	for i := range b.shards {
		s := &b.shards[i]
		s.mu.Lock()
		for c := s.head; c >= 0; c = s.clients[c].next {
			cl := &s.clients[c]
			for j := range cl.count {
				if match(cl.key.Bytes(), &s.recs[c*s.per+j]) {
					out = append(out, s.copyOut(c))
					break
				}
			}
		}
		s.mu.Unlock()
	}
	return out
}

// ByHardwareAddr returns the history of every client whose requests
// carried hardware address hw (chaddr), whatever its identity.
func (b *Book) ByHardwareAddr(hw []byte) []Client {
	return b.Find(func(_ []byte, r *Record) bool { return bytes.Equal(r.HW.Bytes(), hw) })
}

// shard is one locked part of a Book: a table of clients by identity, the
// clients in order of last sight, and their rings of records.
type shard struct {
	mu      sync.Mutex
	per     int
	clients []client // in use; at most cap(clients)
	recs    []Record // per records for each client slot
	// table is open addressing with linear probing: each slot holds a
	// client's hash in its high 32 bits and its index + 1 in the low
	// ones, 0 when empty, so that probing touches no client but the one
	// sought.
	table []uint64
	// head is the client seen last, tail the one seen least recently;
	// -1 when none.
	head, tail int
}

type client struct {
	key        Key
	hash       uint32
	prev, next int
	// first is the index of the oldest record in the ring, count the
	// number of records.
	first, count int
}

func (s *shard) init(clients, per int) {
	s.per = per
	s.clients = make([]client, 0, clients)
	s.recs = make([]Record, clients*per)
	size := 1
	for size < 2*clients {
		size <<= 1
	}
	s.table = make([]uint64, size)
	s.head, s.tail = -1, -1
}

// find returns the index of the client with key k, or -1.
func (s *shard) find(k *Key, h uint32) int {
	mask := uint32(len(s.table) - 1)
	for i := (h / shardCount) & mask; ; i = (i + 1) & mask {
		v := s.table[i]
		if v == 0 {
			return -1
		}
		if uint32(v>>32) == h && s.clients[uint32(v)-1].key == *k {
			return int(uint32(v) - 1)
		}
	}
}

// next returns the record to fill for the client with key k: a new one
// at the end of its ring. The client becomes the most recently seen; a
// new client takes the place of the least recently seen when the shard is
// full.
func (s *shard) next(k *Key, h uint32) *Record {
	i := s.find(k, h)
	switch {
	case i >= 0:
		s.unlink(i)
	case len(s.clients) < cap(s.clients):
		i = len(s.clients)
		s.clients = s.clients[:i+1]
		s.add(i, k, h)
	default:
		i = s.tail
		s.unlink(i)
		s.remove(i)
		s.add(i, k, h)
	}
	s.pushFront(i)
	c := &s.clients[i]
	var slot int
	if c.count < s.per {
		slot = (c.first + c.count) % s.per
		c.count++
	} else {
		slot = c.first
		c.first = (c.first + 1) % s.per
	}
	return &s.recs[i*s.per+slot]
}

// add puts client slot i in the table with key k.
func (s *shard) add(i int, k *Key, h uint32) {
	s.clients[i] = client{key: *k, hash: h, prev: -1, next: -1}
	mask := uint32(len(s.table) - 1)
	j := (h / shardCount) & mask
	for s.table[j] != 0 {
		j = (j + 1) & mask
	}
	s.table[j] = uint64(h)<<32 | uint64(i+1)
}

// remove takes client slot i out of the table (backward-shift deletion,
// which leaves no tombstones).
func (s *shard) remove(i int) {
	mask := uint32(len(s.table) - 1)
	h := s.clients[i].hash
	want := uint64(h)<<32 | uint64(i+1)
	j := (h / shardCount) & mask
	for s.table[j] != want {
		j = (j + 1) & mask
	}
	for {
		s.table[j] = 0
		k := j
		for {
			k = (k + 1) & mask
			v := s.table[k]
			if v == 0 {
				return
			}
			home := (uint32(v>>32) / shardCount) & mask
			// Move v back to j unless its home lies cyclically in (j, k].
			if (j < k && (home <= j || home > k)) || (j > k && home <= j && home > k) {
				s.table[j] = v
				j = k
				break
			}
		}
	}
}

func (s *shard) unlink(i int) {
	c := &s.clients[i]
	if c.prev >= 0 {
		s.clients[c.prev].next = c.next
	} else {
		s.head = c.next
	}
	if c.next >= 0 {
		s.clients[c.next].prev = c.prev
	} else {
		s.tail = c.prev
	}
	c.prev, c.next = -1, -1
}

func (s *shard) pushFront(i int) {
	c := &s.clients[i]
	c.prev, c.next = -1, s.head
	if s.head >= 0 {
		s.clients[s.head].prev = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
}

// copyOut returns a copy of client i's history.
func (s *shard) copyOut(i int) Client {
	c := &s.clients[i]
	out := Client{ID: append([]byte(nil), c.key.Bytes()...), Records: make([]Record, c.count)}
	for j := range c.count {
		out.Records[j] = s.recs[i*s.per+(c.first+j)%s.per]
	}
	return out
}
