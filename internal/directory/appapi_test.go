package directory_test

import (
	"testing"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
)

func scope(value string) domain.PermissionScope {
	return domain.PermissionScope{ID: directory.NewID(), Value: value, Type: "User", IsEnabled: true}
}

func TestPermissionScopesValidated(t *testing.T) {
	e := newEnv(t)
	dup := scope("Files.Read")
	sameID := scope("Other")
	sameID.ID = dup.ID
	badType := scope("X")
	badType.Type = "Everyone"
	notGUID := scope("Y")
	notGUID.ID = "scope-1"
	for name, scopes := range map[string][]domain.PermissionScope{
		"space in value":  {scope("Files Read")},
		"duplicate value": {scope("Files.Read"), scope("files.read")},
		"duplicate id":    {dup, sameID},
		"bad type":        {badType},
		"id not a GUID":   {notGUID},
	} {
		_, err := e.dir.CreateApplication(e.ctx, e.tenant.ID, directory.ApplicationInput{DisplayName: "api", API: directory.APIInput{OAuth2PermissionScopes: scopes}})
		if fault.KindOf(err) != fault.Invalid {
			t.Errorf("%s: got %v, want an invalid refusal", name, err)
		}
	}
	claims := "Everything"
	if _, err := e.dir.CreateApplication(e.ctx, e.tenant.ID, directory.ApplicationInput{DisplayName: "api", API: directory.APIInput{GroupMembershipClaims: &claims}}); fault.KindOf(err) != fault.Invalid {
		t.Errorf("groupMembershipClaims Everything: got %v", err)
	}
}

func TestPermissionScopesCopiedToServicePrincipal(t *testing.T) {
	e := newEnv(t)
	app, sp := e.app(t, "api")
	if len(sp.OAuth2PermissionScopes) != 0 {
		t.Fatalf("new service principal has scopes %v", sp.OAuth2PermissionScopes)
	}
	scopes := []domain.PermissionScope{scope("Files.Read")}
	if _, err := e.dir.UpdateApplication(e.ctx, e.tenant.ID, app.ID, directory.ApplicationPatch{API: directory.APIPatch{OAuth2PermissionScopes: &scopes}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.dir.GetServicePrincipal(e.ctx, e.tenant.ID, sp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.OAuth2PermissionScopes) != 1 || got.OAuth2PermissionScopes[0].Value != "Files.Read" {
		t.Fatalf("service principal scopes = %v", got.OAuth2PermissionScopes)
	}
}

func TestEnabledScopeMustBeDisabledBeforeRemoval(t *testing.T) {
	e := newEnv(t)
	sc := scope("Files.Read")
	app, err := e.dir.CreateApplication(e.ctx, e.tenant.ID, directory.ApplicationInput{DisplayName: "api", API: directory.APIInput{OAuth2PermissionScopes: []domain.PermissionScope{sc}}})
	if err != nil {
		t.Fatal(err)
	}
	patch := func(scopes ...domain.PermissionScope) error {
		if scopes == nil {
			scopes = []domain.PermissionScope{}
		}
		_, err := e.dir.UpdateApplication(e.ctx, e.tenant.ID, app.ID, directory.ApplicationPatch{API: directory.APIPatch{OAuth2PermissionScopes: &scopes}})
		return err
	}
	if err := patch(); fault.KindOf(err) != fault.Invalid {
		t.Fatalf("removing an enabled scope: %v", err)
	}
	renamed := sc
	renamed.Value = "Files.ReadAll"
	if err := patch(renamed); fault.KindOf(err) != fault.Invalid {
		t.Fatalf("renaming an enabled scope: %v", err)
	}
	disabled := sc
	disabled.IsEnabled = false
	if err := patch(disabled); err != nil {
		t.Fatal(err)
	}
	if err := patch(); err != nil {
		t.Fatalf("removing a disabled scope: %v", err)
	}
}
