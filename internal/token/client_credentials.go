package token

import (
	"context"

	"github.com/tessera-id/tessera/internal/domain"
)

// ClientCredentials is the client_credentials grant: an app-only token for a
// confidential client, as itself.
type ClientCredentials struct{}

// Types implements Grant.
func (ClientCredentials) Types() []string { return []string{"client_credentials"} }

// Redeem implements Grant: the one resource asked for is all the grant reads.
func (ClientCredentials) Redeem(_ context.Context, req *Request, _ *Event) (Redemption, error) {
	resource, err := ResourceFromRequest(req)
	if err != nil {
		return nil, err
	}
	return clientCredentials{resource: resource}, nil
}

type clientCredentials struct{ resource string }

func (clientCredentials) ClientRule() ClientRule { return ClientRule{Confidential: true} }

func (r clientCredentials) Subject(_ context.Context, _ *Request, client *Client, ev *Event) (string, error) {
	sp := client.ServicePrincipal
	ev.ActorID, ev.ActorName = sp.ID, sp.DisplayName
	ev.Details["credential"] = client.Credential
	return r.resource, nil
}

func (clientCredentials) Authorize(_ context.Context, _ *Request, client *Client, _ Resource, _ *Event) (*Decision, error) {
	sp := client.ServicePrincipal
	// A user-assigned identity signing in by workload identity federation
	// gets the xms_mirid its managed-identity tokens carry.
	return &Decision{ObjectID: sp.ID, ManagedIdentityResourceID: domain.ManagedIdentityResourceID(sp)}, nil
}
