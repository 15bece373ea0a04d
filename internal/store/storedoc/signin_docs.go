package storedoc

import (
	"encoding/json"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

// The doc columns of the sign-in tables hold the fields a record never
// changes after it is written, under explicit JSON names (a persistent
// format, as in records.go). The fields a conditional update changes live
// in columns.

type authCodeDoc struct {
	TenantID            string    `json:"tenantId"`
	ClientID            string    `json:"clientId"`
	UserID              string    `json:"userId"`
	RedirectURI         string    `json:"redirectUri"`
	SPA                 bool      `json:"spa,omitempty"`
	Version             int       `json:"version"`
	Scope               string    `json:"scope"`
	Resource            string    `json:"resource"`
	Nonce               string    `json:"nonce"`
	CodeChallenge       string    `json:"codeChallenge"`
	CodeChallengeMethod string    `json:"codeChallengeMethod"`
	SessionID           string    `json:"sessionId"`
	AuthTime            time.Time `json:"authTime,omitzero"`
	AMR                 []string  `json:"amr"`
	FamilyID            string    `json:"familyId"`
	CreatedAt           time.Time `json:"createdAt,omitzero"`
}

func EncodeAuthCode(c domain.AuthCode) ([]byte, error) {
	return json.Marshal(authCodeDoc{
		TenantID: c.TenantID, ClientID: c.ClientID, UserID: c.UserID, RedirectURI: c.RedirectURI, SPA: c.SPA,
		Version: c.Version, Scope: c.Scope, Resource: c.Resource, Nonce: c.Nonce,
		CodeChallenge: c.CodeChallenge, CodeChallengeMethod: c.CodeChallengeMethod, SessionID: c.SessionID,
		AuthTime: Utc(c.AuthTime), AMR: c.AMR, FamilyID: c.FamilyID, CreatedAt: Utc(c.CreatedAt),
	})
}

func DecodeAuthCode(b []byte, c *domain.AuthCode) error {
	var d authCodeDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	c.TenantID, c.ClientID, c.UserID, c.RedirectURI, c.SPA = d.TenantID, d.ClientID, d.UserID, d.RedirectURI, d.SPA
	c.Version, c.Scope, c.Resource, c.Nonce = d.Version, d.Scope, d.Resource, d.Nonce
	c.CodeChallenge, c.CodeChallengeMethod, c.SessionID = d.CodeChallenge, d.CodeChallengeMethod, d.SessionID
	c.AuthTime, c.AMR, c.FamilyID, c.CreatedAt = d.AuthTime, d.AMR, d.FamilyID, d.CreatedAt
	return nil
}

type refreshFamilyDoc struct {
	ClientID  string    `json:"clientId"`
	FOCI      bool      `json:"foci"`
	SPA       bool      `json:"spa,omitempty"`
	AuthTime  time.Time `json:"authTime,omitzero"`
	AMR       []string  `json:"amr"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
}

func EncodeRefreshFamily(f domain.RefreshFamily) ([]byte, error) {
	return json.Marshal(refreshFamilyDoc{ClientID: f.ClientID, FOCI: f.FOCI, SPA: f.SPA, AuthTime: Utc(f.AuthTime), AMR: f.AMR, CreatedAt: Utc(f.CreatedAt)})
}

func DecodeRefreshFamily(b []byte, f *domain.RefreshFamily) error {
	var d refreshFamilyDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	f.ClientID, f.FOCI, f.SPA, f.AuthTime, f.AMR, f.CreatedAt = d.ClientID, d.FOCI, d.SPA, d.AuthTime, d.AMR, d.CreatedAt
	return nil
}

type refreshTokenDoc struct {
	ClientID string    `json:"clientId"`
	IssuedAt time.Time `json:"issuedAt,omitzero"`
}

func EncodeRefreshToken(t domain.RefreshToken) ([]byte, error) {
	return json.Marshal(refreshTokenDoc{ClientID: t.ClientID, IssuedAt: Utc(t.IssuedAt)})
}

func DecodeRefreshToken(b []byte, t *domain.RefreshToken) error {
	var d refreshTokenDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	t.ClientID, t.IssuedAt = d.ClientID, d.IssuedAt
	return nil
}

type deviceCodeDoc struct {
	TenantID  string    `json:"tenantId"`
	ClientID  string    `json:"clientId"`
	Version   int       `json:"version"`
	Scope     string    `json:"scope"`
	Resource  string    `json:"resource"`
	Interval  int       `json:"interval"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	FamilyID  string    `json:"familyId"`
}

func EncodeDeviceCode(d domain.DeviceCode) ([]byte, error) {
	return json.Marshal(deviceCodeDoc{TenantID: d.TenantID, ClientID: d.ClientID, Version: d.Version, Scope: d.Scope,
		Resource: d.Resource, Interval: d.Interval, CreatedAt: Utc(d.CreatedAt), FamilyID: d.FamilyID})
}

func DecodeDeviceCode(b []byte, d *domain.DeviceCode) error {
	var doc deviceCodeDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	d.TenantID, d.ClientID, d.Version, d.Scope = doc.TenantID, doc.ClientID, doc.Version, doc.Scope
	d.Resource, d.Interval, d.CreatedAt, d.FamilyID = doc.Resource, doc.Interval, doc.CreatedAt, doc.FamilyID
	return nil
}

// encodeAMR and decodeAMR keep a list of authentication methods in a column.
func EncodeAMR(amr []string) string {
	if amr == nil {
		amr = []string{}
	}
	b, _ := json.Marshal(amr) // a []string always encodes
	return string(b)
}

func DecodeAMR(s string) ([]string, error) {
	var out []string
	if s == "" {
		return nil, nil
	}
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}
