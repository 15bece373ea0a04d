package token

import (
	"slices"
	"strings"

	"github.com/tessera-id/tessera/internal/directory"
)

// UserScope is the scope of a user token request, parsed once: the one
// resource the access token is for, the delegated permissions named for it,
// and the OpenID Connect scopes.
type UserScope struct {
	// Resource names the resource as the client did (v1 resource=, or the
	// prefix of a v2 scope such as https://management.azure.com/.default).
	Resource string
	// Permissions are the delegated permission names asked for
	// (user_impersonation, User.Read); empty for "/.default".
	Permissions []string
	OpenID      bool
	Offline     bool
	Profile     bool
	// Raw is the scope parameter as sent, normalised to single spaces.
	Raw string
}

// oidcScopes are the OpenID Connect scopes; they name no resource.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "offline_access": true, "email": true}

// graphResource is the resource of bare permission names (User.Read) and of
// a request that names no resource at all, as in Entra.
const graphResource = "https://graph.microsoft.com"

// ParseUserScope reads the scope of a user flow. v1 requests name the
// resource with resource= (MSAL on the ADFS-style route sends scope=
// instead, which is read the v2 way); they always get an id_token and a
// refresh token. A v2 scope may combine several permissions of one
// resource with the OIDC scopes, but not two resources (AADSTS28000).
func ParseUserScope(version int, scope, resource string) (UserScope, error) {
	us := UserScope{Raw: strings.Join(strings.Fields(scope), " ")}
	for _, sc := range strings.Fields(scope) {
		low := strings.ToLower(sc)
		if oidcScopes[low] {
			switch low {
			case "openid":
				us.OpenID = true
			case "offline_access":
				us.Offline = true
			case "profile":
				us.Profile = true
			}
			continue
		}
		res, perm := splitScope(sc)
		if res == "" {
			return us, Errorf(ErrInvalidScope, 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", printableScope(scope))
		}
		if us.Resource != "" && directory.NormalizeResource(us.Resource) != directory.NormalizeResource(res) {
			return us, Errorf(ErrInvalidScope, 28000,
				"Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", printableScope(scope))
		}
		if us.Resource == "" {
			us.Resource = res
		}
		if perm != "" && !slices.Contains(us.Permissions, perm) {
			us.Permissions = append(us.Permissions, perm)
		}
	}
	if version == 1 {
		us.OpenID, us.Offline, us.Profile = true, true, true
		if resource != "" {
			us.Resource, us.Permissions = resource, nil
		}
	}
	if us.Resource == "" {
		us.Resource, us.Permissions = graphResource, []string{"User.Read"}
	}
	return us, nil
}

// splitScope splits "https://management.azure.com/user_impersonation" into
// the resource and the permission; "<resource>/.default" has none, and a
// bare name (User.Read) is a Microsoft Graph permission. az asks for
// "https://management.core.windows.net//.default": the resource is
// everything before "/.default", its trailing slash included.
func splitScope(sc string) (resource, permission string) {
	if r, ok := strings.CutSuffix(sc, "/.default"); ok {
		return r, ""
	}
	i := strings.LastIndexByte(sc, '/')
	if i < 0 {
		return graphResource, sc
	}
	if i == len(sc)-1 || !strings.Contains(sc[:i], "://") && !directory.IsGUID(sc[:i]) {
		return "", ""
	}
	return sc[:i], sc[i+1:]
}

// DelegatedScp is the scp claim: the permissions asked for, or for
// "/.default" the permission first-party resources grant a signed-in user.
func (us UserScope) DelegatedScp() string {
	if len(us.Permissions) > 0 {
		return strings.Join(us.Permissions, " ")
	}
	if directory.NormalizeResource(us.Resource) == directory.NormalizeResource(graphResource) {
		return "Directory.AccessAsUser.All User.Read"
	}
	return "user_impersonation"
}

// ResponseScope is the scope a response echoes: MSAL caches the access
// token under it and looks the next request up against it.
func (us UserScope) ResponseScope(version int) string {
	if us.Raw != "" {
		return us.Raw
	}
	if version == 1 {
		return us.DelegatedScp()
	}
	return us.Resource + "/.default"
}

func printableScope(s string) string {
	if len(s) > 256 {
		return s[:256]
	}
	return s
}
