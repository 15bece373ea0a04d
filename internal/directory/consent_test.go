package directory_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

func TestConsentMergesAndGrantedScopesUnites(t *testing.T) {
	e := newEnv(t)
	_, client := e.app(t, "client")
	_, resource := e.app(t, "api")
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ctx, tn := e.ctx, e.tenant.ID

	if _, err := e.dir.Consent(ctx, tn, client.ID, resource.ID, "", []string{"Files.Read"}); err != nil {
		t.Fatal(err)
	}
	first, err := e.dir.Consent(ctx, tn, client.ID, resource.ID, alice.ID, []string{"Mail.Read files.read"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.dir.Consent(ctx, tn, client.ID, resource.ID, alice.ID, []string{"Mail.Send", "Mail.Read"})
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || second.Scope != "Mail.Read files.read Mail.Send" {
		t.Fatalf("merged grant %+v (first %s)", second, first.ID)
	}
	grants, err := e.dir.ListPermissionGrants(ctx, tn, store.GrantFilter{ClientID: client.ID})
	if err != nil || len(grants) != 2 {
		t.Fatalf("grants %+v %v", grants, err)
	}
	for name, c := range map[string]struct {
		user string
		want []string
	}{
		"alice":    {alice.ID, []string{"Files.Read", "Mail.Read", "Mail.Send"}},
		"bob":      {bob.ID, []string{"Files.Read"}},
		"app-only": {"", []string{"Files.Read"}},
	} {
		got, err := e.dir.GrantedScopes(ctx, tn, client.ID, resource.ID, c.user)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: granted %v, want %v", name, got, c.want)
		}
	}
	if got, _ := e.dir.GrantedScopes(ctx, tn, resource.ID, client.ID, alice.ID); len(got) != 0 {
		t.Errorf("reverse direction granted %v", got)
	}
	if _, err := e.dir.Consent(ctx, tn, client.ID, resource.ID, alice.ID, nil); fault.KindOf(err) != fault.Invalid {
		t.Errorf("empty consent: %v", err)
	}
	if _, err := e.dir.Consent(ctx, tn, client.ID, directory.NewID(), alice.ID, []string{"x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consent to a missing resource: %v", err)
	}
}

func TestPermissionGrantRules(t *testing.T) {
	e := newEnv(t)
	_, client := e.app(t, "client")
	_, resource := e.app(t, "api")
	alice := e.user(t, "alice")
	ctx, tn := e.ctx, e.tenant.ID
	ok := directory.PermissionGrantInput{ClientID: client.ID, ResourceID: resource.ID, ConsentType: domain.ConsentPrincipal, PrincipalID: alice.ID, Scope: " User.Read  User.Read Files.Read "}
	g, err := e.dir.CreatePermissionGrant(ctx, tn, ok)
	if err != nil {
		t.Fatal(err)
	}
	if g.Scope != "User.Read Files.Read" {
		t.Errorf("scope %q", g.Scope)
	}
	if _, err := e.dir.CreatePermissionGrant(ctx, tn, ok); fault.KindOf(err) != fault.Invalid {
		t.Errorf("duplicate grant: %v", err)
	}
	bad := []directory.PermissionGrantInput{
		{ClientID: client.ID, ResourceID: resource.ID, ConsentType: "Everyone", Scope: "x"},
		{ClientID: client.ID, ResourceID: resource.ID, ConsentType: domain.ConsentPrincipal, Scope: "x"},
		{ClientID: client.ID, ResourceID: resource.ID, ConsentType: domain.ConsentAllPrincipals, PrincipalID: alice.ID, Scope: "x"},
		{ClientID: client.ID, ResourceID: resource.ID, ConsentType: domain.ConsentAllPrincipals, Scope: "  "},
		{ClientID: "not-a-guid", ResourceID: resource.ID, ConsentType: domain.ConsentAllPrincipals, Scope: "x"},
	}
	for i, in := range bad {
		if _, err := e.dir.CreatePermissionGrant(ctx, tn, in); fault.KindOf(err) != fault.Invalid {
			t.Errorf("bad[%d]: %v", i, err)
		}
	}
	if _, err := e.dir.UpdatePermissionGrantScope(ctx, tn, g.ID, "Files.Write"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.dir.GetPermissionGrant(ctx, tn, g.ID); got.Scope != "Files.Write" {
		t.Errorf("after update %q", got.Scope)
	}

	// Deleting the user takes the user's grants; deleting a service
	// principal takes those it is the client or the resource of.
	if _, err := e.dir.CreatePermissionGrant(ctx, tn, directory.PermissionGrantInput{ClientID: client.ID, ResourceID: resource.ID, ConsentType: domain.ConsentAllPrincipals, Scope: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, rm, err := e.dir.DeleteUser(ctx, tn, alice.ID); err != nil || len(rm.PermissionGrants) != 1 {
		t.Fatalf("delete user: %+v %v", rm, err)
	}
	if _, rm, err := e.dir.DeleteServicePrincipal(ctx, tn, resource.ID); err != nil || len(rm.PermissionGrants) != 1 {
		t.Fatalf("delete resource: %+v %v", rm, err)
	}
	if left, _ := e.dir.ListPermissionGrants(ctx, tn, store.GrantFilter{}); len(left) != 0 {
		t.Fatalf("grants left %+v", left)
	}
}

func TestPermissionGrantAuthorization(t *testing.T) {
	e := newEnv(t)
	plain := e.user(t, "plain")
	appAdmin := e.user(t, "appadmin")
	e.grant(t, appAdmin.ID, domain.RoleCloudApplicationAdministrator)
	for who, want := range map[string]error{plain.ID: directory.ErrForbidden, appAdmin.ID: nil, e.admin.ObjectID: nil} {
		if err := e.dir.Authorize(e.ctx, directory.Actor{TenantID: e.tenant.ID, ObjectID: who}, directory.OpManagePermissionGrants, ""); !errors.Is(err, want) && err != want {
			t.Errorf("%s: %v, want %v", who, err, want)
		}
	}
	if err := e.dir.Authorize(e.ctx, directory.Actor{TenantID: e.tenant.ID, ObjectID: appAdmin.ID}, directory.OpManagePolicies, ""); !errors.Is(err, directory.ErrForbidden) {
		t.Errorf("application administrator changing policies: %v", err)
	}
}

func TestUserConsentSetting(t *testing.T) {
	e := newEnv(t)
	ctx, tn := e.ctx, e.tenant.ID
	if ok, err := e.dir.UserConsentAllowed(ctx, tn); err != nil || !ok {
		t.Fatalf("default: %v %v", ok, err)
	}
	p, _ := e.dir.GetAuthorizationPolicy(ctx, tn)
	if !reflect.DeepEqual(p.PermissionGrantPoliciesAssigned, []string{directory.DefaultPermissionGrantPolicy}) {
		t.Fatalf("default policy %v", p)
	}
	if _, err := e.dir.SetPermissionGrantPolicies(ctx, tn, []string{}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.dir.UserConsentAllowed(ctx, tn); ok {
		t.Fatal("users may still consent after [] was set")
	}
	if _, err := e.dir.SetPermissionGrantPolicies(ctx, tn, []string{"Everything"}); fault.KindOf(err) != fault.Invalid {
		t.Fatalf("unknown policy: %v", err)
	}
	if _, err := e.dir.SetPermissionGrantPolicies(ctx, tn, []string{"ManagePermissionGrantsForSelf.microsoft-user-default-low"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.dir.UserConsentAllowed(ctx, tn); !ok {
		t.Fatal("users may not consent under the low-risk policy")
	}
}

func policyDef(lifetime string) []string {
	return []string{`{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"` + lifetime + `"}}`}
}

func TestTokenLifetimeDefinition(t *testing.T) {
	for def, want := range map[string]time.Duration{
		"00:10:00":   10 * time.Minute,
		"02:00:00":   2 * time.Hour,
		"23:59:59":   24*time.Hour - time.Second,
		"1.00:00:00": 24 * time.Hour,
	} {
		got, ok, err := directory.ParseTokenLifetimeDefinition(policyDef(def))
		if err != nil || !ok || got != want {
			t.Errorf("%s: %v %v %v", def, got, ok, err)
		}
	}
	for _, def := range []string{"00:09:59", "1.00:00:01", "2.00:00:00", "24:00:00", "00:60:00", "2h", ""} {
		if _, _, err := directory.ParseTokenLifetimeDefinition(policyDef(def)); fault.KindOf(err) != fault.Invalid {
			t.Errorf("%q accepted: %v", def, err)
		}
	}
	for _, d := range [][]string{nil, {"not json"}, {`{"TokenLifetimePolicy":{"Version":2,"AccessTokenLifetime":"02:00:00"}}`}, {`{}`}, append(policyDef("02:00:00"), policyDef("03:00:00")...)} {
		if _, _, err := directory.ParseTokenLifetimeDefinition(d); fault.KindOf(err) != fault.Invalid {
			t.Errorf("%v accepted: %v", d, err)
		}
	}
}

func TestAccessTokenLifetime(t *testing.T) {
	e := newEnv(t)
	ctx, tn := e.ctx, e.tenant.ID
	app, _ := e.app(t, "api")
	other, _ := e.app(t, "other")
	if _, ok, err := e.dir.AccessTokenLifetime(ctx, tn, app.AppID); ok || err != nil {
		t.Fatalf("no policy: %v %v", ok, err)
	}
	def, err := e.dir.CreateTokenLifetimePolicy(ctx, tn, directory.TokenLifetimePolicyInput{DisplayName: "org", Definition: policyDef("04:00:00"), IsOrganizationDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.CreateTokenLifetimePolicy(ctx, tn, directory.TokenLifetimePolicyInput{DisplayName: "org2", Definition: policyDef("04:00:00"), IsOrganizationDefault: true}); fault.KindOf(err) != fault.Invalid {
		t.Fatalf("second default: %v", err)
	}
	short, err := e.dir.CreateTokenLifetimePolicy(ctx, tn, directory.TokenLifetimePolicyInput{DisplayName: "short", Definition: policyDef("00:30:00")})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.dir.AssignTokenLifetimePolicy(ctx, tn, app.ID, short.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.dir.AssignTokenLifetimePolicy(ctx, tn, app.ID, def.ID); fault.KindOf(err) != fault.Invalid {
		t.Fatalf("second policy on one app: %v", err)
	}
	for appID, want := range map[string]time.Duration{app.AppID: 30 * time.Minute, other.AppID: 4 * time.Hour, directory.NewID(): 4 * time.Hour} {
		got, ok, err := e.dir.AccessTokenLifetime(ctx, tn, appID)
		if err != nil || !ok || got != want {
			t.Errorf("%s: %v %v %v, want %v", appID, got, ok, err, want)
		}
	}
	if err := e.dir.DeleteTokenLifetimePolicy(ctx, tn, short.ID); err != nil {
		t.Fatal(err)
	}
	if ps, err := e.dir.ApplicationTokenLifetimePolicies(ctx, tn, app.ID); err != nil || len(ps) != 0 {
		t.Fatalf("policies after delete: %+v %v", ps, err)
	}
	if got, _, _ := e.dir.AccessTokenLifetime(ctx, tn, app.AppID); got != 4*time.Hour {
		t.Fatalf("after the app's policy went: %v", got)
	}
}

func TestMemberGroupIDsAndRoleTemplateIDs(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "u")
	inner, outer := e.group(t, "inner"), e.group(t, "outer")
	e.add(t, inner.ID, u.ID)
	e.add(t, outer.ID, inner.ID)
	e.add(t, outer.ID, u.ID) // reached twice
	got, err := e.dir.GetMemberGroups(e.ctx, e.tenant.ID, u.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("groups %v", got)
	}
	e.grant(t, u.ID, domain.RoleUserAdministrator)
	e.grant(t, u.ID, domain.RoleGroupsAdministrator)
	wids, err := e.dir.DirectoryRoleTemplateIDs(e.ctx, e.tenant.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(wids, []string{domain.RoleUserAdministrator, domain.RoleGroupsAdministrator}) &&
		!reflect.DeepEqual(wids, []string{domain.RoleGroupsAdministrator, domain.RoleUserAdministrator}) || len(wids) != 2 {
		t.Fatalf("wids %v", wids)
	}
}

func TestConcurrentConsentMergesIntoOneGrant(t *testing.T) {
	e := newEnv(t)
	_, client := e.app(t, "client")
	_, resource := e.app(t, "api")
	alice := e.user(t, "alice")
	scopes := []string{"A", "B", "C", "D", "E", "F"}
	errs := make(chan error, len(scopes))
	for _, sc := range scopes {
		go func() {
			_, err := e.dir.Consent(e.ctx, e.tenant.ID, client.ID, resource.ID, alice.ID, []string{sc})
			errs <- err
		}()
	}
	for range scopes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	grants, err := e.dir.ListPermissionGrants(e.ctx, e.tenant.ID, store.GrantFilter{ClientID: client.ID})
	if err != nil || len(grants) != 1 {
		t.Fatalf("grants %+v %v", grants, err)
	}
	got, _ := e.dir.GrantedScopes(e.ctx, e.tenant.ID, client.ID, resource.ID, alice.ID)
	if len(got) != len(scopes) {
		t.Fatalf("granted %v", got)
	}
}
