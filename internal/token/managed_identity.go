package token

// Managed identities: tokens for the identities attached to a compute,
// issued to a node that proved itself with its node secret (the sts package
// checks the secret and picks the identity; this file mints and audits),
// and Tessera as an OpenID Connect issuer for its computes' workloads, whose
// short-lived tokens federated identity credentials can trust.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/token/signing"
)

// ManagedIdentityCredentials finds the federated identity credentials of a
// managed identity's service principal (user-assigned identities keep them
// as ARM child resources, not on an application object).
type ManagedIdentityCredentials interface {
	FederatedCredentialsOf(ctx context.Context, sp domain.ServicePrincipal) ([]domain.FederatedIdentityCredential, error)
}

// GrantManagedIdentity is the grant name managed-identity tokens are logged
// under (action "token.managed_identity").
const GrantManagedIdentity = "managed_identity"

// GrantWorkloadIdentity names workload token issuance in the sign-in log.
const GrantWorkloadIdentity = "workload_identity"

// ManagedIdentity is the identity a managed-identity token is for.
type ManagedIdentity struct {
	ClientID    string
	PrincipalID string
	// ResourceID becomes xms_mirid: the compute for a system-assigned
	// identity, the user-assigned identity resource otherwise.
	ResourceID  string
	DisplayName string
}

// ManagedIdentityRequest is one request to a managed-identity endpoint, after
// the endpoint authenticated the node and chose the identity.
type ManagedIdentityRequest struct {
	Tenant domain.Tenant
	// BaseURL is the base the node addressed (the v2 issuer of v2 resources).
	BaseURL  string
	Identity ManagedIdentity
	// Resource is the resource as the client asked for it; it is echoed.
	Resource  string
	NodeID    string
	NodeName  string
	ComputeID string
	// Source is the request shape (AppService, AzureML, CloudShell, IMDS),
	// for the sign-in log.
	Source        string
	ClientIP      string
	CorrelationID string
}

// tokenRequest is the token request an endpoint's managed-identity request
// stands for, as the pipeline and the sign-in log see it.
func (r *ManagedIdentityRequest) tokenRequest() *Request {
	return &Request{Version: 1, Tenant: r.Tenant, BaseURL: r.BaseURL, GrantType: GrantManagedIdentity, ClientID: r.Identity.ClientID,
		Resource: r.Resource, ClientIP: r.ClientIP, CorrelationID: r.CorrelationID}
}

func (r *ManagedIdentityRequest) auditEvent() *Event {
	ev := &Event{ActorID: r.Identity.PrincipalID, ActorName: r.Identity.DisplayName, Details: map[string]string{
		"nodeId": r.NodeID, "nodeName": r.NodeName, "computeId": r.ComputeID, "source": r.Source,
		"resource": r.Resource, "identityResourceId": r.Identity.ResourceID, "principalId": r.Identity.PrincipalID,
	}}
	if ev.ActorID == "" {
		// Refused before an identity was chosen: the node is the actor.
		ev.ActorID, ev.ActorName = r.NodeID, r.NodeName
	}
	return ev
}

// IssueManagedIdentityToken mints an access token for a managed identity
// and records the issuance, with the node, the identity and the resource, in
// the sign-in log. The token has Entra's managed-identity shape: an app-only
// token (idtyp app, appidacr 2) whose appid is the identity's client id, oid
// and sub its principal, and xms_mirid the resource it belongs to.
func (s *Service) IssueManagedIdentityToken(ctx context.Context, req ManagedIdentityRequest) (*Issued, error) {
	return s.run(ctx, req.tokenRequest(), managedIdentityGrant{req: &req})
}

// managedIdentityGrant is the grant of the managed-identity endpoints: the
// endpoint proved the node and chose the identity, so the client is proven.
type managedIdentityGrant struct{ req *ManagedIdentityRequest }

func (managedIdentityGrant) Types() []string { return []string{GrantManagedIdentity} }

func (g managedIdentityGrant) Redeem(_ context.Context, _ *Request, ev *Event) (Redemption, error) {
	*ev = *g.req.auditEvent()
	return g, nil
}

// ClientRule: Entra marks managed-identity tokens as certificate-authenticated.
func (g managedIdentityGrant) ClientRule() ClientRule {
	id := g.req.Identity
	return ClientRule{Proven: &Client{Method: ClientAuthCertificate, Credential: "managed identity", Client: directory.Client{
		ServicePrincipal: domain.ServicePrincipal{ID: id.PrincipalID, AppID: id.ClientID, DisplayName: id.DisplayName}}}}
}

func (g managedIdentityGrant) Subject(context.Context, *Request, *Client, *Event) (string, error) {
	return g.req.Resource, nil
}

func (g managedIdentityGrant) Authorize(context.Context, *Request, *Client, Resource, *Event) (*Decision, error) {
	return &Decision{ObjectID: g.req.Identity.PrincipalID, ManagedIdentityResourceID: g.req.Identity.ResourceID}, nil
}

// RecordManagedIdentityFailure logs a managed-identity request the endpoint
// refused before minting (an identity not attached to the node's compute);
// reason is the refusal in words (no AADSTS code: Entra has none for it).
func (s *Service) RecordManagedIdentityFailure(ctx context.Context, req ManagedIdentityRequest, reason string) {
	if s.audit == nil {
		return
	}
	ev := req.auditEvent()
	ev.Details["clientId"] = req.Identity.ClientID
	e := domain.AuditEvent{
		Time: s.now().UTC(), TenantID: req.Tenant.ID, Kind: domain.AuditSignIn,
		ActorID: ev.ActorID, ActorName: ev.ActorName, Action: "token." + GrantManagedIdentity, Target: req.ComputeID,
		Result: "failure", Reason: reason, ClientIP: req.ClientIP, CorrelationID: req.CorrelationID, Details: ev.Details,
	}
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "record sign-in", "err", err)
	}
}

// managedIdentityFederatedCredentials returns the federated identity
// credentials of a managed identity's service principal; ok is false for
// other principals or when no source is configured.
func (s *Service) managedIdentityFederatedCredentials(ctx context.Context, sp domain.ServicePrincipal) ([]domain.FederatedIdentityCredential, bool, error) {
	if s.managedIdentities == nil || sp.ServicePrincipalType != domain.ServicePrincipalTypeManagedIdentity {
		return nil, false, nil
	}
	creds, err := s.managedIdentities.FederatedCredentialsOf(ctx, sp)
	if err != nil {
		return nil, false, errStore(err)
	}
	return creds, true, nil
}

// WorkloadTokenLifetime is how long a compute workload token is valid.
// Short, because it cannot be revoked: whoever holds it can exchange it
// until it expires. `tessera compute run` refreshes its token file well
// before that (every 5 minutes).
const WorkloadTokenLifetime = 20 * time.Minute

// WorkloadIssuer is the OpenID Connect issuer of a tenant's compute workload
// tokens. It is built on the configured public URL, never on the Host a
// request used, so one issuer string identifies the tenant's computes.
func WorkloadIssuer(publicURL, tenantID string) string {
	return strings.TrimRight(publicURL, "/") + "/oidc/compute/" + tenantID
}

// WorkloadTokenRequest asks for a workload token for a node's compute.
type WorkloadTokenRequest struct {
	Tenant        domain.Tenant
	PublicURL     string
	Audience      string
	NodeID        string
	NodeName      string
	ComputeID     string
	ClientIP      string
	CorrelationID string
}

// WorkloadToken is a signed workload token.
type WorkloadToken struct {
	Token     string
	Issuer    string
	Subject   string
	ExpiresOn time.Time
}

type workloadClaims struct {
	Iss    string   `json:"iss"`
	Sub    string   `json:"sub"`
	Aud    []string `json:"aud"`
	Iat    int64    `json:"iat"`
	Nbf    int64    `json:"nbf"`
	Exp    int64    `json:"exp"`
	Jti    string   `json:"jti"`
	Tid    string   `json:"tid"`
	NodeID string   `json:"xms_node_id"`
}

// IssueWorkloadToken signs a workload token: iss the tenant's workload
// issuer, sub the compute's ARM id (as ARM returns it), aud the requested
// audience, valid for WorkloadTokenLifetime. A federated identity
// credential with that issuer and subject lets the workload sign in as its
// application or user-assigned identity. The issuance is in the sign-in log.
func (s *Service) IssueWorkloadToken(ctx context.Context, req WorkloadTokenRequest) (WorkloadToken, error) {
	start := s.now()
	now := start.UTC()
	out := WorkloadToken{Issuer: WorkloadIssuer(req.PublicURL, req.Tenant.ID), Subject: req.ComputeID,
		ExpiresOn: now.Add(WorkloadTokenLifetime).Truncate(time.Second)}
	c := workloadClaims{Iss: out.Issuer, Sub: out.Subject, Aud: []string{req.Audience}, Iat: now.Unix(), Nbf: now.Unix(),
		Exp: out.ExpiresOn.Unix(), Jti: uuid.NewString(), Tid: req.Tenant.ID, NodeID: req.NodeID}
	payload, err := json.Marshal(c)
	var tok string
	if err == nil {
		tok, err = s.keys.Sign(payload)
	}
	var terr error
	if err != nil {
		terr = Transient(err)
	}
	s.record(ctx, &Request{Version: 1, Tenant: req.Tenant, GrantType: GrantWorkloadIdentity, ClientID: req.NodeID,
		ClientIP: req.ClientIP, CorrelationID: req.CorrelationID},
		&Event{ActorID: req.NodeID, ActorName: req.NodeName, Target: out.Subject, Details: map[string]string{
			"nodeId": req.NodeID, "computeId": req.ComputeID, "audience": req.Audience, "issuer": out.Issuer}},
		start, terr)
	if terr != nil {
		return WorkloadToken{}, terr
	}
	out.Token = tok
	return out, nil
}

// LocalWorkloadKeys lets a FederatedVerifier check Tessera's own workload
// tokens with the keys in memory instead of fetching its own discovery
// document over the network, which a server behind a load balancer or a
// private name may not be able to reach.
func LocalWorkloadKeys(keys *signing.Keys, publicURL string) func(iss string) ([]jose.JSONWebKey, bool) {
	prefix := WorkloadIssuer(publicURL, "")
	return func(iss string) ([]jose.JSONWebKey, bool) {
		tid, ok := strings.CutPrefix(strings.TrimSuffix(iss, "/"), prefix)
		if !ok || uuid.Validate(tid) != nil {
			return nil, false
		}
		return keys.PublicKeys(), true
	}
}

// WorkloadDiscovery is the OpenID configuration of a workload issuer.
func WorkloadDiscovery(issuer string) map[string]any {
	return map[string]any{
		"issuer":                                issuer,
		"jwks_uri":                              issuer + "/keys",
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"iss", "sub", "aud", "iat", "nbf", "exp", "jti", "tid", "xms_node_id"},
	}
}

// String describes a managed identity for logs (no secrets in it).
func (m ManagedIdentity) String() string {
	return fmt.Sprintf("%s (client %s, principal %s)", m.ResourceID, m.ClientID, m.PrincipalID)
}
