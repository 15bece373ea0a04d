package wire

import "github.com/tessera-id/tessera/internal/issuer"

// OpenIDConfiguration is the OpenID Connect discovery document in the field
// order and shape Entra ID publishes.
type OpenIDConfiguration struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	Issuer                            string   `json:"issuer"`
	MicrosoftMultiRefreshToken        bool     `json:"microsoft_multi_refresh_token,omitempty"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	UserInfoEndpoint                  string   `json:"userinfo_endpoint"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CheckSessionIframe                string   `json:"check_session_iframe,omitempty"`
	KerberosEndpoint                  string   `json:"kerberos_endpoint,omitempty"`
	TenantRegionScope                 *string  `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MSGraphHost                       string   `json:"msgraph_host"`
	RBACURL                           string   `json:"rbac_url"`
}

// DiscoveryParams are the inputs of a discovery document.
type DiscoveryParams struct {
	// BaseURL is the scheme and authority clients use, e.g. https://localhost:8443.
	BaseURL string
	// Segment is the tenant path segment the client used (GUID, domain,
	// "organizations", "adfs"): endpoint URLs echo it.
	Segment string
	// TenantID is the resolved tenant GUID: issuers name it.
	TenantID string
}

// hostOf strips the scheme from a base URL.
func hostOf(base string) string {
	for _, p := range []string{"https://", "http://"} {
		if len(base) > len(p) && base[:len(p)] == p {
			return base[len(p):]
		}
	}
	return base
}

// DiscoveryV2 builds /{tenant}/v2.0/.well-known/openid-configuration.
func DiscoveryV2(p DiscoveryParams) OpenIDConfiguration {
	t := p.BaseURL + "/" + p.Segment
	return OpenIDConfiguration{
		TokenEndpoint:                     t + "/oauth2/v2.0/token",
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		JWKSURI:                           t + "/discovery/v2.0/keys",
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ResponseTypesSupported:            []string{"code", "id_token", "code id_token", "id_token token"},
		ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
		Issuer:                            issuer.V2(p.BaseURL, p.TenantID),
		RequestURIParameterSupported:      false,
		UserInfoEndpoint:                  p.BaseURL + "/oidc/userinfo",
		AuthorizationEndpoint:             t + "/oauth2/v2.0/authorize",
		DeviceAuthorizationEndpoint:       t + "/oauth2/v2.0/devicecode",
		HTTPLogoutSupported:               true,
		FrontchannelLogoutSupported:       true,
		EndSessionEndpoint:                t + "/oauth2/v2.0/logout",
		ClaimsSupported:                   claimsSupported,
		KerberosEndpoint:                  t + "/kerberos",
	}.withCloud(p.BaseURL)
}

// DiscoveryV1 builds /{tenant}/.well-known/openid-configuration. For the
// "adfs" segment the token endpoint keeps "adfs" as its first path segment,
// which MSAL uses as the cache realm.
func DiscoveryV1(p DiscoveryParams) OpenIDConfiguration {
	t := p.BaseURL + "/" + p.Segment
	return OpenIDConfiguration{
		TokenEndpoint:                     t + "/oauth2/token",
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		JWKSURI:                           t + "/discovery/keys",
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ResponseTypesSupported:            []string{"code", "id_token", "code id_token", "token id_token", "token"},
		Issuer:                            issuer.V1(p.TenantID),
		MicrosoftMultiRefreshToken:        true,
		UserInfoEndpoint:                  p.BaseURL + "/" + p.Segment + "/openid/userinfo",
		AuthorizationEndpoint:             t + "/oauth2/authorize",
		DeviceAuthorizationEndpoint:       t + "/oauth2/devicecode",
		HTTPLogoutSupported:               true,
		FrontchannelLogoutSupported:       true,
		EndSessionEndpoint:                t + "/oauth2/logout",
		ClaimsSupported:                   claimsSupported,
		CheckSessionIframe:                t + "/oauth2/checksession",
	}.withCloud(p.BaseURL)
}

// publicCloudLoginHosts are the public cloud's login names, which Tessera
// answers for with --public-cloud-names: their documents describe the
// public cloud, as Entra's do, since its Graph is graph.microsoft.com.
var publicCloudLoginHosts = map[string]bool{
	"login.microsoftonline.com": true, "login.windows.net": true, "sts.windows.net": true,
}

// withCloud fills the cloud fields: Tessera's own host (Graph under
// /graph), or the public cloud's values on its login names.
func (c OpenIDConfiguration) withCloud(base string) OpenIDConfiguration {
	host := hostOf(base)
	if publicCloudLoginHosts[host] {
		c.CloudInstanceName, c.CloudGraphHostName, c.MSGraphHost, c.RBACURL =
			"microsoftonline.com", "graph.windows.net", "graph.microsoft.com", "https://pas.windows.net"
		return c
	}
	c.CloudInstanceName, c.CloudGraphHostName, c.MSGraphHost, c.RBACURL = host, host, host+"/graph", base
	return c
}

var claimsSupported = []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
	"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
	"at_hash", "c_hash", "email"}

// InstanceDiscovery is the answer of /common/discovery/instance.
type InstanceDiscovery struct {
	TenantDiscoveryEndpoint string                      `json:"tenant_discovery_endpoint"`
	APIVersion              string                      `json:"api-version"`
	Metadata                []InstanceDiscoveryMetadata `json:"metadata"`
}

// InstanceDiscoveryMetadata lists a host's aliases.
type InstanceDiscoveryMetadata struct {
	PreferredNetwork string   `json:"preferred_network"`
	PreferredCache   string   `json:"preferred_cache"`
	Aliases          []string `json:"aliases"`
}

// UserRealm is the answer of /common/userrealm/{upn}. Tessera's users are
// always managed: "Federated" would send clients to WS-Trust.
type UserRealm struct {
	Ver               string `json:"ver"`
	AccountType       string `json:"account_type"`
	DomainName        string `json:"domain_name"`
	CloudInstanceName string `json:"cloud_instance_name"`
	CloudAudienceURN  string `json:"cloud_audience_urn"`
}
