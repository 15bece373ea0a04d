package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// --- oAuth2PermissionGrants ---

const grantColumns = `tenant_id, id, client_id, consent_type, principal_id, resource_id, scope, created_at`

func scanGrant(r interface{ Scan(...any) error }) (domain.OAuth2PermissionGrant, error) {
	var (
		g         domain.OAuth2PermissionGrant
		createdAt dbTime
	)
	if err := r.Scan(&g.TenantID, &g.ID, &g.ClientID, &g.ConsentType, &g.PrincipalID, &g.ResourceID, &g.Scope, &createdAt); err != nil {
		return domain.OAuth2PermissionGrant{}, noRows(err)
	}
	g.CreatedAt = createdAt.T
	return g, nil
}

func (s *Store) CreatePermissionGrant(ctx context.Context, g domain.OAuth2PermissionGrant) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangePermissionGrant, TenantID: g.TenantID, Key: g.ID}, true,
		`INSERT INTO oauth2_permission_grants (`+grantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		g.TenantID, g.ID, g.ClientID, g.ConsentType, g.PrincipalID, g.ResourceID, g.Scope, s.t(g.CreatedAt)); err != nil {
		return fmt.Errorf("create permission grant %s: %w", g.ID, err)
	}
	return nil
}

func (s *Store) GetPermissionGrant(ctx context.Context, tenantID, id string) (domain.OAuth2PermissionGrant, error) {
	row, err := s.row(ctx, `SELECT `+grantColumns+` FROM oauth2_permission_grants WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err == nil {
		var g domain.OAuth2PermissionGrant
		if g, err = scanGrant(row); err == nil {
			return g, nil
		}
	}
	return domain.OAuth2PermissionGrant{}, fmt.Errorf("get permission grant %s: %w", id, err)
}

func (s *Store) ListPermissionGrants(ctx context.Context, tenantID string, f store.GrantFilter) ([]domain.OAuth2PermissionGrant, error) {
	where, args := []string{"tenant_id = ?"}, []any{tenantID}
	for _, c := range []struct{ col, v string }{
		{"client_id", f.ClientID}, {"resource_id", f.ResourceID}, {"consent_type", f.ConsentType}, {"principal_id", f.PrincipalID},
	} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	out := []domain.OAuth2PermissionGrant{}
	err := s.queryAll(ctx, `SELECT `+grantColumns+` FROM oauth2_permission_grants WHERE `+strings.Join(where, " AND ")+` ORDER BY created_at, id`,
		args, func(r *sql.Rows) error {
			g, err := scanGrant(r)
			if err != nil {
				return err
			}
			out = append(out, g)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list permission grants of %s: %w", tenantID, err)
	}
	return out, nil
}

func (s *Store) UpdatePermissionGrant(ctx context.Context, g domain.OAuth2PermissionGrant) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangePermissionGrant, TenantID: g.TenantID, Key: g.ID}, true,
		`UPDATE oauth2_permission_grants SET scope = ? WHERE tenant_id = ? AND id = ?`, g.Scope, g.TenantID, g.ID); err != nil {
		return fmt.Errorf("update permission grant %s: %w", g.ID, err)
	}
	return nil
}

func (s *Store) DeletePermissionGrant(ctx context.Context, tenantID, id string) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangePermissionGrant, TenantID: tenantID, Key: id}, true,
		`DELETE FROM oauth2_permission_grants WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
		return fmt.Errorf("delete permission grant %s: %w", id, err)
	}
	return nil
}

// --- token lifetime policies ---

const policyColumns = `tenant_id, id, display_name, definition, is_org_default, created_at`

func scanPolicy(r interface{ Scan(...any) error }) (domain.TokenLifetimePolicy, error) {
	var (
		p         domain.TokenLifetimePolicy
		def       string
		createdAt dbTime
	)
	if err := r.Scan(&p.TenantID, &p.ID, &p.DisplayName, &def, &p.IsOrganizationDefault, &createdAt); err != nil {
		return domain.TokenLifetimePolicy{}, noRows(err)
	}
	if err := json.Unmarshal([]byte(def), &p.Definition); err != nil {
		return domain.TokenLifetimePolicy{}, fmt.Errorf("decode definition: %w", err)
	}
	p.CreatedAt = createdAt.T
	return p, nil
}

func encodeDefinition(def []string) (string, error) {
	if def == nil {
		def = []string{}
	}
	b, err := json.Marshal(def)
	return string(b), err
}

func (s *Store) CreateTokenLifetimePolicy(ctx context.Context, p domain.TokenLifetimePolicy) error {
	def, err := encodeDefinition(p.Definition)
	if err == nil {
		err = s.execRecorded(ctx, store.Change{Kind: store.ChangeTokenLifetimePolicy, TenantID: p.TenantID, Key: p.ID}, true,
			`INSERT INTO token_lifetime_policies (`+policyColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			p.TenantID, p.ID, p.DisplayName, def, p.IsOrganizationDefault, s.t(p.CreatedAt))
	}
	if err != nil {
		return fmt.Errorf("create token lifetime policy %s: %w", p.ID, err)
	}
	return nil
}

func (s *Store) GetTokenLifetimePolicy(ctx context.Context, tenantID, id string) (domain.TokenLifetimePolicy, error) {
	row, err := s.row(ctx, `SELECT `+policyColumns+` FROM token_lifetime_policies WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err == nil {
		var p domain.TokenLifetimePolicy
		if p, err = scanPolicy(row); err == nil {
			return p, nil
		}
	}
	return domain.TokenLifetimePolicy{}, fmt.Errorf("get token lifetime policy %s: %w", id, err)
}

func (s *Store) ListTokenLifetimePolicies(ctx context.Context, tenantID string) ([]domain.TokenLifetimePolicy, error) {
	out := []domain.TokenLifetimePolicy{}
	err := s.queryAll(ctx, `SELECT `+policyColumns+` FROM token_lifetime_policies WHERE tenant_id = ? ORDER BY created_at, id`,
		[]any{tenantID}, func(r *sql.Rows) error {
			p, err := scanPolicy(r)
			if err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list token lifetime policies of %s: %w", tenantID, err)
	}
	return out, nil
}

func (s *Store) UpdateTokenLifetimePolicy(ctx context.Context, p domain.TokenLifetimePolicy) error {
	def, err := encodeDefinition(p.Definition)
	if err == nil {
		err = s.execRecorded(ctx, store.Change{Kind: store.ChangeTokenLifetimePolicy, TenantID: p.TenantID, Key: p.ID}, true,
			`UPDATE token_lifetime_policies SET display_name = ?, definition = ?, is_org_default = ? WHERE tenant_id = ? AND id = ?`,
			p.DisplayName, def, p.IsOrganizationDefault, p.TenantID, p.ID)
	}
	if err != nil {
		return fmt.Errorf("update token lifetime policy %s: %w", p.ID, err)
	}
	return nil
}

func (s *Store) DeleteTokenLifetimePolicy(ctx context.Context, tenantID, id string) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeTokenLifetimePolicy, TenantID: tenantID, Key: id}, true,
		`DELETE FROM token_lifetime_policies WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
		return fmt.Errorf("delete token lifetime policy %s: %w", id, err)
	}
	return nil
}
