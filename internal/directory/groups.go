package directory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// GroupInput is what a caller sets when creating a group.
type GroupInput struct {
	DisplayName  string
	MailNickname string
	// SecurityEnabled defaults to true; Tessera's groups are security groups.
	SecurityEnabled *bool
	MailEnabled     bool
}

// CreateGroup creates a security group.
func (s *Service) CreateGroup(ctx context.Context, tenantID string, in GroupInput) (domain.Group, error) {
	if strings.TrimSpace(in.DisplayName) == "" || len(in.DisplayName) > 256 {
		return domain.Group{}, invalidf("Invalid value specified for property 'displayName' of resource 'Group'.")
	}
	if in.MailEnabled {
		return domain.Group{}, invalidf("Creating mail-enabled groups is not supported: set mailEnabled to false.")
	}
	nick := in.MailNickname
	if nick == "" {
		nick = mailNicknameFrom(in.DisplayName)
	}
	if err := validateMailNickname(nick, "Group"); err != nil {
		return domain.Group{}, err
	}
	g := domain.Group{
		ID: NewID(), TenantID: tenantID, DisplayName: in.DisplayName, MailNickname: nick,
		SecurityEnabled: in.SecurityEnabled == nil || *in.SecurityEnabled, CreatedAt: s.now().UTC(),
	}
	if err := s.store.CreateGroup(ctx, g); err != nil {
		return domain.Group{}, fmt.Errorf("create group %q: %w", in.DisplayName, err)
	}
	return g, nil
}

// mailNicknameFrom derives a mail nickname from a display name.
func mailNicknameFrom(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 0x80 && (r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "group"
	}
	return strings.Trim(b.String(), ".")
}

// validateMailNickname applies Entra's rule: 1..64 printable ASCII
// characters without spaces or @()\[]";:<>,
func validateMailNickname(nick, resource string) error {
	bad := nick == "" || len(nick) > 64
	for _, r := range nick {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`@()\[]";:<>,`, r) {
			bad = true
		}
	}
	if bad {
		return invalidf("Invalid value specified for property 'mailNickname' of resource '%s'.", resource)
	}
	return nil
}

// GetGroup returns a group.
func (s *Service) GetGroup(ctx context.Context, tenantID, id string) (domain.Group, error) {
	return s.store.GetGroup(ctx, tenantID, normID(id))
}

// ListGroups returns the tenant's groups.
func (s *Service) ListGroups(ctx context.Context, tenantID string) ([]domain.Group, error) {
	return s.store.ListGroups(ctx, tenantID)
}

// GroupPatch lists the group fields a PATCH may change; nil means unchanged.
type GroupPatch struct {
	DisplayName     *string
	MailNickname    *string
	SecurityEnabled *bool
	MailEnabled     *bool
}

// UpdateGroup applies patch to a group.
func (s *Service) UpdateGroup(ctx context.Context, tenantID, id string, p GroupPatch) (domain.Group, error) {
	var out domain.Group
	err := s.inTx(ctx, func(tx Tx) error {
		g, err := tx.GetGroup(ctx, tenantID, normID(id))
		if err != nil {
			return err
		}
		if p.DisplayName != nil {
			if strings.TrimSpace(*p.DisplayName) == "" || len(*p.DisplayName) > 256 {
				return invalidf("Invalid value specified for property 'displayName' of resource 'Group'.")
			}
			g.DisplayName = *p.DisplayName
		}
		if p.MailNickname != nil {
			if err := validateMailNickname(*p.MailNickname, "Group"); err != nil {
				return err
			}
			g.MailNickname = *p.MailNickname
		}
		if p.SecurityEnabled != nil {
			g.SecurityEnabled = *p.SecurityEnabled
		}
		if p.MailEnabled != nil && *p.MailEnabled {
			return invalidf("Mail-enabled groups are not supported: mailEnabled must be false.")
		}
		out = g
		return tx.UpdateGroup(ctx, g)
	})
	if err != nil {
		return domain.Group{}, fmt.Errorf("update group %s: %w", id, err)
	}
	return out, nil
}

// DeleteGroup deletes a group with its membership edges (both ways), the
// app role assignments and RBAC role assignments it holds, and its ownerships.
func (s *Service) DeleteGroup(ctx context.Context, tenantID, id string) (Removed, error) {
	id = normID(id)
	var rm Removed
	err := s.inTx(ctx, func(tx Tx) error {
		rm = Removed{}
		if _, err := tx.GetGroup(ctx, tenantID, id); err != nil {
			return err
		}
		edges, err := tx.ListGroupMemberships(ctx, tenantID)
		if err != nil {
			return err
		}
		for _, e := range edges {
			if e.GroupID == id || e.MemberID == id {
				rm.Memberships = append(rm.Memberships, e)
			}
		}
		if err := s.removeGrantsTx(ctx, tx, tenantID, id, &rm); err != nil {
			return err
		}
		// Its ownerships go with it.
		if err := s.removeReferencesTx(ctx, tx, tenantID, "", []string{id}, &rm); err != nil {
			return err
		}
		// The store removes the group's edges with it.
		return tx.DeleteGroup(ctx, tenantID, id)
	})
	if err != nil {
		return Removed{}, fmt.Errorf("delete group %s: %w", id, err)
	}
	return rm, nil
}

// AddMember makes memberID (a user, service principal or group) a direct
// member of groupID. A group that would then contain itself, directly or
// through nesting, is refused.
func (s *Service) AddMember(ctx context.Context, tenantID, groupID, memberID string) error {
	groupID, memberID = normID(groupID), normID(memberID)
	m := domain.GroupMembership{TenantID: tenantID, GroupID: groupID, MemberID: memberID}
	err := s.inTx(ctx, func(tx Tx) error {
		if _, err := tx.GetGroup(ctx, tenantID, groupID); err != nil {
			return err
		}
		member, err := lookupObject(ctx, tx, tenantID, memberID, KindUser, KindServicePrincipal, KindGroup)
		if err != nil {
			return err
		}
		if member.Kind == KindGroup {
			if memberID == groupID {
				return invalidf("A group cannot be a member of itself.")
			}
			edges, err := tx.ListGroupMemberships(ctx, tenantID)
			if err != nil {
				return err
			}
			// groupID already below memberID: adding the edge closes a loop.
			if newMembershipGraph(edges).contains(memberID, groupID) {
				return invalidf("Adding group '%s' as a member of group '%s' would create a membership cycle.", memberID, groupID)
			}
		}
		if err := tx.AddGroupMember(ctx, m); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return invalidf("One or more added object references already exist for the following modified properties: 'members'.")
			}
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add member %s to group %s: %w", memberID, groupID, err)
	}
	return nil
}

// RemoveMember removes a direct membership edge.
func (s *Service) RemoveMember(ctx context.Context, tenantID, groupID, memberID string) error {
	groupID, memberID = normID(groupID), normID(memberID)
	m := domain.GroupMembership{TenantID: tenantID, GroupID: groupID, MemberID: memberID}
	if _, err := s.store.GetGroup(ctx, tenantID, groupID); err != nil {
		return fmt.Errorf("remove member from group %s: %w", groupID, err)
	}
	if err := s.store.RemoveGroupMember(ctx, m); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound(memberID)
		}
		return fmt.Errorf("remove member %s from group %s: %w", memberID, groupID, err)
	}
	return nil
}

// membershipGraph is a tenant's membership edges both ways.
type membershipGraph struct {
	up   map[string][]string // member -> groups
	down map[string][]string // group -> members
}

func newMembershipGraph(edges []domain.GroupMembership) membershipGraph {
	g := membershipGraph{up: map[string][]string{}, down: map[string][]string{}}
	for _, e := range edges {
		m, grp := normID(e.MemberID), normID(e.GroupID)
		g.up[m] = append(g.up[m], grp)
		g.down[grp] = append(g.down[grp], m)
	}
	return g
}

// walk returns every node reachable from start through next, without start
// itself, in breadth-first order; cycles end the walk.
func walk(next map[string][]string, start string) []string {
	seen := map[string]bool{start: true}
	var out []string
	queue := append([]string(nil), next[start]...)
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
		queue = append(queue, next[n]...)
	}
	return out
}

// contains reports whether id is a transitive member of group.
func (g membershipGraph) contains(group, id string) bool {
	for _, m := range walk(g.down, group) {
		if m == id {
			return true
		}
	}
	return false
}

func (s *Service) graph(ctx context.Context, tenantID string) (membershipGraph, error) {
	edges, err := s.store.ListGroupMemberships(ctx, tenantID)
	if err != nil {
		return membershipGraph{}, fmt.Errorf("list group memberships: %w", err)
	}
	return newMembershipGraph(edges), nil
}

// resolve turns ids into objects, leaving out ids that no longer resolve.
func (s *Service) resolve(ctx context.Context, tenantID string, ids []string, kinds ...string) ([]Object, error) {
	out := make([]Object, 0, len(ids))
	for _, id := range ids {
		o, err := lookupObject(ctx, s.store, tenantID, id, kinds...)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out, nil
}

// Members returns a group's direct members; transitive adds the members of
// nested groups (and the nested groups themselves), each once.
func (s *Service) Members(ctx context.Context, tenantID, groupID string, transitive bool) ([]Object, error) {
	groupID = normID(groupID)
	if _, err := s.store.GetGroup(ctx, tenantID, groupID); err != nil {
		return nil, fmt.Errorf("get group %s: %w", groupID, err)
	}
	var ids []string
	if transitive {
		g, err := s.graph(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		ids = walk(g.down, groupID)
	} else {
		var err error
		if ids, err = s.store.ListGroupMembers(ctx, tenantID, groupID); err != nil {
			return nil, fmt.Errorf("list members of %s: %w", groupID, err)
		}
	}
	return s.resolve(ctx, tenantID, ids, KindUser, KindServicePrincipal, KindGroup)
}

// groupIDsOf returns the ids of the groups objectID is a member of, directly
// or (transitive) through nesting, after checking the object exists.
func (s *Service) groupIDsOf(ctx context.Context, tenantID, objectID string, transitive bool) ([]string, error) {
	objectID = normID(objectID)
	if _, err := lookupObject(ctx, s.store, tenantID, objectID, KindUser, KindServicePrincipal, KindGroup); err != nil {
		return nil, err
	}
	g, err := s.graph(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if transitive {
		return walk(g.up, objectID), nil
	}
	return append([]string(nil), g.up[objectID]...), nil
}

// MemberOf returns the groups objectID belongs to, directly or transitively.
func (s *Service) MemberOf(ctx context.Context, tenantID, objectID string, transitive bool) ([]domain.Group, error) {
	ids, err := s.groupIDsOf(ctx, tenantID, objectID, transitive)
	if err != nil {
		return nil, err
	}
	objs, err := s.resolve(ctx, tenantID, ids, KindGroup)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Group, 0, len(objs))
	for _, o := range objs {
		out = append(out, *o.Group)
	}
	return out, nil
}

// MaxCheckMemberGroups is how many group ids checkMemberGroups accepts, as in Graph.
const MaxCheckMemberGroups = 20

// CheckMemberGroups returns those of groupIDs that objectID is a transitive
// member of, in the order given.
func (s *Service) CheckMemberGroups(ctx context.Context, tenantID, objectID string, groupIDs []string) ([]string, error) {
	if len(groupIDs) > MaxCheckMemberGroups {
		return nil, invalidf("The number of groupIds in the request exceeds the maximum of %d.", MaxCheckMemberGroups)
	}
	for _, id := range groupIDs {
		if !IsGUID(id) {
			return nil, invalidf("Invalid GUID '%s' in groupIds.", id)
		}
	}
	ids, err := s.groupIDsOf(ctx, tenantID, objectID, true)
	if err != nil {
		return nil, err
	}
	in := make(map[string]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	out := []string{}
	seen := map[string]bool{}
	for _, id := range groupIDs {
		n := normID(id)
		if in[n] && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// GetMemberGroups returns the ids of every group objectID is a transitive
// member of; securityEnabledOnly keeps security groups only.
func (s *Service) GetMemberGroups(ctx context.Context, tenantID, objectID string, securityEnabledOnly bool) ([]string, error) {
	groups, err := s.MemberOf(ctx, tenantID, objectID, true)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, g := range groups {
		if !securityEnabledOnly || g.SecurityEnabled {
			out = append(out, g.ID)
		}
	}
	return out, nil
}
