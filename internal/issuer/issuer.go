// Package issuer names the issuers of the tokens Tessera mints, as Entra
// names them. Both the rules that mint and verify tokens (internal/token)
// and the discovery documents (internal/wire) need them; neither depends on
// the other for it. Standard library only.
package issuer

// V2 is the issuer of v2 tokens and id_tokens for a tenant, on the base URL
// the client addressed.
func V2(base, tenantID string) string { return base + "/" + tenantID + "/v2.0" }

// V1 is the issuer of v1 access tokens. Entra writes the same fixed host
// whatever authority a client used, and clients compare it verbatim.
func V1(tenantID string) string { return "https://sts.windows.net/" + tenantID + "/" }
