package rbac

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/feed"
	"github.com/tessera-id/tessera/internal/store"
)

// Follow keeps the index in step with the store through the change feed:
// the follower loads it in full at start and applies each role assignment,
// role definition and membership change, from whichever replica it came.
// The index has no other writer.
func (s *Service) Follow(f *feed.Follower) {
	f.Load(s.Load)
	f.On(store.ChangeRoleAssignment, s.applyAssignment)
	f.On(store.ChangeRoleDefinition, s.applyDefinition)
	f.On(store.ChangeGroupMember, s.applyMembership)
}

func (s *Service) applyAssignment(ctx context.Context, c store.Change) error {
	a, err := s.store.GetRoleAssignment(ctx, c.Key)
	if errors.Is(err, store.ErrNotFound) {
		s.index.DeleteAssignment(c.Key)
		return nil
	}
	if err != nil {
		return err
	}
	return feed.Permanent(s.index.PutAssignment(a))
}

func (s *Service) applyDefinition(ctx context.Context, c store.Change) error {
	d, err := s.store.GetRoleDefinition(ctx, c.Key)
	if errors.Is(err, store.ErrNotFound) {
		s.index.DeleteDefinition(c.Key)
		return nil
	}
	if err != nil {
		return err
	}
	return feed.Permanent(s.index.PutDefinition(d))
}

func (s *Service) applyMembership(ctx context.Context, c store.Change) error {
	group, member, ok := store.ParseMembershipChangeKey(c.Key)
	if !ok {
		return feed.Permanent(fmt.Errorf("membership change key %q", c.Key))
	}
	members, err := s.store.ListGroupMembers(ctx, c.TenantID, group)
	if err != nil {
		return err
	}
	m := domain.GroupMembership{TenantID: c.TenantID, GroupID: group, MemberID: member}
	if slices.ContainsFunc(members, func(id string) bool { return strings.EqualFold(id, member) }) {
		return feed.Permanent(s.index.AddMembership(m))
	}
	s.index.RemoveMembership(m)
	return nil
}
