package resources

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/store"
)

// Managed identity resource types.
const (
	TypeUserAssignedIdentity        = ProviderManagedIdentity + "/userAssignedIdentities"
	TypeFederatedIdentityCredential = TypeUserAssignedIdentity + "/federatedIdentityCredentials"
)

// Limits Azure applies to federated identity credentials.
const (
	maxFederatedCredentials = 20
	maxFederatedValueLength = 600
)

// DefaultFederatedAudience is the audience Entra expects in federated
// assertions, and the default of a credential that names none.
const DefaultFederatedAudience = "api://AzureADTokenExchange"

// newIdentityPrincipal creates the service principal behind the resource's
// managed identity, system-assigned or user-assigned alike.
func (c *completion) newIdentityPrincipal() (domain.ServicePrincipal, error) {
	sp, err := c.s.identities.CreateManagedIdentityTx(c.ctx, c.tx, c.actor.TenantID, c.fullID, c.id.Name())
	if err != nil {
		return domain.ServicePrincipal{}, identityRefusal(fmt.Errorf("create identity of %s: %w", c.fullID, err))
	}
	return sp, nil
}

// identityRefusal words the directory's refusal of a change to a managed
// identity (deleting the tenant's last Global Administrator with its
// resource, say) as ARM does: FailedIdentityOperation, with the directory's
// message, which is all of it the caller and the audit log need.
func identityRefusal(err error) error {
	if fe, ok := fault.As(err); ok && fe.Kind == fault.Invalid {
		return fault.New(fault.Invalid, "FailedIdentityOperation", fe.Message)
	}
	return err
}

// prepareUserAssignedIdentity builds a Microsoft.ManagedIdentity/
// userAssignedIdentities document. clientId, principalId and tenantId are the
// server's: created with the identity's service principal on the first PUT
// and kept on every later one, whatever the body says.
func prepareUserAssignedIdentity(c *completion) error {
	in := c.props()
	props := map[string]any{}
	if v := str(in["isolationScope"]); v != "" {
		props["isolationScope"] = v
	}
	c.doc["properties"] = props
	if c.prev != nil {
		for _, k := range []string{"clientId", "principalId", "tenantId"} {
			props[k] = c.prevProp(k)
		}
		return nil
	}
	sp, err := c.newIdentityPrincipal()
	if err != nil {
		return err
	}
	props["clientId"], props["principalId"], props["tenantId"] = sp.AppID, sp.ID, c.actor.TenantID
	return nil
}

// prepareFederatedCredential checks a federated identity credential of a
// user-assigned identity the way Azure does: an https issuer (plain http
// only on a loopback host, for local issuers), a subject, exactly one
// audience, at most 20 credentials per identity and one per issuer and
// subject pair.
func prepareFederatedCredential(c *completion) error {
	p := c.props()
	issuer, subject := strings.TrimSpace(str(p["issuer"])), str(p["subject"])
	if err := validIssuer(issuer); err != nil {
		return err
	}
	if subject == "" || len(subject) > maxFederatedValueLength {
		return fault.Errorf(fault.Invalid, "BadRequest", "The subject of a federated identity credential is required and must be at most %d characters.", maxFederatedValueLength)
	}
	var audiences []string
	switch v := p["audiences"].(type) {
	case nil:
		audiences = []string{DefaultFederatedAudience}
	case []any:
		for _, a := range v {
			s, _ := a.(string)
			if s == "" || len(s) > maxFederatedValueLength {
				return fault.Errorf(fault.Invalid, "BadRequest", "Each audience of a federated identity credential must be a non-empty string of at most %d characters.", maxFederatedValueLength)
			}
			audiences = append(audiences, s)
		}
	default:
		return fault.Errorf(fault.Invalid, "BadRequest", "The audiences of a federated identity credential must be an array of strings.")
	}
	if len(audiences) != 1 {
		return fault.Errorf(fault.Invalid, "BadRequest", "A federated identity credential must have exactly one audience.")
	}
	siblings, err := c.tx.ListResources(c.ctx, c.id.SubscriptionID, parentID(c.id), TypeFederatedIdentityCredential)
	if err != nil {
		return fmt.Errorf("list federated identity credentials: %w", err)
	}
	count := 0
	for _, r := range siblings {
		if strings.EqualFold(r.ID, c.fullID) {
			continue
		}
		count++
		d, err := docOf(r)
		if err != nil {
			return err
		}
		sp, _ := d["properties"].(map[string]any)
		if str(sp["issuer"]) == issuer && str(sp["subject"]) == subject {
			return fault.Errorf(fault.Conflict, "Conflict", "The federated identity credential '%s' already has issuer '%s' and subject '%s'.", str(d["name"]), issuer, subject)
		}
	}
	if count >= maxFederatedCredentials {
		return fault.Errorf(fault.Invalid, "BadRequest", "An identity can have at most %d federated identity credentials.", maxFederatedCredentials)
	}
	c.doc["properties"] = map[string]any{"issuer": issuer, "subject": subject, "audiences": audiences}
	return nil
}

func validIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	ok := err == nil && u.Host != "" && u.User == nil && u.RawQuery == "" && u.Fragment == "" && len(issuer) <= maxFederatedValueLength
	if ok && u.Scheme != "https" {
		ip := net.ParseIP(u.Hostname())
		ok = u.Scheme == "http" && (strings.EqualFold(u.Hostname(), "localhost") || ip != nil && ip.IsLoopback())
	}
	if !ok {
		return fault.Errorf(fault.Invalid, "BadRequest", "The issuer '%s' of a federated identity credential must be an https URL without query or fragment.", issuer)
	}
	return nil
}

// userAssignedIdentities checks identity.userAssignedIdentities of a
// request: the type must say UserAssigned exactly when there are some, and
// each key must name an existing user-assigned identity of the caller's
// tenant. The stored map is keyed by each identity's id as created and holds
// its principalId and clientId, as ARM echoes them. A body without identity
// keeps the previous ones; a null value (from a PATCH) drops one.
func (c *completion) userAssignedIdentities(typ string, req, prevID map[string]any) error {
	wants := strings.Contains(strings.ToLower(typ), "userassigned")
	var given map[string]any
	switch {
	case req != nil && req["userAssignedIdentities"] != nil:
		m, ok := req["userAssignedIdentities"].(map[string]any)
		if !ok {
			return fault.Errorf(fault.Invalid, "BadRequest", "identity.userAssignedIdentities must be an object keyed by identity resource id.")
		}
		given = m
	case req == nil && prevID != nil:
		given, _ = prevID["userAssignedIdentities"].(map[string]any)
	}
	out := map[string]any{}
	seen := map[string]bool{}
	for rawID, v := range given {
		if v == nil {
			continue
		}
		id, err := domain.ParseResourceID(rawID)
		if err != nil || !strings.EqualFold(id.OperationType(), TypeUserAssignedIdentity) || len(id.Names) != 1 {
			return fault.Errorf(fault.Invalid, "BadRequest", "'%s' is not the resource id of a user-assigned identity.", rawID)
		}
		r, err := c.tx.GetResource(c.ctx, rawID)
		if errors.Is(err, store.ErrNotFound) || err == nil && r.TenantID != c.actor.TenantID {
			return fault.Errorf(fault.Invalid, "FailedIdentityOperation",
				"Identity operation for resource '%s' failed: the user-assigned identity '%s' was not found.", c.fullID, rawID)
		}
		if err != nil {
			return fmt.Errorf("load user-assigned identity %s: %w", rawID, err)
		}
		if seen[strings.ToLower(r.ID)] {
			continue
		}
		seen[strings.ToLower(r.ID)] = true
		d, err := docOf(r)
		if err != nil {
			return err
		}
		p, _ := d["properties"].(map[string]any)
		out[r.ID] = map[string]any{"principalId": str(p["principalId"]), "clientId": str(p["clientId"])}
	}
	switch {
	case wants && len(out) == 0:
		return fault.Errorf(fault.Invalid, "BadRequest", "The identity type '%s' requires at least one entry in identity.userAssignedIdentities.", typ)
	case !wants && len(out) > 0:
		return fault.Errorf(fault.Invalid, "BadRequest", "identity.userAssignedIdentities is allowed only when the identity type includes 'UserAssigned' (it is '%s').", typ)
	case len(out) > 0:
		idn, _ := c.doc["identity"].(map[string]any)
		if idn == nil {
			idn = map[string]any{"type": typ}
			c.doc["identity"] = idn
		}
		idn["userAssignedIdentities"] = out
	}
	return nil
}

// Identity is a managed identity as the token service needs it.
type Identity struct {
	TenantID    string
	ClientID    string
	PrincipalID string
	// ResourceID is the resource the identity belongs to (the compute for a
	// system-assigned identity, the identity itself for a user-assigned
	// one): the token's xms_mirid.
	ResourceID     string
	DisplayName    string
	SystemAssigned bool
}

// IdentitySelector names the identity a managed-identity token request asks
// for; all empty asks for the node's default identity.
type IdentitySelector struct {
	ClientID    string
	PrincipalID string
	ResourceID  string
}

// IsZero reports whether the selector names no identity.
func (s IdentitySelector) IsZero() bool { return s == IdentitySelector{} }

// ErrIdentityNotFound: the node's compute has no identity matching the
// request (none attached, not attached, or deleted since).
var ErrIdentityNotFound = errors.New("identity not found")

// NodeIdentity returns the identity attached to the node's compute that sel
// names. The default (an empty selector) is the compute's system-assigned
// identity, else its only user-assigned one, as IMDS chooses. Attachment is
// read from the compute's current document, and each user-assigned identity
// from its own, so a detached or deleted identity is refused at once.
func (s *Service) NodeIdentity(ctx context.Context, node domain.ComputeNode, sel IdentitySelector) (Identity, error) {
	r, err := s.store.GetResource(ctx, node.ComputeID)
	if errors.Is(err, store.ErrNotFound) || err == nil && r.TenantID != node.TenantID {
		// The compute went away under a node that has not been swept yet.
		return Identity{}, ErrNodeUnauthorized
	}
	if err != nil {
		return Identity{}, fmt.Errorf("load compute %s: %w", node.ComputeID, err)
	}
	doc, err := docOf(r)
	if err != nil {
		return Identity{}, err
	}
	idn, _ := doc["identity"].(map[string]any)
	var candidates []Identity
	if pid := str(idn["principalId"]); pid != "" {
		sp, err := s.store.GetServicePrincipal(ctx, node.TenantID, pid)
		switch {
		case err == nil:
			candidates = append(candidates, Identity{TenantID: node.TenantID, ClientID: sp.AppID, PrincipalID: sp.ID,
				ResourceID: r.ID, DisplayName: sp.DisplayName, SystemAssigned: true})
		case !errors.Is(err, store.ErrNotFound):
			return Identity{}, fmt.Errorf("load identity %s: %w", pid, err)
		}
	}
	ua, _ := idn["userAssignedIdentities"].(map[string]any)
	for uaID := range ua {
		// Only a user-assigned identity the request may mean is loaded.
		if sel.ResourceID != "" && !strings.EqualFold(sel.ResourceID, uaID) {
			continue
		}
		id, ok, err := s.userAssignedIdentity(ctx, node.TenantID, uaID)
		if err != nil {
			return Identity{}, err
		}
		if ok {
			candidates = append(candidates, id)
		}
	}
	var match []Identity
	for _, c := range candidates {
		switch {
		case sel.ClientID != "" && !strings.EqualFold(sel.ClientID, c.ClientID),
			sel.PrincipalID != "" && !strings.EqualFold(sel.PrincipalID, c.PrincipalID),
			sel.ResourceID != "" && !strings.EqualFold(sel.ResourceID, c.ResourceID):
			continue
		}
		match = append(match, c)
	}
	if sel.IsZero() {
		for _, c := range match {
			if c.SystemAssigned {
				return c, nil
			}
		}
	}
	if len(match) != 1 {
		return Identity{}, ErrIdentityNotFound
	}
	return match[0], nil
}

// userAssignedIdentity loads a user-assigned identity and its service
// principal; ok is false when either is gone or the principal is disabled.
func (s *Service) userAssignedIdentity(ctx context.Context, tenantID, rawID string) (Identity, bool, error) {
	r, err := s.store.GetResource(ctx, rawID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (r.TenantID != tenantID || !strings.EqualFold(r.Type, TypeUserAssignedIdentity)) {
		return Identity{}, false, nil
	}
	if err != nil {
		return Identity{}, false, fmt.Errorf("load user-assigned identity %s: %w", rawID, err)
	}
	d, err := docOf(r)
	if err != nil {
		return Identity{}, false, err
	}
	p, _ := d["properties"].(map[string]any)
	sp, err := s.store.GetServicePrincipal(ctx, tenantID, str(p["principalId"]))
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, false, nil
	}
	if err != nil {
		return Identity{}, false, fmt.Errorf("load identity %s: %w", str(p["principalId"]), err)
	}
	if !sp.AccountEnabled {
		return Identity{}, false, nil
	}
	return Identity{TenantID: tenantID, ClientID: sp.AppID, PrincipalID: sp.ID, ResourceID: r.ID, DisplayName: sp.DisplayName}, true, nil
}

// FederatedCredentialsOf returns the federated identity credentials of a
// user-assigned identity's service principal (child resources of the
// identity), and none for any other principal: applications keep theirs on
// the application object.
func (s *Service) FederatedCredentialsOf(ctx context.Context, sp domain.ServicePrincipal) ([]domain.FederatedIdentityCredential, error) {
	rid := domain.ManagedIdentityResourceID(sp)
	id, err := domain.ParseResourceID(rid)
	if rid == "" || err != nil || !strings.EqualFold(id.OperationType(), TypeUserAssignedIdentity) {
		return nil, nil
	}
	r, err := s.store.GetResource(ctx, rid)
	if errors.Is(err, store.ErrNotFound) || err == nil && r.TenantID != sp.TenantID {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load user-assigned identity %s: %w", rid, err)
	}
	rs, err := s.store.ListResources(ctx, id.SubscriptionID, strings.ToLower(r.ID), TypeFederatedIdentityCredential)
	if err != nil {
		return nil, fmt.Errorf("list federated identity credentials of %s: %w", rid, err)
	}
	var out []domain.FederatedIdentityCredential
	for _, fr := range rs {
		d, err := docOf(fr)
		if err != nil {
			return nil, err
		}
		p, _ := d["properties"].(map[string]any)
		var auds []string
		if list, ok := p["audiences"].([]any); ok {
			for _, a := range list {
				if s, ok := a.(string); ok {
					auds = append(auds, s)
				}
			}
		}
		out = append(out, domain.FederatedIdentityCredential{ID: fr.ID, Name: fr.Name, Issuer: str(p["issuer"]),
			Subject: str(p["subject"]), Audiences: auds})
	}
	return out, nil
}
