package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// BootstrapFile is written once, on first start, with mode 0600.
const BootstrapFile = "bootstrap.json"

// Bootstrap is the content of bootstrap.json: what a tool needs to reach and
// administer a fresh Tessera. Field names are a contract.
type Bootstrap struct {
	URL                   string           `json:"url"`
	TenantID              string           `json:"tenantId"`
	Domain                string           `json:"domain"`
	SubscriptionID        string           `json:"subscriptionId"`
	CAFile                string           `json:"caFile"`
	Admin                 BootstrapUser    `json:"admin"`
	AdminServicePrincipal BootstrapService `json:"adminServicePrincipal"`
}

// BootstrapUser is the first administrator's sign-in.
type BootstrapUser struct {
	UserPrincipalName string `json:"userPrincipalName"`
	Password          string `json:"password"`
}

// BootstrapService is the administrator service principal's credentials.
type BootstrapService struct {
	AppID  string `json:"appId"`
	Secret string `json:"secret"`
}

// bootstrapClaim is a replay key used as a one-time claim, so that only one
// of several replicas starting together on one PostgreSQL bootstraps.
const bootstrapClaim = "tessera:bootstrap"

// homeTenant returns the first tenant ever created, bootstrapping the
// directory on first start.
func bootstrap(ctx context.Context, st store.Store, dataDir, publicURL, caFile, tenantName string, now func() time.Time) (domain.Tenant, bool, error) {
	if t, ok, err := firstTenant(ctx, st); err != nil || ok {
		return t, false, err
	}
	var tenant domain.Tenant
	path := filepath.Join(dataDir, BootstrapFile)
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.Remember(ctx, bootstrapClaim, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			return err
		}
		t := now().UTC()
		tenant = domain.Tenant{ID: directory.NewID(), DisplayName: "Tessera", Domains: []string{tenantName + ".tessera.local"}, CreatedAt: t}
		if err := tx.CreateTenant(ctx, tenant); err != nil {
			return err
		}
		sub := domain.Subscription{ID: directory.NewID(), TenantID: tenant.ID, DisplayName: "Tessera Subscription", State: "Enabled", CreatedAt: t}
		if err := tx.CreateSubscription(ctx, sub); err != nil {
			return err
		}
		password, err := directory.NewPassword()
		if err != nil {
			return err
		}
		hash, err := directory.HashPassword(password)
		if err != nil {
			return err
		}
		admin := domain.User{ID: directory.NewID(), TenantID: tenant.ID, UserPrincipalName: "admin@" + tenant.DefaultDomain(),
			DisplayName: "Tessera Administrator", MailNickname: "admin", AccountEnabled: true, PasswordHash: hash,
			PasswordChangedAt: t, CreatedAt: t}
		if err := tx.CreateUser(ctx, admin); err != nil {
			return err
		}
		dir := directory.NewService(tx, now)
		app, err := dir.CreateApplication(ctx, tenant.ID, directory.ApplicationInput{DisplayName: "tessera-admin"})
		if err != nil {
			return err
		}
		_, secret, err := dir.AddPassword(ctx, tenant.ID, app.ID, directory.PasswordInput{DisplayName: "bootstrap"})
		if err != nil {
			return err
		}
		sp, err := dir.CreateServicePrincipal(ctx, tenant.ID, app.AppID, true)
		if err != nil {
			return err
		}
		for _, p := range []struct{ id, typ string }{{admin.ID, domain.PrincipalUser}, {sp.ID, domain.PrincipalServicePrincipal}} {
			if err := tx.CreateDirectoryRoleAssignment(ctx, domain.DirectoryRoleAssignment{ID: directory.NewID(), TenantID: tenant.ID,
				PrincipalID: p.id, RoleTemplateID: domain.RoleGlobalAdministrator, CreatedAt: t}); err != nil {
				return err
			}
			if err := tx.CreateRoleAssignment(ctx, domain.RoleAssignment{ID: directory.NewID(), TenantID: tenant.ID, Scope: "/",
				RoleDefinitionID: domain.RoleOwner, PrincipalID: p.id, PrincipalType: p.typ,
				Description: "Bootstrap administrator", CreatedBy: "tessera", CreatedAt: t, UpdatedAt: t}); err != nil {
				return err
			}
		}
		b := Bootstrap{URL: publicURL, TenantID: tenant.ID, Domain: tenant.DefaultDomain(), SubscriptionID: sub.ID, CAFile: caFile,
			Admin:                 BootstrapUser{UserPrincipalName: admin.UserPrincipalName, Password: password},
			AdminServicePrincipal: BootstrapService{AppID: app.AppID, Secret: secret}}
		data, err := json.MarshalIndent(b, "", "  ")
		if err != nil {
			return err
		}
		// Written before commit: if the commit fails the file is removed, and
		// a crash between the two leaves a file for a directory that will be
		// bootstrapped again with new secrets on the next start.
		return writeFileAtomic(path, append(data, '\n'), 0o600)
	})
	if errors.Is(err, store.ErrConflict) {
		// Another replica bootstrapped: wait for its tenant.
		for i := 0; i < 50; i++ {
			if t, ok, err := firstTenant(ctx, st); err != nil || ok {
				return t, false, err
			}
			time.Sleep(100 * time.Millisecond)
		}
		return domain.Tenant{}, false, errors.New("another replica claimed the bootstrap but no tenant appeared")
	}
	if err != nil {
		_ = os.Remove(path)
		return domain.Tenant{}, false, fmt.Errorf("bootstrap: %w", err)
	}
	return tenant, true, nil
}

func firstTenant(ctx context.Context, st store.Tenants) (domain.Tenant, bool, error) {
	ts, err := st.ListTenants(ctx)
	if err != nil {
		return domain.Tenant{}, false, fmt.Errorf("list tenants: %w", err)
	}
	if len(ts) == 0 {
		return domain.Tenant{}, false, nil
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].CreatedAt.Before(ts[j].CreatedAt) })
	return ts[0], true, nil
}

// ReadBootstrap reads bootstrap.json from a data directory.
func ReadBootstrap(dataDir string) (Bootstrap, error) {
	var b Bootstrap
	data, err := os.ReadFile(filepath.Join(dataDir, BootstrapFile))
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("parse %s: %w", BootstrapFile, err)
	}
	return b, nil
}
