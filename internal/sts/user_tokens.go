package sts

import "github.com/tessera-id/tessera/internal/token"

// userFields are the members of a token response that user flows add
// (CLIENTS.md §2.1): MSAL keys its cache on client_info, validates the
// id_token, and SharedTokenCacheCredential uses only refresh tokens that
// carry a family id (foci). Empty for app-only tokens, and then omitted.
type userFields struct {
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
	FOCI         string `json:"foci,omitempty"`
	// RefreshTokenExpiresIn (seconds, a number) is sent to single-page
	// applications, whose refresh tokens end 24 hours after the sign-in.
	RefreshTokenExpiresIn int64 `json:"refresh_token_expires_in,omitempty"`
}

// userFieldsOf picks them from an issued token. v2 responses carry scope
// in their own field; v1 responses of user flows echo it here.
func userFieldsOf(is *token.Issued, v1 bool) userFields {
	f := userFields{RefreshToken: is.RefreshToken, IDToken: is.IDToken, ClientInfo: is.ClientInfo, FOCI: is.FOCI,
		RefreshTokenExpiresIn: is.RefreshExpiresIn}
	if v1 && is.IDToken != "" {
		f.Scope = is.Scope
	}
	return f
}
