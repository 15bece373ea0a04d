// Package directory holds the rules of a tenant's directory: users, groups
// and their transitive membership, applications and their credentials,
// service principals, ownership, directory roles, and the first-party objects
// every tenant carries. It never sees HTTP; Graph and the token service call
// it.
//
// Errors are *fault.Error refusals: a refusal the caller caused is of kind
// Invalid (Graph 400); an addressed object that does not exist is NotFound
// (404, a *NotFoundError naming the id when it is not the one in the URL); a
// caller without the directory role or ownership an operation needs gets
// ErrForbidden (403); a duplicate unique value wraps store.ErrConflict.
//
// What RBAC decides with (role assignments, group membership edges) reaches
// the in-memory index through the store's change feed, from this replica's
// writes and every other's alike; the directory only writes the store.
// Methods named ...Tx write inside a caller's transaction (the resource
// manager's, for managed identities).
package directory

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// Tx is what the directory's rules use of the store, in a transaction or
// not.
type Tx interface {
	store.Tenants
	store.Users
	store.Apps
	store.Groups
	store.DirectoryRoles
	store.RoleAssignments
	store.PermissionGrants
	store.TokenLifetimePolicies
}

// Store is the storage the directory needs.
type Store interface {
	Tx
	InTx(ctx context.Context, fn func(tx store.Tx) error) error
}

// inTx runs fn in one store transaction, handing it only what the
// directory's rules use.
func (s *Service) inTx(ctx context.Context, fn func(tx Tx) error) error {
	return s.store.InTx(ctx, func(tx store.Tx) error { return fn(tx) })
}

// Reason codes of the directory's refusals (fault.Error's Code). Graph
// answers by kind; the codes let a caller tell refusals of one kind apart.
const (
	CodeInvalid            = "InvalidRequest"
	CodePasswordComplexity = "PasswordComplexity"
	CodePasswordReused     = "PasswordReused"
	CodePasswordChanged    = "PasswordChangedMeanwhile"
	CodeObjectNotFound     = "ObjectNotFound"
	CodeTenantNotFound     = "TenantNotFound"
	CodeForbidden          = "InsufficientPrivileges"
	CodePasswordMismatch   = "PasswordMismatch"
	CodeUserDisabled       = "UserDisabled"
	CodeSecretInvalid      = "SecretInvalid"
	CodeSecretExpired      = "SecretExpired"
	CodePasswordBusy       = "PasswordHashingBusy"
)

// invalidf is a request the directory refuses; its message is meant for the
// caller.
func invalidf(format string, args ...any) error {
	return fault.Errorf(fault.Invalid, CodeInvalid, format, args...)
}

// IsInvalid reports whether err is a request the directory (or a rule
// package on its behalf) refused as invalid.
func IsInvalid(err error) bool { return fault.KindOf(err) == fault.Invalid }

// NotFoundError names the object that does not exist, when it is not the one
// the caller addressed (a member to add, an owner, a resource). It is a
// not-found refusal whose message names ID, so errors.Is(err,
// store.ErrNotFound) holds.
type NotFoundError struct{ ID string }

func (e *NotFoundError) Error() string { return "object " + e.ID + " not found" }

// Unwrap is the refusal in the caller's words.
func (e *NotFoundError) Unwrap() error {
	return fault.Errorf(fault.NotFound, CodeObjectNotFound,
		"Resource '%s' does not exist or one of its queried reference-property objects are not present.", e.ID)
}

func notFound(id string) error { return &NotFoundError{ID: id} }

// ErrForbidden: the caller holds neither a directory role nor the ownership
// the operation needs.
var ErrForbidden = fault.New(fault.Forbidden, CodeForbidden, "insufficient privileges to complete the operation")

// Service applies directory rules over a Store.
type Service struct {
	store   Store
	now     func() time.Time
	clients *clientCache
	// passwords bounds the argon2 work of every password hash and check.
	passwords *Passwords
}

// Option configures a Service.
type Option func(*Service)

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
	if s.passwords == nil {
		s.passwords = NewPasswords(PasswordsOptions{})
	}
	return s
}

// WithPasswords makes the service hash and verify passwords through p,
// shared with sign-in so that one limit covers all argon2 work.
func WithPasswords(p *Passwords) Option { return func(s *Service) { s.passwords = p } }

// Passwords is the service's password hashing limiter.
func (s *Service) Passwords() *Passwords { return s.passwords }

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
	PermissionGrants   []string
}
