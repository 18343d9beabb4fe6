package lease

import "fmt"

// ConflictError is the error of a Commit that a shared store refused
// because the address is held by another client: Holder is the lease as
// the store records it.
type ConflictError struct {
	Holder Lease
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("lease %v is held by another client until %v", e.Holder.Addr, e.Holder.Expiry.Format("2006-01-02T15:04:05Z07:00"))
}
