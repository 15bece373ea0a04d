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

// ApplicationInput is what a caller may set when creating an application.
type ApplicationInput struct {
	DisplayName                string
	SignInAudience             string
	IdentifierURIs             []string
	WebRedirectURIs            []string
	PublicRedirectURIs         []string
	SpaRedirectURIs            []string
	IsFallbackPublicClient     bool
	AppRoles                   []domain.AppRole
	AccessTokenAcceptedVersion int
	KeyCredentials             []KeyCredentialInput
	// OwnerID, when set, becomes the application's first owner: Entra makes
	// the principal that registers an application its owner.
	OwnerID string
	API     APIInput
}

// CreateApplication registers a new application with fresh ids.
func (s *Service) CreateApplication(ctx context.Context, tenantID string, in ApplicationInput) (domain.Application, error) {
	if strings.TrimSpace(in.DisplayName) == "" || len(in.DisplayName) > 256 {
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
	if err := validateSignInAudience(app.SignInAudience); err != nil {
		return domain.Application{}, err
	}
	if v := in.AccessTokenAcceptedVersion; v != 0 && v != 1 && v != 2 {
		return domain.Application{}, invalidf("api.requestedAccessTokenVersion must be 1 or 2.")
	}
	if err := s.applyCommon(&app, in); err != nil {
		return domain.Application{}, err
	}
	if err := applyAPI(&app, in.API); err != nil {
		return domain.Application{}, err
	}
	err := s.inTx(ctx, func(tx Tx) error {
		if err := checkIdentifierURIsTx(ctx, tx, tenantID, app.AppID, app.IdentifierURIs); err != nil {
			return err
		}
		if err := tx.CreateApplication(ctx, app); err != nil {
			return err
		}
		if in.OwnerID == "" {
			return nil
		}
		return s.addOwnerTx(ctx, tx, tenantID, app.ID, normID(in.OwnerID))
	})
	if err != nil {
		return domain.Application{}, fmt.Errorf("create application %q: %w", in.DisplayName, err)
	}
	return app, nil
}

func validateSignInAudience(a string) error {
	switch a {
	case "AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount":
		return nil
	}
	return invalidf("Invalid value specified for property 'signInAudience' of resource 'Application'.")
}

// checkIdentifierURIsTx refuses identifier URIs another application, or
// another service principal (a first-party resource such as
// https://management.azure.com/), already answers to: a token audience must
// name one resource.
func checkIdentifierURIsTx(ctx context.Context, tx store.Apps, tenantID, appID string, uris []string) error {
	if len(uris) == 0 {
		return nil
	}
	taken := func(name string) bool {
		for _, u := range uris {
			if NormalizeResource(u) == NormalizeResource(name) {
				return true
			}
		}
		return false
	}
	conflict := invalidf("Another object with the same value for property identifierUris already exists.")
	apps, err := tx.ListApplications(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("list applications: %w", err)
	}
	for _, a := range apps {
		if strings.EqualFold(a.AppID, appID) {
			continue
		}
		for _, u := range a.IdentifierURIs {
			if taken(u) {
				return conflict
			}
		}
	}
	sps, err := tx.ListServicePrincipals(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("list service principals: %w", err)
	}
	for _, sp := range sps {
		if strings.EqualFold(sp.AppID, appID) {
			continue
		}
		for _, n := range sp.ServicePrincipalNames {
			if taken(n) {
				return conflict
			}
		}
	}
	return nil
}

// GetApplication finds an application by object id, or by appId when ref
// has the form appId=GUID (Graph's applications(appId='...') addressing).
func (s *Service) GetApplication(ctx context.Context, tenantID, ref string) (domain.Application, error) {
	return getApplication(ctx, s.store, tenantID, ref)
}

// AppIDRef is the reference form GetApplication and GetServicePrincipal
// accept for an appId.
func AppIDRef(appID string) string { return "appId=" + appID }

func getApplication(ctx context.Context, st store.Apps, tenantID, ref string) (domain.Application, error) {
	if appID, ok := strings.CutPrefix(ref, "appId="); ok {
		return st.GetApplicationByAppID(ctx, tenantID, appID)
	}
	return st.GetApplication(ctx, tenantID, normID(ref))
}

// ListApplications returns the tenant's applications.
func (s *Service) ListApplications(ctx context.Context, tenantID string) ([]domain.Application, error) {
	return s.store.ListApplications(ctx, tenantID)
}

// DeleteApplication deletes an application and, with it, its service
// principal and everything that refers to either: ownerships, group
// memberships, the app role and directory role assignments the service
// principal holds or that are granted on it, and its RBAC role assignments
// (which the RBAC index forgets at once).
func (s *Service) DeleteApplication(ctx context.Context, tenantID, ref string) (domain.Application, Removed, error) {
	var rm Removed
	var app domain.Application
	err := s.inTx(ctx, func(tx Tx) error {
		rm = Removed{}
		var err error
		if app, err = getApplication(ctx, tx, tenantID, ref); err != nil {
			return err
		}
		owned := []string{app.ID}
		resource := ""
		sp, err := tx.GetServicePrincipalByAppID(ctx, tenantID, app.AppID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			last, err := lastGlobalAdminTx(ctx, tx, tenantID, sp.ID)
			if err != nil {
				return err
			}
			if last {
				return invalidf("The application's service principal is the tenant's last Global Administrator and cannot be deleted.")
			}
			if err := s.deleteServicePrincipalTx(ctx, tx, tenantID, sp.ID, &rm); err != nil {
				return err
			}
			owned, resource = append(owned, sp.ID), sp.ID
		}
		if err := s.removeReferencesTx(ctx, tx, tenantID, resource, owned, &rm); err != nil {
			return err
		}
		return tx.DeleteApplication(ctx, tenantID, app.ID)
	})
	if err != nil {
		return domain.Application{}, Removed{}, fmt.Errorf("delete application %s: %w", ref, err)
	}
	return app, rm, nil
}

func (s *Service) applyCommon(app *domain.Application, in ApplicationInput) error {
	for _, u := range in.IdentifierURIs {
		if err := validateIdentifierURI(u); err != nil {
			return err
		}
	}
	for _, u := range append(append(append([]string{}, in.WebRedirectURIs...), in.PublicRedirectURIs...), in.SpaRedirectURIs...) {
		if err := validateRedirectURI(u); err != nil {
			return err
		}
	}
	for _, u := range in.SpaRedirectURIs {
		// A single-page application lives at a web origin.
		if p, _ := url.Parse(u); p == nil || p.Scheme != "https" && p.Scheme != "http" || p.Host == "" {
			return invalidf("Single-page application redirect URI '%s' must be an https URL, or http on a loopback address.", u)
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
	app.SpaRedirectURIs = nonNil(in.SpaRedirectURIs)
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
	SpaRedirectURIs            *[]string
	IsFallbackPublicClient     *bool
	AppRoles                   *[]domain.AppRole
	AccessTokenAcceptedVersion *int
	KeyCredentials             *[]KeyCredentialInput
	API                        APIPatch
}

// UpdateApplication applies patch to the application with object id id, and
// mirrors names and roles onto its service principal.
func (s *Service) UpdateApplication(ctx context.Context, tenantID, id string, patch ApplicationPatch) (domain.Application, error) {
	var out domain.Application
	err := s.inTx(ctx, func(tx Tx) error {
		app, err := getApplication(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		in := ApplicationInput{
			IdentifierURIs: app.IdentifierURIs, WebRedirectURIs: app.WebRedirectURIs,
			PublicRedirectURIs: app.PublicRedirectURIs, SpaRedirectURIs: app.SpaRedirectURIs, AppRoles: app.AppRoles,
		}
		if patch.DisplayName != nil {
			if strings.TrimSpace(*patch.DisplayName) == "" || len(*patch.DisplayName) > 256 {
				return invalidf("Invalid value specified for property 'displayName' of resource 'Application'.")
			}
			app.DisplayName = *patch.DisplayName
		}
		if patch.SignInAudience != nil {
			if err := validateSignInAudience(*patch.SignInAudience); err != nil {
				return err
			}
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
		if patch.SpaRedirectURIs != nil {
			in.SpaRedirectURIs = *patch.SpaRedirectURIs
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
		if err := applyAPIPatch(&app, patch.API); err != nil {
			return err
		}
		if patch.IdentifierURIs != nil {
			if err := checkIdentifierURIsTx(ctx, tx, tenantID, app.AppID, app.IdentifierURIs); err != nil {
				return err
			}
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
			sp.OAuth2PermissionScopes = app.OAuth2PermissionScopes
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
	err = s.inTx(ctx, func(tx Tx) error {
		app, err := getApplication(ctx, tx, tenantID, appObjectID)
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

// RemovePassword deletes a client secret from an application: the secret
// stops working for the next token request.
func (s *Service) RemovePassword(ctx context.Context, tenantID, appObjectID, keyID string) error {
	err := s.inTx(ctx, func(tx Tx) error {
		app, err := getApplication(ctx, tx, tenantID, appObjectID)
		if err != nil {
			return err
		}
		kept, found := removePassword(app.PasswordCredentials, keyID)
		if !found {
			return invalidf("No password credential found with keyId %s.", keyID)
		}
		app.PasswordCredentials = kept
		return tx.UpdateApplication(ctx, app)
	})
	if err != nil {
		return fmt.Errorf("remove password from application %s: %w", appObjectID, err)
	}
	return nil
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
	err := s.inTx(ctx, func(tx Tx) error {
		app, err := getApplication(ctx, tx, tenantID, appObjectID)
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

func decodeCertificate(b []byte) []byte {
	if blockDER, ok := pemCertificate(b); ok {
		return blockDER
	}
	return b
}
