package postgres

import (
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// The arrays of a batch, as leased_commit_dns's parameters. pgx encodes a
// plain slice through an interface value per element, which allocates
// for every element wider than a word (a time.Time, a netip.Addr, a
// string, a []byte) or an int32 over 255. These arrays hand pgx instead
// a one-pointer struct per element, which an interface holds without
// allocating, and which gives pgx the value through the Valuer
// interface of the element's type: the same bytes on the wire.

// dims returns the dimensions of a one-dimensional array of n elements.
func dims(n int) []pgtype.ArrayDimension {
	return []pgtype.ArrayDimension{{Length: int32(n), LowerBound: 1}}
}

type timeArray []time.Time

type timeRef struct{ p *time.Time }

func (a timeArray) Dimensions() []pgtype.ArrayDimension { return dims(len(a)) }
func (a timeArray) Index(i int) any                     { return timeRef{&a[i]} }
func (a timeArray) IndexType() any                      { return timeRef{} }

func (r timeRef) TimestamptzValue() (pgtype.Timestamptz, error) {
	return pgtype.Timestamptz{Time: *r.p, Valid: true}, nil
}

type addrArray []netip.Addr

type addrRef struct{ p *netip.Addr }

func (a addrArray) Dimensions() []pgtype.ArrayDimension { return dims(len(a)) }
func (a addrArray) Index(i int) any                     { return addrRef{&a[i]} }
func (a addrArray) IndexType() any                      { return addrRef{} }

func (r addrRef) NetipPrefixValue() (netip.Prefix, error) {
	if !r.p.IsValid() {
		return netip.Prefix{}, nil
	}
	return netip.PrefixFrom(*r.p, r.p.BitLen()), nil
}

type textArray []string

type textRef struct{ p *string }

func (a textArray) Dimensions() []pgtype.ArrayDimension { return dims(len(a)) }
func (a textArray) Index(i int) any                     { return textRef{&a[i]} }
func (a textArray) IndexType() any                      { return textRef{} }

func (r textRef) TextValue() (pgtype.Text, error) { return pgtype.Text{String: *r.p, Valid: true}, nil }

type byteaArray [][]byte

type byteaRef struct{ p *[]byte }

func (a byteaArray) Dimensions() []pgtype.ArrayDimension { return dims(len(a)) }
func (a byteaArray) Index(i int) any                     { return byteaRef{&a[i]} }
func (a byteaArray) IndexType() any                      { return byteaRef{} }

// BytesValue returns the bytes; batch.add never leaves them nil, which
// would be NULL.
func (r byteaRef) BytesValue() ([]byte, error) { return *r.p, nil }

type int32Array []int32

type int32Ref struct{ p *int32 }

func (a int32Array) Dimensions() []pgtype.ArrayDimension { return dims(len(a)) }
func (a int32Array) Index(i int) any                     { return int32Ref{&a[i]} }
func (a int32Array) IndexType() any                      { return int32Ref{} }

func (r int32Ref) Int64Value() (pgtype.Int8, error) {
	return pgtype.Int8{Int64: int64(*r.p), Valid: true}, nil
}
