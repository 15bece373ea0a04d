package store

import (
	"context"
	"strings"
	"time"
)

// ChangeKind names what a change feed entry is about; the key's meaning
// depends on it.
type ChangeKind string

// The kinds of object that replicas keep views of in memory. Every write
// of one of them appends a change in the write's own transaction.
const (
	ChangeRoleAssignment   ChangeKind = "roleAssignment"   // key: assignment id
	ChangeRoleDefinition   ChangeKind = "roleDefinition"   // key: definition id
	ChangeGroupMember      ChangeKind = "groupMember"      // key: group id + "/" + member id
	ChangeApplication      ChangeKind = "application"      // key: object id
	ChangeServicePrincipal ChangeKind = "servicePrincipal" // key: object id
	ChangeTenant           ChangeKind = "tenant"           // key: tenant id
	ChangeSigningKey       ChangeKind = "signingKey"       // key: kid
	// ChangePermissionGrant: an oAuth2PermissionGrant was created, changed
	// or deleted (key: grant id), so cached consent is dropped.
	ChangePermissionGrant ChangeKind = "permissionGrant"
	// ChangeTokenLifetimePolicy: key: policy id.
	ChangeTokenLifetimePolicy ChangeKind = "tokenLifetimePolicy"
)

// Change is one entry of the change feed. It says what changed, not how: a
// follower reads the object's current state, so applying a change twice, or
// a change whose object has changed again since, is harmless.
type Change struct {
	// Revision orders the feed. Revisions are consecutive and commit in
	// order: once a follower sees revision N, every revision below N has
	// committed, so a gap means the entries were trimmed.
	Revision int64
	Time     time.Time
	Kind     ChangeKind
	TenantID string
	Key      string
}

// Changes is the change feed.
type Changes interface {
	// Revision returns the revision of the newest committed change (0 when
	// there is none).
	Revision(ctx context.Context) (int64, error)
	// ChangesAfter returns at most limit changes with a revision above
	// after, oldest first.
	ChangesAfter(ctx context.Context, after int64, limit int) ([]Change, error)
	// TrimChanges deletes the changes committed before the given time and
	// returns how many it deleted.
	TrimChanges(ctx context.Context, before time.Time) (int64, error)
}

// Feed is the change feed with the signals a follower waits on.
type Feed interface {
	Changes
	// ChangeSignal receives a value soon after a change commits: at once for
	// a commit through this store and, on a backend that can tell (LISTEN /
	// NOTIFY), for a commit by another process. Signals coalesce; a
	// follower still polls for what no signal announces.
	ChangeSignal() <-chan struct{}
	// OnCommit sets fn, called after each commit that appended changes,
	// with the revision of its last change, before the write returns to
	// its caller: a replica applies its own writes before answering.
	OnCommit(fn func(ctx context.Context, revision int64))
}

// MembershipChangeKey is the key of a ChangeGroupMember change.
func MembershipChangeKey(groupID, memberID string) string { return groupID + "/" + memberID }

// ParseMembershipChangeKey splits a ChangeGroupMember key.
func ParseMembershipChangeKey(key string) (groupID, memberID string, ok bool) {
	return strings.Cut(key, "/")
}
