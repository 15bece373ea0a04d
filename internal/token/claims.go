package token

// AccessClaims are the claims of an access token, in Entra's v1 or v2 shape.
// Fields empty for a shape are omitted.
type AccessClaims struct {
	Aud               string   `json:"aud"`
	Iss               string   `json:"iss"`
	Iat               int64    `json:"iat"`
	Nbf               int64    `json:"nbf"`
	Exp               int64    `json:"exp"`
	Acr               string   `json:"acr,omitempty"`
	Amr               []string `json:"amr,omitempty"`
	AppID             string   `json:"appid,omitempty"`
	AppIDAcr          string   `json:"appidacr,omitempty"`
	Azp               string   `json:"azp,omitempty"`
	Azpacr            string   `json:"azpacr,omitempty"`
	Email             string   `json:"email,omitempty"`
	FamilyName        string   `json:"family_name,omitempty"`
	GivenName         string   `json:"given_name,omitempty"`
	Idp               string   `json:"idp,omitempty"`
	Idtyp             string   `json:"idtyp,omitempty"`
	IPAddr            string   `json:"ipaddr,omitempty"`
	Name              string   `json:"name,omitempty"`
	Oid               string   `json:"oid"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Rh                string   `json:"rh,omitempty"`
	Roles             []string `json:"roles,omitempty"`
	Scp               string   `json:"scp,omitempty"`
	Sub               string   `json:"sub"`
	Tid               string   `json:"tid"`
	UniqueName        string   `json:"unique_name,omitempty"`
	Upn               string   `json:"upn,omitempty"`
	Uti               string   `json:"uti"`
	Ver               string   `json:"ver"`
	XmsMirid          string   `json:"xms_mirid,omitempty"`
	XmsTcdt           int64    `json:"xms_tcdt,omitempty"`
	Acct              *int     `json:"acct,omitempty"`
	Groups            []string `json:"groups,omitempty"`
	Wids              []string `json:"wids,omitempty"`
	// ClaimNames and ClaimSources are the groups overage: the groups did not
	// fit, and the endpoint lists them.
	ClaimNames   map[string]string      `json:"_claim_names,omitempty"`
	ClaimSources map[string]ClaimSource `json:"_claim_sources,omitempty"`
}

// ClaimSource is where a distributed claim is read (the groups overage).
type ClaimSource struct {
	Endpoint string `json:"endpoint"`
}

// Identity types Entra puts in idtyp.
const (
	IdentityTypeApp  = "app"
	IdentityTypeUser = "user"
)

// Client authentication methods as appidacr/azpacr values.
const (
	ClientAuthNone        = "0"
	ClientAuthSecret      = "1"
	ClientAuthCertificate = "2"
)
