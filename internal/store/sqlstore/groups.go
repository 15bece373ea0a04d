package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tessera-id/tessera/internal/store"

	"github.com/tessera-id/tessera/internal/domain"
)

// --- groups ---

const groupColumns = `tenant_id, id, display_name, mail_nickname, security_enabled, mail_enabled, created_at`

func scanGroup(r interface{ Scan(...any) error }) (domain.Group, error) {
	var (
		g         domain.Group
		createdAt dbTime
	)
	if err := r.Scan(&g.TenantID, &g.ID, &g.DisplayName, &g.MailNickname, &g.SecurityEnabled, &g.MailEnabled, &createdAt); err != nil {
		return domain.Group{}, noRows(err)
	}
	g.CreatedAt = createdAt.T
	return g, nil
}

func (s *Store) CreateGroup(ctx context.Context, g domain.Group) error {
	if _, err := s.exec(ctx, `INSERT INTO directory_groups (`+groupColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		g.TenantID, g.ID, g.DisplayName, g.MailNickname, g.SecurityEnabled, g.MailEnabled, s.t(g.CreatedAt)); err != nil {
		return fmt.Errorf("create group %s: %w", g.ID, err)
	}
	return nil
}

func (s *Store) GetGroup(ctx context.Context, tenantID, id string) (domain.Group, error) {
	row, err := s.row(ctx, `SELECT `+groupColumns+` FROM directory_groups WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return domain.Group{}, fmt.Errorf("get group %s: %w", id, err)
	}
	g, err := scanGroup(row)
	if err != nil {
		return domain.Group{}, fmt.Errorf("get group %s: %w", id, err)
	}
	return g, nil
}

func (s *Store) ListGroups(ctx context.Context, tenantID string) ([]domain.Group, error) {
	out := []domain.Group{}
	err := s.queryAll(ctx, `SELECT `+groupColumns+` FROM directory_groups WHERE tenant_id = ? ORDER BY created_at, id`,
		[]any{tenantID}, func(r *sql.Rows) error {
			g, err := scanGroup(r)
			if err != nil {
				return err
			}
			out = append(out, g)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list groups of %s: %w", tenantID, err)
	}
	return out, nil
}

func (s *Store) UpdateGroup(ctx context.Context, g domain.Group) error {
	if err := s.execOne(ctx, `UPDATE directory_groups SET display_name = ?, mail_nickname = ?, security_enabled = ?, mail_enabled = ?,
		created_at = ? WHERE tenant_id = ? AND id = ?`,
		g.DisplayName, g.MailNickname, g.SecurityEnabled, g.MailEnabled, s.t(g.CreatedAt), g.TenantID, g.ID); err != nil {
		return fmt.Errorf("update group %s: %w", g.ID, err)
	}
	return nil
}

// DeleteGroup deletes the group and every edge it is part of, as the group
// or as a member, together.
func (s *Store) DeleteGroup(ctx context.Context, tenantID, id string) error {
	err := s.recording(ctx, func(ts *Store) error {
		if err := ts.execOne(ctx, `DELETE FROM directory_groups WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
			return err
		}
		return ts.queryWrite(ctx, `DELETE FROM group_members WHERE tenant_id = ? AND (group_id = ? OR member_id = ?) RETURNING group_id, member_id`,
			[]any{tenantID, id, id}, func(r *sql.Rows) error {
				var group, member string
				if err := r.Scan(&group, &member); err != nil {
					return err
				}
				ts.changed(store.ChangeGroupMember, tenantID, store.MembershipChangeKey(group, member))
				return nil
			})
	})
	if err != nil {
		return fmt.Errorf("delete group %s: %w", id, err)
	}
	return nil
}

// --- group members ---

func (s *Store) AddGroupMember(ctx context.Context, m domain.GroupMembership) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeGroupMember, TenantID: m.TenantID, Key: store.MembershipChangeKey(m.GroupID, m.MemberID)}, true,
		`INSERT INTO group_members (tenant_id, group_id, member_id) VALUES (?, ?, ?)`,
		m.TenantID, m.GroupID, m.MemberID); err != nil {
		return fmt.Errorf("add member %s to group %s: %w", m.MemberID, m.GroupID, err)
	}
	return nil
}

func (s *Store) RemoveGroupMember(ctx context.Context, m domain.GroupMembership) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeGroupMember, TenantID: m.TenantID, Key: store.MembershipChangeKey(m.GroupID, m.MemberID)}, true,
		`DELETE FROM group_members WHERE tenant_id = ? AND group_id = ? AND member_id = ?`,
		m.TenantID, m.GroupID, m.MemberID); err != nil {
		return fmt.Errorf("remove member %s from group %s: %w", m.MemberID, m.GroupID, err)
	}
	return nil
}

func (s *Store) ListGroupMembers(ctx context.Context, tenantID, groupID string) ([]string, error) {
	out := []string{}
	err := s.queryAll(ctx, `SELECT member_id FROM group_members WHERE tenant_id = ? AND group_id = ? ORDER BY member_id`,
		[]any{tenantID, groupID}, func(r *sql.Rows) error {
			var id string
			if err := r.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list members of group %s: %w", groupID, err)
	}
	return out, nil
}

func (s *Store) ListGroupMemberships(ctx context.Context, tenantID string) ([]domain.GroupMembership, error) {
	out := []domain.GroupMembership{}
	err := s.queryAll(ctx, `SELECT tenant_id, group_id, member_id FROM group_members WHERE tenant_id = ? ORDER BY group_id, member_id`,
		[]any{tenantID}, func(r *sql.Rows) error {
			var m domain.GroupMembership
			if err := r.Scan(&m.TenantID, &m.GroupID, &m.MemberID); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list group memberships of %s: %w", tenantID, err)
	}
	return out, nil
}
