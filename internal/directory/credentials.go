package directory

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/domain"
)

// FederatedCredentials returns an application's federated identity credentials.
func (s *Service) FederatedCredentials(ctx context.Context, tenantID, appRef string) ([]domain.FederatedIdentityCredential, error) {
	app, err := getApplication(ctx, s.store, tenantID, appRef)
	if err != nil {
		return nil, fmt.Errorf("get application %s: %w", appRef, err)
	}
	if app.FederatedCredentials == nil {
		return []domain.FederatedIdentityCredential{}, nil
	}
	return app.FederatedCredentials, nil
}

// findFederated finds a federated credential by id or, as Graph also
// allows, by name.
func findFederated(app domain.Application, ref string) int {
	for i, f := range app.FederatedCredentials {
		if strings.EqualFold(f.ID, ref) {
			return i
		}
	}
	for i, f := range app.FederatedCredentials {
		if strings.EqualFold(f.Name, ref) {
			return i
		}
	}
	return -1
}

// FederatedCredential returns one federated identity credential, by id or name.
func (s *Service) FederatedCredential(ctx context.Context, tenantID, appRef, ref string) (domain.FederatedIdentityCredential, error) {
	app, err := getApplication(ctx, s.store, tenantID, appRef)
	if err != nil {
		return domain.FederatedIdentityCredential{}, fmt.Errorf("get application %s: %w", appRef, err)
	}
	i := findFederated(app, ref)
	if i < 0 {
		return domain.FederatedIdentityCredential{}, notFound(ref)
	}
	return app.FederatedCredentials[i], nil
}

// FederatedCredentialPatch lists the fields a PATCH may change; the name is fixed.
type FederatedCredentialPatch struct {
	Issuer      *string
	Subject     *string
	Audiences   *[]string
	Description *string
}

// UpdateFederatedCredential changes a federated identity credential.
func (s *Service) UpdateFederatedCredential(ctx context.Context, tenantID, appRef, ref string, p FederatedCredentialPatch) (domain.FederatedIdentityCredential, error) {
	var out domain.FederatedIdentityCredential
	err := s.inTx(ctx, func(tx Tx) error {
		app, err := getApplication(ctx, tx, tenantID, appRef)
		if err != nil {
			return err
		}
		i := findFederated(app, ref)
		if i < 0 {
			return notFound(ref)
		}
		f := app.FederatedCredentials[i]
		if p.Issuer != nil {
			f.Issuer = *p.Issuer
		}
		if p.Subject != nil {
			f.Subject = *p.Subject
		}
		if p.Audiences != nil {
			f.Audiences = *p.Audiences
		}
		if p.Description != nil {
			f.Description = *p.Description
		}
		if err := validateFederated(FederatedCredentialInput{Name: f.Name, Issuer: f.Issuer, Subject: f.Subject, Audiences: f.Audiences}); err != nil {
			return err
		}
		if len(f.Audiences) == 0 {
			f.Audiences = []string{"api://AzureADTokenExchange"}
		}
		for j, o := range app.FederatedCredentials {
			if j != i && o.Issuer == f.Issuer && o.Subject == f.Subject {
				return invalidf("A federated identity credential with this issuer and subject already exists on the application.")
			}
		}
		app.FederatedCredentials[i] = f
		out = f
		return tx.UpdateApplication(ctx, app)
	})
	if err != nil {
		return domain.FederatedIdentityCredential{}, fmt.Errorf("update federated credential %s: %w", ref, err)
	}
	return out, nil
}

// DeleteFederatedCredential removes a federated identity credential: tokens
// of that issuer and subject stop being accepted at once.
func (s *Service) DeleteFederatedCredential(ctx context.Context, tenantID, appRef, ref string) error {
	err := s.inTx(ctx, func(tx Tx) error {
		app, err := getApplication(ctx, tx, tenantID, appRef)
		if err != nil {
			return err
		}
		i := findFederated(app, ref)
		if i < 0 {
			return notFound(ref)
		}
		app.FederatedCredentials = append(app.FederatedCredentials[:i:i], app.FederatedCredentials[i+1:]...)
		return tx.UpdateApplication(ctx, app)
	})
	if err != nil {
		return fmt.Errorf("delete federated credential %s: %w", ref, err)
	}
	return nil
}

// removePassword drops the credential keyID from creds.
func removePassword(creds []domain.PasswordCredential, keyID string) ([]domain.PasswordCredential, bool) {
	kept := make([]domain.PasswordCredential, 0, len(creds))
	found := false
	for _, c := range creds {
		if strings.EqualFold(c.KeyID, keyID) {
			found = true
			continue
		}
		kept = append(kept, c)
	}
	return kept, found
}

// ProofAudience is the aud of an addKey/removeKey proof of possession, as
// Graph defines it (the legacy Azure AD Graph app id).
const ProofAudience = "00000002-0000-0000-c000-000000000000"

// maxProofLifetime bounds exp - nbf of a proof, as Graph does.
const maxProofLifetime = 10 * time.Minute

// verifyProof checks a proof-of-possession JWT: signed (RS256) by the private
// key of one of the application's currently valid certificates, iss the
// application's object id, aud ProofAudience, and valid now for at most ten
// minutes.
func verifyProof(app domain.Application, proof string, now time.Time) error {
	bad := func(why string) error { return invalidf("Key credential proof of possession is invalid: %s.", why) }
	jws, err := jose.ParseSigned(proof, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return bad("it is not a signed JWT")
	}
	var payload []byte
	for _, k := range app.KeyCredentials {
		if !k.StartDateTime.IsZero() && now.Before(k.StartDateTime) || !k.EndDateTime.IsZero() && !now.Before(k.EndDateTime) {
			continue
		}
		cert, err := x509.ParseCertificate(k.Key)
		if err != nil {
			continue
		}
		if p, err := jws.Verify(cert.PublicKey); err == nil {
			payload = p
			break
		}
	}
	if payload == nil {
		return bad("it is not signed by a valid certificate of the application")
	}
	var c struct {
		Aud any    `json:"aud"`
		Iss string `json:"iss"`
		Nbf *int64 `json:"nbf"`
		Exp *int64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return bad("its claims cannot be read")
	}
	audOK := false
	switch a := c.Aud.(type) {
	case string:
		audOK = a == ProofAudience
	case []any:
		for _, x := range a {
			audOK = audOK || x == ProofAudience
		}
	}
	switch {
	case !audOK:
		return bad("aud must be " + ProofAudience)
	case !strings.EqualFold(c.Iss, app.ID):
		return bad("iss must be the application's object id")
	case c.Nbf == nil || c.Exp == nil:
		return bad("nbf and exp are required")
	case time.Unix(*c.Exp, 0).Sub(time.Unix(*c.Nbf, 0)) > maxProofLifetime:
		return bad("it may be valid for at most ten minutes")
	case now.Add(time.Minute).Before(time.Unix(*c.Nbf, 0)) || !now.Before(time.Unix(*c.Exp, 0)):
		return bad("it is expired or not yet valid")
	}
	return nil
}

// AddKey adds a certificate to an application that proves possession of one
// of its current certificates (Graph's addKey, for self-service rotation).
func (s *Service) AddKey(ctx context.Context, tenantID, appRef string, key KeyCredentialInput, proof string) (domain.KeyCredential, error) {
	added, err := s.keyCredentials([]KeyCredentialInput{key})
	if err != nil {
		return domain.KeyCredential{}, err
	}
	var out domain.KeyCredential
	err = s.inTx(ctx, func(tx Tx) error {
		app, err := getApplication(ctx, tx, tenantID, appRef)
		if err != nil {
			return err
		}
		if err := verifyProof(app, proof, s.now()); err != nil {
			return err
		}
		for _, k := range app.KeyCredentials {
			if strings.EqualFold(k.KeyID, added[0].KeyID) {
				return invalidf("A key credential with keyId %s already exists on the application.", k.KeyID)
			}
		}
		out = added[0]
		app.KeyCredentials = append(app.KeyCredentials, out)
		return tx.UpdateApplication(ctx, app)
	})
	if err != nil {
		return domain.KeyCredential{}, fmt.Errorf("add key to application %s: %w", appRef, err)
	}
	return out, nil
}

// RemoveKey removes a certificate from an application, with the same proof
// of possession as AddKey.
func (s *Service) RemoveKey(ctx context.Context, tenantID, appRef, keyID, proof string) error {
	err := s.inTx(ctx, func(tx Tx) error {
		app, err := getApplication(ctx, tx, tenantID, appRef)
		if err != nil {
			return err
		}
		if err := verifyProof(app, proof, s.now()); err != nil {
			return err
		}
		kept := app.KeyCredentials[:0:0]
		for _, k := range app.KeyCredentials {
			if !strings.EqualFold(k.KeyID, keyID) {
				kept = append(kept, k)
			}
		}
		if len(kept) == len(app.KeyCredentials) {
			return invalidf("No key credential found with keyId %s.", keyID)
		}
		app.KeyCredentials = kept
		return tx.UpdateApplication(ctx, app)
	})
	if err != nil {
		return fmt.Errorf("remove key from application %s: %w", appRef, err)
	}
	return nil
}
