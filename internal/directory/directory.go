// Package directory holds the rules of a tenant's directory: applications and
// their credentials, service principals, users, directory roles, and the
// first-party objects every tenant carries. It never sees HTTP; Graph and the
// token service call it.
package directory

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// Store is the storage the directory needs.
type Store interface {
	store.Tenants
	store.Users
	store.Apps
	store.DirectoryRoles
	InTx(ctx context.Context, fn func(tx store.Store) error) error
}

// InvalidError is a request the directory refuses; its message is meant for the caller.
type InvalidError struct{ Message string }

func (e *InvalidError) Error() string { return e.Message }

func invalidf(format string, args ...any) error {
	return &InvalidError{Message: fmt.Sprintf(format, args...)}
}

// IsInvalid reports whether err is an *InvalidError.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

// Service applies directory rules over a Store.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a directory service.
func NewService(st Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, now: now}
}

// NewID returns a new object id.
func NewID() string { return uuid.NewString() }

// ApplicationInput is what a caller may set when creating an application.
type ApplicationInput struct {
	DisplayName                string
	SignInAudience             string
	IdentifierURIs             []string
	WebRedirectURIs            []string
	PublicRedirectURIs         []string
	IsFallbackPublicClient     bool
	AppRoles                   []domain.AppRole
	AccessTokenAcceptedVersion int
	KeyCredentials             []KeyCredentialInput
}

// CreateApplication registers a new application with fresh ids.
func (s *Service) CreateApplication(ctx context.Context, tenantID string, in ApplicationInput) (domain.Application, error) {
	if strings.TrimSpace(in.DisplayName) == "" {
		return domain.Application{}, invalidf("Invalid value specified for property 'displayName' of resource 'Application'.")
	}
	app := domain.Application{
		ID:                         NewID(),
		TenantID:                   tenantID,
		AppID:                      NewID(),
		DisplayName:                in.DisplayName,
		SignInAudience:             in.SignInAudience,
		IsFallbackPublicClient:     in.IsFallbackPublicClient,
		AccessTokenAcceptedVersion: in.AccessTokenAcceptedVersion,
		CreatedAt:                  s.now().UTC(),
	}
	if app.SignInAudience == "" {
		app.SignInAudience = "AzureADMyOrg"
	}
	if err := s.applyCommon(&app, in); err != nil {
		return domain.Application{}, err
	}
	if err := s.store.CreateApplication(ctx, app); err != nil {
		return domain.Application{}, fmt.Errorf("create application %q: %w", in.DisplayName, err)
	}
	return app, nil
}

func (s *Service) applyCommon(app *domain.Application, in ApplicationInput) error {
	for _, u := range in.IdentifierURIs {
		if err := validateIdentifierURI(u); err != nil {
			return err
		}
	}
	for _, u := range append(append([]string{}, in.WebRedirectURIs...), in.PublicRedirectURIs...) {
		if err := validateRedirectURI(u); err != nil {
			return err
		}
	}
	for i, r := range in.AppRoles {
		if _, err := uuid.Parse(r.ID); err != nil {
			return invalidf("appRoles[%d].id must be a GUID.", i)
		}
	}
	keys, err := s.keyCredentials(in.KeyCredentials)
	if err != nil {
		return err
	}
	app.IdentifierURIs = nonNil(in.IdentifierURIs)
	app.WebRedirectURIs = nonNil(in.WebRedirectURIs)
	app.PublicRedirectURIs = nonNil(in.PublicRedirectURIs)
	app.AppRoles = in.AppRoles
	if in.KeyCredentials != nil {
		app.KeyCredentials = keys
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func validateIdentifierURI(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || strings.Contains(u, "*") {
		return invalidf("Values of identifierUris property must use a verified domain of the organization or its subdomain: '%s'", u)
	}
	return nil
}

func validateRedirectURI(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || p.Fragment != "" || strings.Contains(u, "*") {
		return invalidf("Invalid redirect URI '%s'.", u)
	}
	if p.Scheme == "http" && !isLoopbackHost(p.Hostname()) {
		return invalidf("Redirect URI '%s' must use https unless it is a loopback address.", u)
	}
	return nil
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// KeyCredentialInput is a certificate to register on an application.
type KeyCredentialInput struct {
	KeyID         string
	DisplayName   string
	Type          string
	Usage         string
	Key           []byte // DER or PEM certificate
	StartDateTime time.Time
	EndDateTime   time.Time
}

func (s *Service) keyCredentials(in []KeyCredentialInput) ([]domain.KeyCredential, error) {
	out := make([]domain.KeyCredential, 0, len(in))
	for i, k := range in {
		if k.Type != "" && k.Type != "AsymmetricX509Cert" {
			return nil, invalidf("keyCredentials[%d].type must be AsymmetricX509Cert.", i)
		}
		if k.Usage != "" && k.Usage != "Verify" {
			return nil, invalidf("keyCredentials[%d].usage must be Verify.", i)
		}
		der := decodeCertificate(k.Key)
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, invalidf("keyCredentials[%d].key is not a valid certificate.", i)
		}
		id := k.KeyID
		if id == "" {
			id = NewID()
		} else if _, err := uuid.Parse(id); err != nil {
			return nil, invalidf("keyCredentials[%d].keyId must be a GUID.", i)
		}
		start, end := k.StartDateTime, k.EndDateTime
		if start.IsZero() {
			start = cert.NotBefore
		}
		if end.IsZero() {
			end = cert.NotAfter
		}
		thumb := sha1.Sum(der)
		name := k.DisplayName
		if name == "" {
			name = "CN=" + cert.Subject.CommonName
		}
		out = append(out, domain.KeyCredential{
			KeyID: id, DisplayName: name, Type: "AsymmetricX509Cert", Usage: "Verify", Key: der,
			StartDateTime: start.UTC(), EndDateTime: end.UTC(), CustomKeyIdentifier: thumb[:],
		})
	}
	return out, nil
}

// ApplicationPatch lists the fields a PATCH may change; nil means unchanged.
type ApplicationPatch struct {
	DisplayName                *string
	SignInAudience             *string
	IdentifierURIs             *[]string
	WebRedirectURIs            *[]string
	PublicRedirectURIs         *[]string
	IsFallbackPublicClient     *bool
	AppRoles                   *[]domain.AppRole
	AccessTokenAcceptedVersion *int
	KeyCredentials             *[]KeyCredentialInput
}

// UpdateApplication applies patch to the application with object id id, and
// mirrors names and roles onto its service principal.
func (s *Service) UpdateApplication(ctx context.Context, tenantID, id string, patch ApplicationPatch) (domain.Application, error) {
	var out domain.Application
	err := s.store.InTx(ctx, func(tx store.Store) error {
		app, err := tx.GetApplication(ctx, tenantID, id)
		if err != nil {
			return err
		}
		in := ApplicationInput{
			IdentifierURIs: app.IdentifierURIs, WebRedirectURIs: app.WebRedirectURIs,
			PublicRedirectURIs: app.PublicRedirectURIs, AppRoles: app.AppRoles,
		}
		if patch.DisplayName != nil {
			if strings.TrimSpace(*patch.DisplayName) == "" {
				return invalidf("Invalid value specified for property 'displayName' of resource 'Application'.")
			}
			app.DisplayName = *patch.DisplayName
		}
		if patch.SignInAudience != nil {
			app.SignInAudience = *patch.SignInAudience
		}
		if patch.IdentifierURIs != nil {
			in.IdentifierURIs = *patch.IdentifierURIs
		}
		if patch.WebRedirectURIs != nil {
			in.WebRedirectURIs = *patch.WebRedirectURIs
		}
		if patch.PublicRedirectURIs != nil {
			in.PublicRedirectURIs = *patch.PublicRedirectURIs
		}
		if patch.IsFallbackPublicClient != nil {
			app.IsFallbackPublicClient = *patch.IsFallbackPublicClient
		}
		if patch.AppRoles != nil {
			in.AppRoles = *patch.AppRoles
		}
		if patch.AccessTokenAcceptedVersion != nil {
			v := *patch.AccessTokenAcceptedVersion
			if v != 0 && v != 1 && v != 2 {
				return invalidf("api.requestedAccessTokenVersion must be 1 or 2.")
			}
			app.AccessTokenAcceptedVersion = v
		}
		if patch.KeyCredentials != nil {
			in.KeyCredentials = *patch.KeyCredentials
			if in.KeyCredentials == nil {
				in.KeyCredentials = []KeyCredentialInput{}
			}
		}
		if err := s.applyCommon(&app, in); err != nil {
			return err
		}
		if err := tx.UpdateApplication(ctx, app); err != nil {
			return err
		}
		sp, err := tx.GetServicePrincipalByAppID(ctx, tenantID, app.AppID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			sp.DisplayName, sp.AppRoles = app.DisplayName, app.AppRoles
			sp.ServicePrincipalNames = servicePrincipalNames(app)
			sp.AccessTokenAcceptedVersion = app.AccessTokenAcceptedVersion
			if err := tx.UpdateServicePrincipal(ctx, sp); err != nil {
				return err
			}
		}
		out = app
		return nil
	})
	if err != nil {
		return domain.Application{}, fmt.Errorf("update application %s: %w", id, err)
	}
	return out, nil
}

// PasswordInput describes a new client secret.
type PasswordInput struct {
	DisplayName   string
	StartDateTime time.Time
	EndDateTime   time.Time
}

// DefaultSecretLifetime matches Entra's default for new client secrets.
const DefaultSecretLifetime = 2 * 365 * 24 * time.Hour

func (s *Service) newPassword(in PasswordInput) (domain.PasswordCredential, string, error) {
	secret, hash, err := NewClientSecret()
	if err != nil {
		return domain.PasswordCredential{}, "", fmt.Errorf("generate secret: %w", err)
	}
	start, end := in.StartDateTime, in.EndDateTime
	if start.IsZero() {
		start = s.now()
	}
	if end.IsZero() {
		end = start.Add(DefaultSecretLifetime)
	}
	if !end.After(start) {
		return domain.PasswordCredential{}, "", invalidf("endDateTime must be after startDateTime.")
	}
	return domain.PasswordCredential{
		KeyID: NewID(), DisplayName: in.DisplayName, Hint: SecretHint(secret), SecretHash: hash,
		StartDateTime: start.UTC(), EndDateTime: end.UTC(),
	}, secret, nil
}

// AddPassword adds a client secret to an application and returns it once.
func (s *Service) AddPassword(ctx context.Context, tenantID, appObjectID string, in PasswordInput) (domain.PasswordCredential, string, error) {
	cred, secret, err := s.newPassword(in)
	if err != nil {
		return cred, "", err
	}
	err = s.store.InTx(ctx, func(tx store.Store) error {
		app, err := tx.GetApplication(ctx, tenantID, appObjectID)
		if err != nil {
			return err
		}
		app.PasswordCredentials = append(app.PasswordCredentials, cred)
		return tx.UpdateApplication(ctx, app)
	})
	if err != nil {
		return domain.PasswordCredential{}, "", fmt.Errorf("add password to application %s: %w", appObjectID, err)
	}
	return cred, secret, nil
}

// RemovePassword deletes a client secret from an application.
func (s *Service) RemovePassword(ctx context.Context, tenantID, appObjectID, keyID string) error {
	return s.store.InTx(ctx, func(tx store.Store) error {
		app, err := tx.GetApplication(ctx, tenantID, appObjectID)
		if err != nil {
			return err
		}
		kept := app.PasswordCredentials[:0]
		found := false
		for _, c := range app.PasswordCredentials {
			if strings.EqualFold(c.KeyID, keyID) {
				found = true
				continue
			}
			kept = append(kept, c)
		}
		if !found {
			return invalidf("No password credential found with keyId %s.", keyID)
		}
		app.PasswordCredentials = kept
		return tx.UpdateApplication(ctx, app)
	})
}

// FederatedCredentialInput describes a federated identity credential.
type FederatedCredentialInput struct {
	Name        string
	Issuer      string
	Subject     string
	Audiences   []string
	Description string
}

// AddFederatedCredential trusts an external issuer's tokens for one subject.
func (s *Service) AddFederatedCredential(ctx context.Context, tenantID, appObjectID string, in FederatedCredentialInput) (domain.FederatedIdentityCredential, error) {
	if err := validateFederated(in); err != nil {
		return domain.FederatedIdentityCredential{}, err
	}
	if len(in.Audiences) == 0 {
		in.Audiences = []string{"api://AzureADTokenExchange"}
	}
	fic := domain.FederatedIdentityCredential{
		ID: NewID(), Name: in.Name, Issuer: in.Issuer, Subject: in.Subject, Audiences: in.Audiences, Description: in.Description,
	}
	err := s.store.InTx(ctx, func(tx store.Store) error {
		app, err := tx.GetApplication(ctx, tenantID, appObjectID)
		if err != nil {
			return err
		}
		for _, f := range app.FederatedCredentials {
			if strings.EqualFold(f.Name, in.Name) {
				return fmt.Errorf("federated credential %q: %w", in.Name, store.ErrConflict)
			}
			if f.Issuer == in.Issuer && f.Subject == in.Subject {
				return invalidf("A federated identity credential with this issuer and subject already exists on the application.")
			}
		}
		if len(app.FederatedCredentials) >= 20 {
			return invalidf("An application can have at most 20 federated identity credentials.")
		}
		app.FederatedCredentials = append(app.FederatedCredentials, fic)
		return tx.UpdateApplication(ctx, app)
	})
	if err != nil {
		return domain.FederatedIdentityCredential{}, fmt.Errorf("add federated credential to application %s: %w", appObjectID, err)
	}
	return fic, nil
}

func validateFederated(in FederatedCredentialInput) error {
	if strings.TrimSpace(in.Name) == "" || len(in.Name) > 120 {
		return invalidf("Property 'name' is required and must be at most 120 characters.")
	}
	u, err := url.Parse(in.Issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return invalidf("Property 'issuer' must be an https URL.")
	}
	if strings.TrimSpace(in.Subject) == "" {
		return invalidf("Property 'subject' is required.")
	}
	if len(in.Audiences) > 1 {
		return invalidf("Property 'audiences' may hold one value.")
	}
	return nil
}

func servicePrincipalNames(app domain.Application) []string {
	return append([]string{app.AppID}, app.IdentifierURIs...)
}

// CreateServicePrincipal creates the service principal of an application
// registered in the tenant.
func (s *Service) CreateServicePrincipal(ctx context.Context, tenantID, appID string, accountEnabled bool) (domain.ServicePrincipal, error) {
	app, err := s.store.GetApplicationByAppID(ctx, tenantID, appID)
	if errors.Is(err, store.ErrNotFound) {
		return domain.ServicePrincipal{}, invalidf("The appId '%s' of the service principal does not reference a valid application object.", appID)
	}
	if err != nil {
		return domain.ServicePrincipal{}, fmt.Errorf("load application %s: %w", appID, err)
	}
	sp := domain.ServicePrincipal{
		ID: NewID(), TenantID: tenantID, AppID: app.AppID, DisplayName: app.DisplayName,
		AccountEnabled: accountEnabled, ServicePrincipalNames: servicePrincipalNames(app),
		ServicePrincipalType: domain.ServicePrincipalTypeApplication, AppOwnerTenantID: tenantID,
		AppRoles: app.AppRoles, AccessTokenAcceptedVersion: app.AccessTokenAcceptedVersion,
		CreatedAt: s.now().UTC(),
	}
	if err := s.store.CreateServicePrincipal(ctx, sp); err != nil {
		return domain.ServicePrincipal{}, fmt.Errorf("create service principal for %s: %w", appID, err)
	}
	return sp, nil
}

// HasDirectoryRole reports whether principalID holds one of roles in the tenant.
func (s *Service) HasDirectoryRole(ctx context.Context, tenantID, principalID string, roles ...string) (bool, error) {
	held, err := s.store.ListDirectoryRoleAssignments(ctx, tenantID, principalID)
	if err != nil {
		return false, fmt.Errorf("list directory roles of %s: %w", principalID, err)
	}
	for _, h := range held {
		for _, r := range roles {
			if h.RoleTemplateID == r {
				return true, nil
			}
		}
	}
	return false, nil
}

func decodeCertificate(b []byte) []byte {
	if blockDER, ok := pemCertificate(b); ok {
		return blockDER
	}
	return b
}

// ServicePrincipalPatch lists the service principal fields a PATCH may change.
type ServicePrincipalPatch struct {
	AccountEnabled *bool
	DisplayName    *string
}

// UpdateServicePrincipal applies patch to the service principal with object id id.
func (s *Service) UpdateServicePrincipal(ctx context.Context, tenantID, id string, patch ServicePrincipalPatch) (domain.ServicePrincipal, error) {
	var out domain.ServicePrincipal
	err := s.store.InTx(ctx, func(tx store.Store) error {
		sp, err := tx.GetServicePrincipal(ctx, tenantID, id)
		if err != nil {
			return err
		}
		if sp.AppOwnerTenantID != tenantID {
			return invalidf("Microsoft first-party service principals cannot be changed.")
		}
		if patch.AccountEnabled != nil {
			sp.AccountEnabled = *patch.AccountEnabled
		}
		if patch.DisplayName != nil {
			if strings.TrimSpace(*patch.DisplayName) == "" {
				return invalidf("Invalid value specified for property 'displayName' of resource 'ServicePrincipal'.")
			}
			sp.DisplayName = *patch.DisplayName
		}
		out = sp
		return tx.UpdateServicePrincipal(ctx, sp)
	})
	if err != nil {
		return domain.ServicePrincipal{}, fmt.Errorf("update service principal %s: %w", id, err)
	}
	return out, nil
}

// AssignAppRole grants the app role appRoleID of the resource service
// principal to principalID (a service principal, user or group).
func (s *Service) AssignAppRole(ctx context.Context, tenantID, principalID, resourceID, appRoleID string) (domain.AppRoleAssignment, error) {
	res, err := s.store.GetServicePrincipal(ctx, tenantID, resourceID)
	if errors.Is(err, store.ErrNotFound) {
		return domain.AppRoleAssignment{}, invalidf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", resourceID)
	}
	if err != nil {
		return domain.AppRoleAssignment{}, fmt.Errorf("load resource %s: %w", resourceID, err)
	}
	found := false
	for _, r := range res.AppRoles {
		found = found || (strings.EqualFold(r.ID, appRoleID) && r.IsEnabled)
	}
	if !found {
		return domain.AppRoleAssignment{}, invalidf("Permission being assigned was not found on application '%s'.", res.AppID)
	}
	if _, err := s.store.GetServicePrincipal(ctx, tenantID, principalID); err != nil {
		if _, uerr := s.store.GetUser(ctx, tenantID, principalID); uerr != nil {
			return domain.AppRoleAssignment{}, invalidf("Principal '%s' does not exist in the directory.", principalID)
		}
	}
	held, err := s.store.ListAppRoleAssignments(ctx, tenantID, principalID)
	if err != nil {
		return domain.AppRoleAssignment{}, fmt.Errorf("list app role assignments of %s: %w", principalID, err)
	}
	for _, h := range held {
		if h.ResourceID == resourceID && strings.EqualFold(h.AppRoleID, appRoleID) {
			return domain.AppRoleAssignment{}, invalidf("Permission being assigned already exists on the object.")
		}
	}
	a := domain.AppRoleAssignment{ID: NewID(), TenantID: tenantID, PrincipalID: principalID, ResourceID: resourceID,
		AppRoleID: strings.ToLower(appRoleID), CreatedAt: s.now().UTC()}
	if err := s.store.CreateAppRoleAssignment(ctx, a); err != nil {
		return domain.AppRoleAssignment{}, fmt.Errorf("create app role assignment: %w", err)
	}
	return a, nil
}
