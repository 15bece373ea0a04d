package directory

import (
	"net/url"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
)

// CodeBadRequest is the reason code of a refused Graph body (Graph's
// Request_BadRequest), for the fault errors of this package's newer rules.
const CodeBadRequest = "Request_BadRequest"

// CodeEnabledEntitlementChange: an enabled scope or app role was removed
// or renamed; it must be disabled first.
const CodeEnabledEntitlementChange = "EnabledEntitlementChange"

func badRequestf(format string, args ...any) error {
	return fault.Errorf(fault.Invalid, CodeBadRequest, format, args...)
}

// APIInput is what an application exposes and asks for beyond its
// redirect URIs and app roles: delegated scopes, required permissions,
// claim settings and its logout URL. Nil slices and pointers mean "unset".
type APIInput struct {
	OAuth2PermissionScopes []domain.PermissionScope
	RequiredResourceAccess []domain.RequiredResourceAccess
	GroupMembershipClaims  *string
	OptionalClaims         *domain.OptionalClaims
	LogoutURL              *string
}

// APIPatch is APIInput for a PATCH: a nil field is unchanged.
type APIPatch struct {
	OAuth2PermissionScopes *[]domain.PermissionScope
	RequiredResourceAccess *[]domain.RequiredResourceAccess
	// GroupMembershipClaims set to "" clears it (Graph's null).
	GroupMembershipClaims *string
	OptionalClaims        *domain.OptionalClaims
	// ClearOptionalClaims resets optionalClaims (PATCH with null).
	ClearOptionalClaims bool
	LogoutURL           *string
}

// applyAPIPatch applies p to app, validating the result.
func applyAPIPatch(app *domain.Application, p APIPatch) error {
	in := APIInput{
		OAuth2PermissionScopes: app.OAuth2PermissionScopes, RequiredResourceAccess: app.RequiredResourceAccess,
		GroupMembershipClaims: &app.GroupMembershipClaims, OptionalClaims: app.OptionalClaims, LogoutURL: &app.LogoutURL,
	}
	if p.OAuth2PermissionScopes != nil {
		if err := validatePermissionScopes(*p.OAuth2PermissionScopes); err != nil {
			return err
		}
		if err := checkScopesRemovable(app.OAuth2PermissionScopes, *p.OAuth2PermissionScopes); err != nil {
			return err
		}
		in.OAuth2PermissionScopes = *p.OAuth2PermissionScopes
	}
	if p.RequiredResourceAccess != nil {
		in.RequiredResourceAccess = *p.RequiredResourceAccess
	}
	if p.GroupMembershipClaims != nil {
		in.GroupMembershipClaims = p.GroupMembershipClaims
	}
	if p.OptionalClaims != nil {
		in.OptionalClaims = p.OptionalClaims
	}
	if p.ClearOptionalClaims {
		in.OptionalClaims = nil
	}
	if p.LogoutURL != nil {
		in.LogoutURL = p.LogoutURL
	}
	return applyAPI(app, in)
}

// applyAPI validates in and sets it on app.
func applyAPI(app *domain.Application, in APIInput) error {
	if err := validatePermissionScopes(in.OAuth2PermissionScopes); err != nil {
		return err
	}
	if err := validateRequiredResourceAccess(in.RequiredResourceAccess); err != nil {
		return err
	}
	claims := ""
	if in.GroupMembershipClaims != nil {
		claims = *in.GroupMembershipClaims
	}
	switch claims {
	case "", "None", "SecurityGroup", "All", "ApplicationGroup", "DirectoryRole":
	default:
		return badRequestf("Invalid value specified for property 'groupMembershipClaims' of resource 'Application'.")
	}
	if in.OptionalClaims != nil {
		for _, list := range [][]domain.OptionalClaim{in.OptionalClaims.IDToken, in.OptionalClaims.AccessToken, in.OptionalClaims.Saml2Token} {
			for _, c := range list {
				if strings.TrimSpace(c.Name) == "" {
					return badRequestf("Property 'optionalClaims' has a claim without a name.")
				}
				if c.Source != nil && *c.Source != "" && *c.Source != "user" {
					return badRequestf("Invalid value specified for property 'source' of optional claim '%s'.", c.Name)
				}
			}
		}
	}
	logout := ""
	if in.LogoutURL != nil {
		logout = *in.LogoutURL
	}
	if logout != "" {
		if p, err := url.Parse(logout); err != nil || (p.Scheme != "https" && !(p.Scheme == "http" && isLoopbackHost(p.Hostname()))) || p.Host == "" {
			return badRequestf("Property 'web.logoutUrl' must be an https URL, or http on a loopback address.")
		}
	}
	app.OAuth2PermissionScopes = in.OAuth2PermissionScopes
	app.RequiredResourceAccess = in.RequiredResourceAccess
	app.GroupMembershipClaims = claims
	app.OptionalClaims = in.OptionalClaims
	app.LogoutURL = logout
	return nil
}

// validatePermissionScopes applies Entra's rules: each scope has a GUID id
// and a value without spaces (scp is a space-separated list), values and
// ids are unique within the application, and type is User or Admin.
func validatePermissionScopes(scopes []domain.PermissionScope) error {
	ids, values := map[string]bool{}, map[string]bool{}
	for i, sc := range scopes {
		if !IsGUID(sc.ID) {
			return badRequestf("api.oauth2PermissionScopes[%d].id must be a GUID.", i)
		}
		if sc.Value == "" || strings.ContainsAny(sc.Value, " \t\r\n") {
			return badRequestf("api.oauth2PermissionScopes[%d].value must be non-empty and contain no spaces.", i)
		}
		if sc.Type != "User" && sc.Type != "Admin" {
			return badRequestf("api.oauth2PermissionScopes[%d].type must be 'User' or 'Admin'.", i)
		}
		id, v := normID(sc.ID), strings.ToLower(sc.Value)
		if ids[id] {
			return badRequestf("api.oauth2PermissionScopes has two scopes with id '%s'.", sc.ID)
		}
		if values[v] {
			return badRequestf("api.oauth2PermissionScopes has two scopes with value '%s'.", sc.Value)
		}
		ids[id], values[v] = true, true
	}
	return nil
}

func validateRequiredResourceAccess(rras []domain.RequiredResourceAccess) error {
	for i, r := range rras {
		if strings.TrimSpace(r.ResourceAppID) == "" {
			return badRequestf("requiredResourceAccess[%d].resourceAppId is required.", i)
		}
		for j, a := range r.ResourceAccess {
			if !IsGUID(a.ID) {
				return badRequestf("requiredResourceAccess[%d].resourceAccess[%d].id must be a GUID.", i, j)
			}
			if a.Type != "Scope" && a.Type != "Role" {
				return badRequestf("requiredResourceAccess[%d].resourceAccess[%d].type must be 'Scope' or 'Role'.", i, j)
			}
		}
	}
	return nil
}

// checkScopesRemovable is Entra's rule that a scope is disabled
// (isEnabled false) in one update before a later one removes it or changes
// its value: tokens and grants may name it until then.
func checkScopesRemovable(old, updated []domain.PermissionScope) error {
	next := map[string]domain.PermissionScope{}
	for _, sc := range updated {
		next[normID(sc.ID)] = sc
	}
	for _, sc := range old {
		if !sc.IsEnabled {
			continue
		}
		n, kept := next[normID(sc.ID)]
		if !kept || n.Value != sc.Value {
			return fault.Errorf(fault.Invalid, CodeEnabledEntitlementChange,
				"Permission (scope or role) cannot be deleted or updated unless disabled first: '%s'.", sc.Value)
		}
	}
	return nil
}
