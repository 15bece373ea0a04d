package graph

import (
	"encoding/json"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
)

// nullable tells a property that is absent (Set false) from one sent as
// null (Null true) and one with a value.
type nullable[T any] struct {
	Set  bool
	Null bool
	V    T
}

func (n *nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.V)
}

// applicationAPIBody is the part of an application body that says what the
// application exposes and asks for.
type applicationAPIBody struct {
	RequiredResourceAccess *[]domain.RequiredResourceAccess `json:"requiredResourceAccess"`
	GroupMembershipClaims  nullable[string]                 `json:"groupMembershipClaims"`
	OptionalClaims         nullable[domain.OptionalClaims]  `json:"optionalClaims"`
}

func (b applicationBody) apiInput() directory.APIInput {
	var in directory.APIInput
	if b.API != nil && b.API.OAuth2PermissionScopes != nil {
		in.OAuth2PermissionScopes = *b.API.OAuth2PermissionScopes
	}
	if b.RequiredResourceAccess != nil {
		in.RequiredResourceAccess = *b.RequiredResourceAccess
	}
	if b.GroupMembershipClaims.Set && !b.GroupMembershipClaims.Null {
		in.GroupMembershipClaims = &b.GroupMembershipClaims.V
	}
	if b.OptionalClaims.Set && !b.OptionalClaims.Null {
		in.OptionalClaims = &b.OptionalClaims.V
	}
	if b.Web != nil && b.Web.LogoutURL != nil {
		in.LogoutURL = b.Web.LogoutURL
	}
	return in
}

func (b applicationBody) apiPatch() directory.APIPatch {
	var p directory.APIPatch
	if b.API != nil {
		p.OAuth2PermissionScopes = b.API.OAuth2PermissionScopes
	}
	p.RequiredResourceAccess = b.RequiredResourceAccess
	if b.GroupMembershipClaims.Set {
		v := b.GroupMembershipClaims.V // "" for null clears it
		p.GroupMembershipClaims = &v
	}
	if b.OptionalClaims.Set {
		if b.OptionalClaims.Null {
			p.ClearOptionalClaims = true
		} else {
			p.OptionalClaims = &b.OptionalClaims.V
		}
	}
	if b.Web != nil {
		p.LogoutURL = b.Web.LogoutURL
	}
	return p
}
