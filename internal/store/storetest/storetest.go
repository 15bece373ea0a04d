// Package storetest is the conformance suite for store.Store backends. Every
// backend's tests call Run; a backend is correct when the suite passes, so
// behaviour the services rely on (sentinel errors, case-insensitive lookups,
// atomic replay detection, transaction rollback, ...) is pinned down here once
// instead of in each backend.
package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// Run runs the suite. newStore must return an empty store that stays open
// until t ends (register Close with t.Cleanup); it is called once per group of
// subtests, so each group starts from an empty store.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	groups := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"Tenants", testTenants},
		{"Users", testUsers},
		{"Applications", testApplications},
		{"ServicePrincipals", testServicePrincipals},
		{"AppRoleAssignments", testAppRoleAssignments},
		{"DirectoryRoleAssignments", testDirectoryRoleAssignments},
		{"Subscriptions", testSubscriptions},
		{"RoleAssignments", testRoleAssignments},
		{"Groups", testGroups},
		{"RoleDefinitions", testRoleDefinitions},
		{"Resources", testResources},
		{"Nodes", testNodes},
		{"SigningKeys", testSigningKeys},
		{"Replay", testReplay},
		{"Audit", testAudit},
		{"InTx", testInTx},
		{"Concurrency", testConcurrency},
		{"ResourceConcurrency", testResourceConcurrency},
		{"RBACInTx", testRBACInTx},
		{"SignIn", testSignIn},
		{"Changes", testChanges},
		{"PermissionGrants", testPermissionGrants},
		{"TokenLifetimePolicies", testTokenLifetimePolicies},
		{"Ping", testPing},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.fn(t, newStore(t)) })
	}
}

// --- fixtures ---

// zone is deliberately not UTC: every time a store returns must be in UTC.
var zone = time.FixedZone("UTC+02:00", 2*60*60)

// at returns a time with sub-millisecond digits, so that a backend keeping
// only seconds fails the comparison.
func at(offset time.Duration) time.Time {
	return time.Date(2025, 3, 14, 15, 9, 26, 535_897_932, zone).Add(offset)
}

// newID returns a random RFC 4122 version 4 GUID in lower case, as Entra
// writes object ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// word returns a short random lower-case token for names and domains.
func word() string { return strings.ToLower(rand.Text()[:10]) }

func fullTenant() domain.Tenant {
	w := word()
	return domain.Tenant{
		ID:          newID(),
		DisplayName: "Contoso " + w,
		Domains:     []string{w + ".example.com", "Contoso" + w + ".onmicrosoft.example"},
		CreatedAt:   at(0),
		Settings:    domain.TenantSettings{AllowROPC: true},
	}
}

func fullUser(tenantID string) domain.User {
	w := word()
	return domain.User{
		ID:                newID(),
		TenantID:          tenantID,
		UserPrincipalName: "Adele." + w + "@Contoso.example.com",
		DisplayName:       "Adele Vance " + w,
		MailNickname:      "adele" + w,
		GivenName:         "Adèle",
		Surname:           "Vance " + w,
		Mail:              "adele." + w + "@contoso.example.com",
		AccountEnabled:    true,
		PasswordHash:      "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		PasswordChangedAt: at(time.Hour),
		CreatedAt:         at(0),
	}
}

func appRoles() []domain.AppRole {
	return []domain.AppRole{
		{ID: newID(), AllowedMemberTypes: []string{"Application"}, Description: "Read all", DisplayName: "Reader", IsEnabled: true, Value: "Data.Read.All"},
		{ID: newID(), AllowedMemberTypes: []string{"User", "Application"}, Description: "Write", DisplayName: "Writer", IsEnabled: false, Value: "Data.Write"},
	}
}

func passwordCredentials() []domain.PasswordCredential {
	return []domain.PasswordCredential{
		{KeyID: newID(), DisplayName: "ci", Hint: "abc", SecretHash: []byte{1, 2, 3, 0, 255}, StartDateTime: at(0), EndDateTime: at(365 * 24 * time.Hour)},
		// Entra's "never expires" end date is beyond the range of Unix nanoseconds.
		{KeyID: newID(), DisplayName: "", Hint: "xyz", SecretHash: []byte("hash"), StartDateTime: at(time.Minute), EndDateTime: time.Date(2299, 12, 31, 0, 0, 0, 0, time.UTC)},
	}
}

func fullApplication(tenantID string) domain.Application {
	return domain.Application{
		ID:                     newID(),
		TenantID:               tenantID,
		AppID:                  newID(),
		DisplayName:            "app " + word(),
		SignInAudience:         "AzureADMyOrg",
		IdentifierURIs:         []string{"api://" + word(), "https://contoso.example.com/api"},
		WebRedirectURIs:        []string{"https://app.example.com/signin-oidc", "http://localhost:8080/callback"},
		PublicRedirectURIs:     []string{"http://localhost"},
		SpaRedirectURIs:        []string{"https://spa.example.com/", "http://localhost:3000/auth"},
		IsFallbackPublicClient: true,
		AppRoles:               appRoles(),
		// 2, not the zero value, so that a backend dropping the field fails.
		AccessTokenAcceptedVersion: 2,
		PasswordCredentials:        passwordCredentials(),
		KeyCredentials: []domain.KeyCredential{{
			KeyID:               newID(),
			DisplayName:         "CN=ci",
			Type:                "AsymmetricX509Cert",
			Usage:               "Verify",
			Key:                 []byte{0x30, 0x82, 0x01, 0x0a, 0x00},
			StartDateTime:       at(0),
			EndDateTime:         at(90 * 24 * time.Hour),
			CustomKeyIdentifier: []byte{0xde, 0xad, 0xbe, 0xef},
		}},
		FederatedCredentials: []domain.FederatedIdentityCredential{{
			ID:          newID(),
			Name:        "github-main",
			Issuer:      "https://token.actions.githubusercontent.com",
			Subject:     "repo:contoso/app:ref:refs/heads/main",
			Audiences:   []string{"api://AzureADTokenExchange"},
			Description: "CI",
		}},
		CreatedAt:              at(0),
		OAuth2PermissionScopes: permissionScopes(),
		RequiredResourceAccess: []domain.RequiredResourceAccess{{
			ResourceAppID:  newID(),
			ResourceAccess: []domain.ResourceAccess{{ID: newID(), Type: "Scope"}, {ID: newID(), Type: "Role"}},
		}},
		GroupMembershipClaims: "SecurityGroup",
		OptionalClaims: &domain.OptionalClaims{
			IDToken:     []domain.OptionalClaim{{Name: "upn", Essential: true, AdditionalProperties: []string{"include_externally_authenticated_upn"}}},
			AccessToken: []domain.OptionalClaim{{Name: "groups", Source: &source, AdditionalProperties: []string{}}},
			Saml2Token:  []domain.OptionalClaim{},
		},
		LogoutURL:              "https://app.example.com/signout-oidc",
		TokenLifetimePolicyIDs: []string{newID()},
	}
}

var source = "user"

func permissionScopes() []domain.PermissionScope {
	return []domain.PermissionScope{
		{ID: newID(), Value: "Files.Read", Type: "User", IsEnabled: true, AdminConsentDisplayName: "Read files",
			AdminConsentDescription: "Reads files.", UserConsentDisplayName: "Read your files", UserConsentDescription: "Reads your files."},
		{ID: newID(), Value: "Files.Write.All", Type: "Admin", IsEnabled: false, AdminConsentDisplayName: "Write all files"},
	}
}

func fullServicePrincipal(tenantID, appID string) domain.ServicePrincipal {
	return domain.ServicePrincipal{
		ID:                         newID(),
		TenantID:                   tenantID,
		AppID:                      appID,
		DisplayName:                "sp " + word(),
		AccountEnabled:             true,
		ServicePrincipalNames:      []string{appID, "api://" + word()},
		ServicePrincipalType:       domain.ServicePrincipalTypeApplication,
		AppOwnerTenantID:           newID(),
		AppRoles:                   appRoles(),
		PasswordCredentials:        passwordCredentials(),
		PublicClient:               true,
		AccessTokenAcceptedVersion: 2,
		CreatedAt:                  at(0),
		OAuth2PermissionScopes:     permissionScopes(),
	}
}

func fullRoleAssignment(tenantID string) domain.RoleAssignment {
	return domain.RoleAssignment{
		ID:               newID(),
		TenantID:         tenantID,
		Scope:            "/subscriptions/" + newID() + "/resourceGroups/rg-" + word(),
		RoleDefinitionID: domain.RoleContributor,
		PrincipalID:      newID(),
		PrincipalType:    domain.PrincipalServicePrincipal,
		Description:      "deploys",
		CreatedBy:        newID(),
		CreatedAt:        at(0),
		UpdatedAt:        at(time.Second),
	}
}

// --- assertions ---

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func isErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want errors.Is(err, %v)", err, want)
	}
}

// equal fails unless got matches want field by field. Times match when got is
// in UTC and within a millisecond of want (the precision the store promises);
// nil and empty slices and maps match each other.
func equal(t *testing.T, want, got any) {
	t.Helper()
	var diffs []string
	diff("", reflect.ValueOf(want), reflect.ValueOf(got), &diffs)
	if len(diffs) > 0 {
		t.Fatalf("stored record differs from what was written:\n  %s", strings.Join(diffs, "\n  "))
	}
}

// equalByID sorts both lists by their ID field and compares them; list order
// is not part of the contract.
func equalByID[T any](t *testing.T, want, got []T) {
	t.Helper()
	byID := func(a, b T) int {
		return strings.Compare(reflect.ValueOf(a).FieldByName("ID").String(), reflect.ValueOf(b).FieldByName("ID").String())
	}
	want, got = slices.Clone(want), slices.Clone(got)
	slices.SortFunc(want, byID)
	slices.SortFunc(got, byID)
	equal(t, want, got)
}

var timeType = reflect.TypeFor[time.Time]()

func diff(path string, want, got reflect.Value, out *[]string) {
	if want.Type() != got.Type() {
		*out = append(*out, fmt.Sprintf("%s: type %s, want %s", path, got.Type(), want.Type()))
		return
	}
	if want.Type() == timeType {
		w, g := want.Interface().(time.Time), got.Interface().(time.Time)
		switch {
		case w.IsZero() != g.IsZero():
			*out = append(*out, fmt.Sprintf("%s: %v, want %v", path, g, w))
		case w.IsZero():
		case g.Location() != time.UTC:
			*out = append(*out, fmt.Sprintf("%s: %v is not in UTC", path, g))
		case g.Sub(w).Abs() >= time.Millisecond:
			*out = append(*out, fmt.Sprintf("%s: %v, want %v", path, g, w.UTC()))
		}
		return
	}
	switch want.Kind() {
	case reflect.Struct:
		for i := range want.NumField() {
			diff(path+"."+want.Type().Field(i).Name, want.Field(i), got.Field(i), out)
		}
	case reflect.Slice:
		if want.Len() != got.Len() {
			*out = append(*out, fmt.Sprintf("%s: %d elements, want %d: %#v, want %#v", path, got.Len(), want.Len(), got.Interface(), want.Interface()))
			return
		}
		for i := range want.Len() {
			diff(fmt.Sprintf("%s[%d]", path, i), want.Index(i), got.Index(i), out)
		}
	case reflect.Map:
		if want.Len() != got.Len() {
			*out = append(*out, fmt.Sprintf("%s: %v, want %v", path, got.Interface(), want.Interface()))
			return
		}
		for _, k := range want.MapKeys() {
			g := got.MapIndex(k)
			if !g.IsValid() {
				*out = append(*out, fmt.Sprintf("%s[%v]: missing", path, k))
				continue
			}
			diff(fmt.Sprintf("%s[%v]", path, k), want.MapIndex(k), g, out)
		}
	default:
		if !reflect.DeepEqual(want.Interface(), got.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: %#v, want %#v", path, got.Interface(), want.Interface()))
		}
	}
}

// caseVariants returns s as given, upper-cased and lower-cased: lookups the
// store promises to be case-insensitive must find the record by all three.
func caseVariants(s string) map[string]string {
	return map[string]string{"as given": s, "upper": strings.ToUpper(s), "lower": strings.ToLower(s)}
}

// errCase is one row of the not-found and conflict tables: op must fail with
// an error that errors.Is the table's sentinel.
type errCase struct {
	name string
	op   func(ctx context.Context) error
}

func runErrCases(t *testing.T, want error, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			isErr(t, c.op(t.Context()), want)
		})
	}
}

// discard drops a getter's record so that its error can be an errCase result:
// op: func(ctx context.Context) error { return discard(s.GetTenant(ctx, id)) }.
func discard[T any](_ T, err error) error { return err }
