package token

import (
	"context"
	"errors"
	"github.com/tessera-id/tessera/internal/token/assertion"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/issuer"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/store"
)

// JWTBearerAssertionType is the only client_assertion_type Entra accepts.
const JWTBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AuthenticateClient authenticates the confidential client of req with a
// client secret, a certificate assertion or a federated assertion. Repeated
// failures of a client from one address, or of anything from one address,
// are refused with 429 before they are checked (see ClientThrottle).
func (s *Service) AuthenticateClient(ctx context.Context, req *Request) (*Client, error) {
	if req.ClientID == "" {
		return nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	if s.clientThrottle == nil {
		return s.authenticateClient(ctx, req)
	}
	if err := s.clientThrottle.CheckClient(req.Tenant.ID, req.ClientID, req.ClientIP); err != nil {
		return nil, clientRefused(err, req.ClientID, s.now())
	}
	ac, err := s.authenticateClient(ctx, req)
	if err == nil {
		s.clientThrottle.ClientSucceeded(req.Tenant.ID, req.ClientID, req.ClientIP)
		return ac, nil
	}
	if te, ok := AsError(err); !ok || te.Code == ErrServerError || te.Code == ErrTemporarilyUnavailable {
		return nil, err // the server failed, not the caller
	}
	if refusal := s.clientThrottle.ClientFailed(req.Tenant.ID, req.ClientID, req.ClientIP); refusal != nil {
		return nil, clientRefused(refusal, req.ClientID, s.now())
	}
	return nil, err
}

// clientRefused is the 429 answer to a throttled client authentication.
func clientRefused(err error, clientID string, now time.Time) error {
	if te, ok := signin.IsThrottled(err); ok {
		return throttled(te, ErrInvalidClient)
	}
	if le, ok := signin.IsLocked(err); ok {
		n := signin.RetryAfterSeconds(le.Until.Sub(now))
		e := Errorf(ErrInvalidClient, 50053,
			"Application '%s' is temporarily locked for this address after too many failed client authentications. Try again in %d seconds.",
			clientID, n)
		e.RetryAfter = time.Duration(n) * time.Second
		return e
	}
	return err
}

func (s *Service) authenticateClient(ctx context.Context, req *Request) (*Client, error) {
	client, err := s.lookupClient(ctx, req.Tenant, req.ClientID)
	if err != nil {
		return nil, err
	}
	switch {
	case req.ClientSecret != "" && req.ClientAssertion != "":
		return nil, Errorf(ErrInvalidRequest, 90014, "Only one of 'client_secret' and 'client_assertion' may be sent.")
	case req.ClientSecret != "":
		return s.authenticateSecret(req, client)
	case req.ClientAssertion != "":
		if req.ClientAssertionType != JWTBearerAssertionType {
			return nil, Errorf(ErrInvalidRequest, 50027, "Invalid client_assertion_type '%s'; expected '%s'.", req.ClientAssertionType, JWTBearerAssertionType)
		}
		return s.authenticateAssertion(ctx, req, client)
	}
	if client.ServicePrincipal.PublicClient {
		return nil, Errorf(ErrUnauthorizedClient, 700025,
			"Client is public so neither 'client_assertion' nor 'client_secret' should be presented; client credential flows need a confidential client.")
	}
	return nil, Errorf(ErrInvalidClient, 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func (s *Service) authenticateSecret(req *Request, client directory.Client) (*Client, error) {
	if client.ServicePrincipal.ServicePrincipalType == domain.ServicePrincipalTypeManagedIdentity {
		// A managed identity signs in only from its resource (the managed
		// identity endpoint) or by federation; a secret added to its service
		// principal some other way is never accepted.
		return nil, Errorf(ErrInvalidClient, 7000215,
			"Managed identity '%s' does not accept client secrets; use the managed identity endpoint or a federated credential.", req.ClientID)
	}
	var creds []domain.PasswordCredential
	if client.Application != nil {
		creds = append(creds, client.Application.PasswordCredentials...)
	}
	creds = append(creds, client.ServicePrincipal.PasswordCredentials...)
	switch err := directory.CheckClientSecret(creds, req.ClientSecret, s.now()); {
	case err == nil:
		return &Client{Client: client, Method: ClientAuthSecret, Credential: "secret"}, nil
	case errors.Is(err, directory.ErrSecretExpired):
		return nil, Errorf(ErrInvalidClient, 7000222,
			"The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
			req.ClientID)
	default:
		return nil, Errorf(ErrInvalidClient, 7000215,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.",
			req.ClientID)
	}
}

func (s *Service) authenticateAssertion(ctx context.Context, req *Request, client directory.Client) (*Client, error) {
	ins, err := assertion.Inspect(req.ClientAssertion)
	if err != nil {
		return nil, err
	}
	if client.Application == nil {
		// A user-assigned identity has no application: its federated
		// credentials are child resources of the identity.
		creds, ok, err := s.managedIdentityFederatedCredentials(ctx, client.ServicePrincipal)
		if err != nil {
			return nil, err
		}
		if ok && s.federated != nil {
			if _, err := s.federated.Verify(ctx, req.ClientAssertion, creds); err != nil {
				return nil, err
			}
			return &Client{Client: client, Method: ClientAuthCertificate, Credential: "federated"}, nil
		}
		return nil, Errorf(ErrInvalidClient, 700027, "Client assertion failed signature validation: the application has no registered credentials in this tenant.")
	}
	if ins.Issuer == req.ClientID && ins.Subject == req.ClientID {
		res, err := assertion.VerifyCertificate(req.ClientAssertion, assertion.CertificateParams{
			ClientID:     req.ClientID,
			Certificates: client.Application.KeyCredentials,
			AudienceOK:   s.audienceChecker(req),
			Now:          s.now(),
		})
		if err != nil {
			return nil, err
		}
		if err := s.rememberAssertion(ctx, req, "cert:"+req.ClientID+":"+res.JTI, res.Expiry); err != nil {
			return nil, err
		}
		return &Client{Client: client, Method: ClientAuthCertificate, Credential: "certificate"}, nil
	}
	if s.federated == nil {
		return nil, Errorf(ErrInvalidClient, 700027, "Federated client assertions are not enabled.")
	}
	// Federated tokens (a Kubernetes or CI job token) are legitimately presented
	// many times until they expire, so they carry no replay check of their own.
	if _, err := s.federated.Verify(ctx, req.ClientAssertion, client.Application.FederatedCredentials); err != nil {
		return nil, err
	}
	return &Client{Client: client, Method: ClientAuthCertificate, Credential: "federated"}, nil
}

// errClientLookup words a failed client lookup: an unknown client is
// AADSTS700016, anything else a storage failure.
func errClientLookup(err error, tenant domain.Tenant, clientID string) error {
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(ErrUnauthorizedClient, 700016,
			"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
			printableScope(clientID), tenantName(tenant))
	}
	return errStore(err)
}

// rememberAssertion rejects a replayed assertion. MSAL Python keeps one
// assertion for up to ten minutes and may present it again for a second
// resource, always on the same connection; so a jti seen before is accepted
// again only on the very connection that first presented it, which a thief of
// the assertion cannot use.
func (s *Service) rememberAssertion(ctx context.Context, req *Request, key string, exp time.Time) error {
	err := s.replay.Remember(ctx, key, exp.Add(5*time.Minute))
	now := s.now()
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	for k, b := range s.bindings {
		if now.After(b.expires) {
			delete(s.bindings, k)
		}
	}
	switch {
	case err == nil:
		if req.ConnID != "" {
			s.bindings[key] = binding{connID: req.ConnID, expires: exp.Add(5 * time.Minute)}
		}
		return nil
	case errors.Is(err, store.ErrConflict):
		if b, ok := s.bindings[key]; ok && req.ConnID != "" && b.connID == req.ConnID {
			return nil
		}
		return Errorf(ErrInvalidClient, 700027, "Client assertion failed validation: the assertion with this jti was already used (replay).")
	default:
		return errStore(err)
	}
}

// audienceChecker accepts the token endpoint URL as the client computed it:
// the URL requested, or the v1/v2 token endpoint under any name of the tenant.
func (s *Service) audienceChecker(req *Request) func(string) bool {
	return func(aud string) bool {
		a := strings.ToLower(strings.TrimRight(aud, "/"))
		if a == strings.ToLower(strings.TrimRight(req.EndpointURL, "/")) {
			return true
		}
		base := strings.ToLower(req.BaseURL)
		names := append([]string{req.Tenant.ID, "adfs", "common", "organizations", strings.ToLower(req.Segment)}, req.Tenant.Domains...)
		for _, n := range names {
			n = strings.ToLower(n)
			for _, p := range []string{"/oauth2/v2.0/token", "/oauth2/token"} {
				if a == base+"/"+n+p {
					return true
				}
			}
		}
		return a == strings.ToLower(issuer.V2(req.BaseURL, req.Tenant.ID))
	}
}
