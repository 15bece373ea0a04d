// Package directory holds the rules of a tenant's directory: users, groups
// and their transitive membership, applications and their credentials,
// service principals, ownership, directory roles, and the first-party objects
// every tenant carries. It never sees HTTP; Graph and the token service call
// it.
//
// Errors: a refusal the caller caused is an *InvalidError (Graph 400); an
// addressed object that does not exist wraps store.ErrNotFound (404, with a
// *NotFoundError naming the id when it is not the one in the URL); a caller
// without the directory role or ownership an operation needs gets
// ErrForbidden (403); a duplicate unique value wraps store.ErrConflict.
//
// Writes that change what RBAC decides (a principal's role assignments
// disappearing with it, group membership edges) are reported to the
// in-memory indexes given with WithAssignmentIndex and WithMembershipIndex
// after the store transaction commits, so the next ARM decision sees them.
// Methods named ...Tx write inside a caller's transaction (the resource
// manager's, for managed identities); only the caller knows when that
// commits, so they hand it what to run then.
package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// Store is the storage the directory needs.
type Store interface {
	store.Tenants
	store.Users
	store.Apps
	store.Groups
	store.DirectoryRoles
	store.RoleAssignments
	InTx(ctx context.Context, fn func(tx store.Tx) error) error
}

// InvalidError is a request the directory refuses; its message is meant for the caller.
type InvalidError struct{ Message string }

func (e *InvalidError) Error() string { return e.Message }

func invalidf(format string, args ...any) error {
	return &InvalidError{Message: fmt.Sprintf(format, args...)}
}

// IsInvalid reports whether err is an *InvalidError.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

// NotFoundError names the object that does not exist, when it is not the one
// the caller addressed (a member to add, an owner, a resource). It wraps
// store.ErrNotFound.
type NotFoundError struct{ ID string }

func (e *NotFoundError) Error() string { return "object " + e.ID + " not found" }

// Unwrap makes errors.Is(err, store.ErrNotFound) true.
func (e *NotFoundError) Unwrap() error { return store.ErrNotFound }

func notFound(id string) error { return &NotFoundError{ID: id} }

// ErrForbidden: the caller holds neither a directory role nor the ownership
// the operation needs.
var ErrForbidden = errors.New("insufficient privileges to complete the operation")

// AssignmentIndex is the in-memory RBAC index; the directory tells it about
// role assignments removed together with their principal.
type AssignmentIndex interface {
	DeleteAssignment(id string) bool
}

// MembershipIndex is the in-memory view of group membership RBAC decides
// with; the directory tells it about every edge it adds or removes.
type MembershipIndex interface {
	AddMembership(m domain.GroupMembership) error
	RemoveMembership(m domain.GroupMembership) bool
}

// Service applies directory rules over a Store.
type Service struct {
	store       Store
	now         func() time.Time
	assignments AssignmentIndex
	memberships MembershipIndex
	clients     *clientCache
}

// Option configures a Service.
type Option func(*Service)

// WithAssignmentIndex makes deletions forget the RBAC role assignments they
// remove from the store in ix as well.
func WithAssignmentIndex(ix AssignmentIndex) Option {
	return func(s *Service) { s.assignments = ix }
}

// WithMembershipIndex keeps ix's group membership edges in step with the store.
func WithMembershipIndex(ix MembershipIndex) Option {
	return func(s *Service) { s.memberships = ix }
}

// NewService returns a directory service.
func NewService(st Store, now func() time.Time, opts ...Option) *Service {
	if now == nil {
		now = time.Now
	}
	cache := &clientCache{}
	s := &Service{store: invalidatingStore{Store: st, cache: cache}, now: now, clients: cache}
	for _, o := range opts {
		o(s)
	}
	return s
}

// NewID returns a new object id.
func NewID() string { return uuid.NewString() }

// normID returns a GUID in its canonical lower-case form (Entra compares
// object ids case-insensitively and Tessera stores them lower-case), and any
// other string unchanged.
func normID(id string) string {
	if len(id) == 36 {
		if u, err := uuid.Parse(id); err == nil {
			return u.String()
		}
	}
	return id
}

// IsGUID reports whether s is a GUID in the 8-4-4-4-12 form.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// Removed lists what a cascading delete took away besides the object itself,
// for the audit log.
type Removed struct {
	ServicePrincipalID string
	RoleAssignments    []string
	AppRoleAssignments []string
	DirectoryRoles     []string
	Memberships        []domain.GroupMembership
	OwnershipsOfObject int
}

// afterCommit tells the in-memory indexes what a committed transaction removed.
func (s *Service) afterCommit(r *Removed) {
	if r == nil {
		return
	}
	if s.assignments != nil {
		for _, id := range r.RoleAssignments {
			s.assignments.DeleteAssignment(id)
		}
	}
	if s.memberships != nil {
		for _, m := range r.Memberships {
			s.memberships.RemoveMembership(m)
		}
	}
}
