package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/storedoc"
)

// --- tenants ---

func (s *Store) CreateTenant(ctx context.Context, t domain.Tenant) error {
	doc, err := storedoc.EncodeTenant(t)
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", t.ID, err)
	}
	err = s.recording(ctx, func(ts *Store) error {
		if _, err := ts.exec(ctx, `INSERT INTO tenants (id, created_at, doc) VALUES (?, ?, ?)`,
			t.ID, s.t(t.CreatedAt), string(doc)); err != nil {
			return err
		}
		ts.changed(store.ChangeTenant, t.ID, t.ID)
		return ts.insertDomains(ctx, t)
	})
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", t.ID, err)
	}
	return nil
}

// insertDomains indexes t's domains; a domain already taken (by any tenant,
// in any case) is ErrConflict.
func (s *Store) insertDomains(ctx context.Context, t domain.Tenant) error {
	for _, d := range t.Domains {
		if _, err := s.exec(ctx, `INSERT INTO tenant_domains (domain_key, tenant_id) VALUES (?, ?)`, storedoc.Key(d), t.ID); err != nil {
			return fmt.Errorf("domain %s: %w", d, err)
		}
	}
	return nil
}

func (s *Store) GetTenant(ctx context.Context, id string) (domain.Tenant, error) {
	var doc []byte
	if err := s.queryRow(ctx, `SELECT doc FROM tenants WHERE id = ?`, []any{id}, &doc); err != nil {
		return domain.Tenant{}, fmt.Errorf("get tenant %s: %w", id, err)
	}
	t, err := storedoc.DecodeTenant(doc)
	if err != nil {
		return domain.Tenant{}, fmt.Errorf("get tenant %s: decode: %w", id, err)
	}
	return t, nil
}

func (s *Store) GetTenantByDomain(ctx context.Context, name string) (domain.Tenant, error) {
	var doc []byte
	if err := s.queryRow(ctx, `SELECT t.doc FROM tenant_domains d JOIN tenants t ON t.id = d.tenant_id WHERE d.domain_key = ?`,
		[]any{storedoc.Key(name)}, &doc); err != nil {
		return domain.Tenant{}, fmt.Errorf("get tenant by domain %s: %w", name, err)
	}
	t, err := storedoc.DecodeTenant(doc)
	if err != nil {
		return domain.Tenant{}, fmt.Errorf("get tenant by domain %s: decode: %w", name, err)
	}
	return t, nil
}

func (s *Store) ListTenants(ctx context.Context) ([]domain.Tenant, error) {
	out := []domain.Tenant{}
	err := s.queryAll(ctx, `SELECT doc FROM tenants ORDER BY created_at, id`, nil, func(r *sql.Rows) error {
		var doc []byte
		if err := r.Scan(&doc); err != nil {
			return err
		}
		t, err := storedoc.DecodeTenant(doc)
		if err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// UpdateTenant replaces the tenant, domains included.
func (s *Store) UpdateTenant(ctx context.Context, t domain.Tenant) error {
	doc, err := storedoc.EncodeTenant(t)
	if err != nil {
		return fmt.Errorf("update tenant %s: %w", t.ID, err)
	}
	err = s.recording(ctx, func(ts *Store) error {
		if err := ts.execOne(ctx, `UPDATE tenants SET created_at = ?, doc = ? WHERE id = ?`,
			s.t(t.CreatedAt), string(doc), t.ID); err != nil {
			return err
		}
		ts.changed(store.ChangeTenant, t.ID, t.ID)
		if _, err := ts.exec(ctx, `DELETE FROM tenant_domains WHERE tenant_id = ?`, t.ID); err != nil {
			return err
		}
		return ts.insertDomains(ctx, t)
	})
	if err != nil {
		return fmt.Errorf("update tenant %s: %w", t.ID, err)
	}
	return nil
}

// --- users ---

const userColumns = `tenant_id, id, upn, display_name, mail_nickname, account_enabled, password_hash, password_changed_at, created_at, force_change_password, given_name, surname, mail`

func scanUser(r interface{ Scan(...any) error }) (domain.User, error) {
	var (
		u                  domain.User
		changed, createdAt dbTime
	)
	if err := r.Scan(&u.TenantID, &u.ID, &u.UserPrincipalName, &u.DisplayName, &u.MailNickname,
		&u.AccountEnabled, &u.PasswordHash, &changed, &createdAt, &u.ForceChangePassword, &u.GivenName, &u.Surname, &u.Mail); err != nil {
		return domain.User{}, noRows(err)
	}
	u.PasswordChangedAt = changed.T
	u.CreatedAt = createdAt.T
	return u, nil
}

func (s *Store) CreateUser(ctx context.Context, u domain.User) error {
	if _, err := s.exec(ctx, `INSERT INTO users (`+userColumns+`, upn_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.TenantID, u.ID, u.UserPrincipalName, u.DisplayName, u.MailNickname, u.AccountEnabled, u.PasswordHash,
		s.t(u.PasswordChangedAt), s.t(u.CreatedAt), u.ForceChangePassword, u.GivenName, u.Surname, u.Mail, storedoc.Key(u.UserPrincipalName)); err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	return nil
}

func (s *Store) GetUser(ctx context.Context, tenantID, id string) (domain.User, error) {
	u, err := s.oneUser(ctx, `SELECT `+userColumns+` FROM users WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return domain.User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

func (s *Store) GetUserByUPN(ctx context.Context, tenantID, upn string) (domain.User, error) {
	u, err := s.oneUser(ctx, `SELECT `+userColumns+` FROM users WHERE tenant_id = ? AND upn_key = ?`, tenantID, storedoc.Key(upn))
	if err != nil {
		return domain.User{}, fmt.Errorf("get user by upn %s: %w", upn, err)
	}
	return u, nil
}

func (s *Store) oneUser(ctx context.Context, q string, args ...any) (domain.User, error) {
	row, err := s.row(ctx, q, args...)
	if err != nil {
		return domain.User{}, err
	}
	return scanUser(row)
}

func (s *Store) ListUsers(ctx context.Context, tenantID string) ([]domain.User, error) {
	out := []domain.User{}
	err := s.queryAll(ctx, `SELECT `+userColumns+` FROM users WHERE tenant_id = ? ORDER BY created_at, id`,
		[]any{tenantID}, func(r *sql.Rows) error {
			u, err := scanUser(r)
			if err != nil {
				return err
			}
			out = append(out, u)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list users of %s: %w", tenantID, err)
	}
	return out, nil
}

func (s *Store) UpdateUser(ctx context.Context, u domain.User) error {
	if err := s.execOne(ctx, `UPDATE users SET upn = ?, upn_key = ?, display_name = ?, mail_nickname = ?, account_enabled = ?,
		password_hash = ?, password_changed_at = ?, created_at = ?, force_change_password = ?,
		given_name = ?, surname = ?, mail = ? WHERE tenant_id = ? AND id = ?`,
		u.UserPrincipalName, storedoc.Key(u.UserPrincipalName), u.DisplayName, u.MailNickname, u.AccountEnabled,
		u.PasswordHash, s.t(u.PasswordChangedAt), s.t(u.CreatedAt), u.ForceChangePassword,
		u.GivenName, u.Surname, u.Mail, u.TenantID, u.ID); err != nil {
		return fmt.Errorf("update user %s: %w", u.ID, err)
	}
	return nil
}

func (s *Store) DeleteUser(ctx context.Context, tenantID, id string) error {
	if err := s.execOne(ctx, `DELETE FROM users WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// --- applications ---

func (s *Store) CreateApplication(ctx context.Context, a domain.Application) error {
	doc, err := storedoc.EncodeApplication(a)
	if err != nil {
		return fmt.Errorf("create application %s: %w", a.ID, err)
	}
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeApplication, TenantID: a.TenantID, Key: a.ID}, true,
		`INSERT INTO applications (tenant_id, id, app_id_key, display_name, created_at, doc) VALUES (?, ?, ?, ?, ?, ?)`,
		a.TenantID, a.ID, storedoc.Key(a.AppID), a.DisplayName, s.t(a.CreatedAt), string(doc)); err != nil {
		return fmt.Errorf("create application %s: %w", a.ID, err)
	}
	return nil
}

func (s *Store) GetApplication(ctx context.Context, tenantID, id string) (domain.Application, error) {
	a, err := s.oneApplication(ctx, `SELECT doc FROM applications WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return domain.Application{}, fmt.Errorf("get application %s: %w", id, err)
	}
	return a, nil
}

func (s *Store) GetApplicationByAppID(ctx context.Context, tenantID, appID string) (domain.Application, error) {
	a, err := s.oneApplication(ctx, `SELECT doc FROM applications WHERE tenant_id = ? AND app_id_key = ?`, tenantID, storedoc.Key(appID))
	if err != nil {
		return domain.Application{}, fmt.Errorf("get application by appId %s: %w", appID, err)
	}
	return a, nil
}

func (s *Store) oneApplication(ctx context.Context, q string, args ...any) (domain.Application, error) {
	var doc []byte
	if err := s.queryRow(ctx, q, args, &doc); err != nil {
		return domain.Application{}, err
	}
	a, err := storedoc.DecodeApplication(doc)
	if err != nil {
		return domain.Application{}, fmt.Errorf("decode: %w", err)
	}
	return a, nil
}

func (s *Store) ListApplications(ctx context.Context, tenantID string) ([]domain.Application, error) {
	out := []domain.Application{}
	err := s.queryAll(ctx, `SELECT doc FROM applications WHERE tenant_id = ? ORDER BY created_at, id`,
		[]any{tenantID}, func(r *sql.Rows) error {
			var doc []byte
			if err := r.Scan(&doc); err != nil {
				return err
			}
			a, err := storedoc.DecodeApplication(doc)
			if err != nil {
				return fmt.Errorf("decode: %w", err)
			}
			out = append(out, a)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list applications of %s: %w", tenantID, err)
	}
	return out, nil
}

func (s *Store) UpdateApplication(ctx context.Context, a domain.Application) error {
	doc, err := storedoc.EncodeApplication(a)
	if err != nil {
		return fmt.Errorf("update application %s: %w", a.ID, err)
	}
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeApplication, TenantID: a.TenantID, Key: a.ID}, true,
		`UPDATE applications SET app_id_key = ?, display_name = ?, created_at = ?, doc = ? WHERE tenant_id = ? AND id = ?`,
		storedoc.Key(a.AppID), a.DisplayName, s.t(a.CreatedAt), string(doc), a.TenantID, a.ID); err != nil {
		return fmt.Errorf("update application %s: %w", a.ID, err)
	}
	return nil
}

func (s *Store) DeleteApplication(ctx context.Context, tenantID, id string) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeApplication, TenantID: tenantID, Key: id}, true,
		`DELETE FROM applications WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
		return fmt.Errorf("delete application %s: %w", id, err)
	}
	return nil
}

// --- service principals ---

func (s *Store) CreateServicePrincipal(ctx context.Context, sp domain.ServicePrincipal) error {
	doc, err := storedoc.EncodeServicePrincipal(sp)
	if err != nil {
		return fmt.Errorf("create service principal %s: %w", sp.ID, err)
	}
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeServicePrincipal, TenantID: sp.TenantID, Key: sp.ID}, true,
		`INSERT INTO service_principals (tenant_id, id, app_id_key, display_name, created_at, doc) VALUES (?, ?, ?, ?, ?, ?)`,
		sp.TenantID, sp.ID, storedoc.Key(sp.AppID), sp.DisplayName, s.t(sp.CreatedAt), string(doc)); err != nil {
		return fmt.Errorf("create service principal %s: %w", sp.ID, err)
	}
	return nil
}

func (s *Store) GetServicePrincipal(ctx context.Context, tenantID, id string) (domain.ServicePrincipal, error) {
	sp, err := s.oneServicePrincipal(ctx, `SELECT doc FROM service_principals WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return domain.ServicePrincipal{}, fmt.Errorf("get service principal %s: %w", id, err)
	}
	return sp, nil
}

func (s *Store) GetServicePrincipalByAppID(ctx context.Context, tenantID, appID string) (domain.ServicePrincipal, error) {
	sp, err := s.oneServicePrincipal(ctx, `SELECT doc FROM service_principals WHERE tenant_id = ? AND app_id_key = ?`, tenantID, storedoc.Key(appID))
	if err != nil {
		return domain.ServicePrincipal{}, fmt.Errorf("get service principal by appId %s: %w", appID, err)
	}
	return sp, nil
}

func (s *Store) oneServicePrincipal(ctx context.Context, q string, args ...any) (domain.ServicePrincipal, error) {
	var doc []byte
	if err := s.queryRow(ctx, q, args, &doc); err != nil {
		return domain.ServicePrincipal{}, err
	}
	sp, err := storedoc.DecodeServicePrincipal(doc)
	if err != nil {
		return domain.ServicePrincipal{}, fmt.Errorf("decode: %w", err)
	}
	return sp, nil
}

func (s *Store) ListServicePrincipals(ctx context.Context, tenantID string) ([]domain.ServicePrincipal, error) {
	out := []domain.ServicePrincipal{}
	err := s.queryAll(ctx, `SELECT doc FROM service_principals WHERE tenant_id = ? ORDER BY created_at, id`,
		[]any{tenantID}, func(r *sql.Rows) error {
			var doc []byte
			if err := r.Scan(&doc); err != nil {
				return err
			}
			sp, err := storedoc.DecodeServicePrincipal(doc)
			if err != nil {
				return fmt.Errorf("decode: %w", err)
			}
			out = append(out, sp)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list service principals of %s: %w", tenantID, err)
	}
	return out, nil
}

func (s *Store) UpdateServicePrincipal(ctx context.Context, sp domain.ServicePrincipal) error {
	doc, err := storedoc.EncodeServicePrincipal(sp)
	if err != nil {
		return fmt.Errorf("update service principal %s: %w", sp.ID, err)
	}
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeServicePrincipal, TenantID: sp.TenantID, Key: sp.ID}, true,
		`UPDATE service_principals SET app_id_key = ?, display_name = ?, created_at = ?, doc = ? WHERE tenant_id = ? AND id = ?`,
		storedoc.Key(sp.AppID), sp.DisplayName, s.t(sp.CreatedAt), string(doc), sp.TenantID, sp.ID); err != nil {
		return fmt.Errorf("update service principal %s: %w", sp.ID, err)
	}
	return nil
}

func (s *Store) DeleteServicePrincipal(ctx context.Context, tenantID, id string) error {
	if err := s.execRecorded(ctx, store.Change{Kind: store.ChangeServicePrincipal, TenantID: tenantID, Key: id}, true,
		`DELETE FROM service_principals WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
		return fmt.Errorf("delete service principal %s: %w", id, err)
	}
	return nil
}

// --- app role assignments ---

func (s *Store) CreateAppRoleAssignment(ctx context.Context, a domain.AppRoleAssignment) error {
	if _, err := s.exec(ctx, `INSERT INTO app_role_assignments (tenant_id, id, principal_id, resource_id, app_role_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		a.TenantID, a.ID, a.PrincipalID, a.ResourceID, a.AppRoleID, s.t(a.CreatedAt)); err != nil {
		return fmt.Errorf("create app role assignment %s: %w", a.ID, err)
	}
	return nil
}

func (s *Store) ListAppRoleAssignments(ctx context.Context, tenantID, principalID string) ([]domain.AppRoleAssignment, error) {
	out := []domain.AppRoleAssignment{}
	err := s.queryAll(ctx, `SELECT tenant_id, id, principal_id, resource_id, app_role_id, created_at FROM app_role_assignments
		WHERE tenant_id = ? AND principal_id = ? ORDER BY created_at, id`,
		[]any{tenantID, principalID}, func(r *sql.Rows) error {
			var (
				a         domain.AppRoleAssignment
				createdAt dbTime
			)
			if err := r.Scan(&a.TenantID, &a.ID, &a.PrincipalID, &a.ResourceID, &a.AppRoleID, &createdAt); err != nil {
				return err
			}
			a.CreatedAt = createdAt.T
			out = append(out, a)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list app role assignments of %s: %w", principalID, err)
	}
	return out, nil
}

func (s *Store) DeleteAppRoleAssignment(ctx context.Context, tenantID, id string) error {
	if err := s.execOne(ctx, `DELETE FROM app_role_assignments WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
		return fmt.Errorf("delete app role assignment %s: %w", id, err)
	}
	return nil
}

// --- directory role assignments ---

func (s *Store) CreateDirectoryRoleAssignment(ctx context.Context, a domain.DirectoryRoleAssignment) error {
	if _, err := s.exec(ctx, `INSERT INTO directory_role_assignments (tenant_id, id, principal_id, role_template_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		a.TenantID, a.ID, a.PrincipalID, a.RoleTemplateID, s.t(a.CreatedAt)); err != nil {
		return fmt.Errorf("create directory role assignment %s: %w", a.ID, err)
	}
	return nil
}

func (s *Store) ListDirectoryRoleAssignments(ctx context.Context, tenantID, principalID string) ([]domain.DirectoryRoleAssignment, error) {
	out := []domain.DirectoryRoleAssignment{}
	err := s.queryAll(ctx, `SELECT tenant_id, id, principal_id, role_template_id, created_at FROM directory_role_assignments
		WHERE tenant_id = ? AND principal_id = ? ORDER BY created_at, id`,
		[]any{tenantID, principalID}, func(r *sql.Rows) error {
			var (
				a         domain.DirectoryRoleAssignment
				createdAt dbTime
			)
			if err := r.Scan(&a.TenantID, &a.ID, &a.PrincipalID, &a.RoleTemplateID, &createdAt); err != nil {
				return err
			}
			a.CreatedAt = createdAt.T
			out = append(out, a)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list directory role assignments of %s: %w", principalID, err)
	}
	return out, nil
}

func (s *Store) DeleteDirectoryRoleAssignment(ctx context.Context, tenantID, id string) error {
	if err := s.execOne(ctx, `DELETE FROM directory_role_assignments WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
		return fmt.Errorf("delete directory role assignment %s: %w", id, err)
	}
	return nil
}
