package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// The range Entra allows for AccessTokenLifetime.
const (
	MinAccessTokenLifetime = 10 * time.Minute
	MaxAccessTokenLifetime = 24 * time.Hour
)

// lifetimeSpan is .NET's TimeSpan text as Entra's policies write it:
// "hh:mm:ss" or "d.hh:mm:ss".
var lifetimeSpan = regexp.MustCompile(`^(?:(\d{1,2})\.)?(\d{1,2}):(\d{2}):(\d{2})$`)

func parseLifetimeSpan(s string) (time.Duration, bool) {
	m := lifetimeSpan.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	days, h, min, sec := 0, n(2), n(3), n(4)
	if m[1] != "" {
		days = n(1)
	}
	if h > 23 || min > 59 || sec > 59 {
		return 0, false
	}
	return time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(min)*time.Minute + time.Duration(sec)*time.Second, true
}

// ParseTokenLifetimeDefinition validates a tokenLifetimePolicy definition
// (one JSON string: {"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"02:00:00"}})
// and returns its access token lifetime, ok false when it sets none.
func ParseTokenLifetimeDefinition(definition []string) (lifetime time.Duration, ok bool, err error) {
	if len(definition) != 1 {
		return 0, false, badRequestf("Property 'definition' must hold one JSON string.")
	}
	var doc struct {
		TokenLifetimePolicy *struct {
			Version             *int    `json:"Version"`
			AccessTokenLifetime *string `json:"AccessTokenLifetime"`
		} `json:"TokenLifetimePolicy"`
	}
	if err := json.Unmarshal([]byte(definition[0]), &doc); err != nil || doc.TokenLifetimePolicy == nil {
		return 0, false, badRequestf("Property 'definition' must be a JSON object with a 'TokenLifetimePolicy' member.")
	}
	p := doc.TokenLifetimePolicy
	if p.Version == nil || *p.Version != 1 {
		return 0, false, badRequestf("TokenLifetimePolicy.Version must be 1.")
	}
	if p.AccessTokenLifetime == nil {
		return 0, false, nil
	}
	d, good := parseLifetimeSpan(*p.AccessTokenLifetime)
	if !good {
		return 0, false, badRequestf("AccessTokenLifetime '%s' must be hh:mm:ss or d.hh:mm:ss.", *p.AccessTokenLifetime)
	}
	if d < MinAccessTokenLifetime || d > MaxAccessTokenLifetime {
		return 0, false, badRequestf("AccessTokenLifetime must be between 00:10:00 and 1.00:00:00.")
	}
	return d, true, nil
}

// TokenLifetimePolicyInput is a new token lifetime policy.
type TokenLifetimePolicyInput struct {
	DisplayName           string
	Definition            []string
	IsOrganizationDefault bool
}

// TokenLifetimePolicyPatch lists what a PATCH may change; nil is unchanged.
type TokenLifetimePolicyPatch struct {
	DisplayName           *string
	Definition            *[]string
	IsOrganizationDefault *bool
}

var errSecondDefault = badRequestf("The tenant already has an organization default token lifetime policy.")

func validatePolicy(p domain.TokenLifetimePolicy) error {
	if strings.TrimSpace(p.DisplayName) == "" || len(p.DisplayName) > 256 {
		return badRequestf("Property 'displayName' is required.")
	}
	_, _, err := ParseTokenLifetimeDefinition(p.Definition)
	return err
}

// CreateTokenLifetimePolicy creates a policy; a tenant has at most one
// organisation default.
func (s *Service) CreateTokenLifetimePolicy(ctx context.Context, tenantID string, in TokenLifetimePolicyInput) (domain.TokenLifetimePolicy, error) {
	p := domain.TokenLifetimePolicy{ID: NewID(), TenantID: tenantID, DisplayName: in.DisplayName,
		Definition: in.Definition, IsOrganizationDefault: in.IsOrganizationDefault, CreatedAt: s.now().UTC()}
	if err := validatePolicy(p); err != nil {
		return domain.TokenLifetimePolicy{}, err
	}
	err := s.store.CreateTokenLifetimePolicy(ctx, p)
	if errors.Is(err, store.ErrConflict) {
		err = errSecondDefault
	}
	if err != nil {
		return domain.TokenLifetimePolicy{}, fmt.Errorf("create token lifetime policy: %w", err)
	}
	return p, nil
}

// GetTokenLifetimePolicy returns one policy.
func (s *Service) GetTokenLifetimePolicy(ctx context.Context, tenantID, id string) (domain.TokenLifetimePolicy, error) {
	return s.store.GetTokenLifetimePolicy(ctx, tenantID, normID(id))
}

// ListTokenLifetimePolicies returns the tenant's policies.
func (s *Service) ListTokenLifetimePolicies(ctx context.Context, tenantID string) ([]domain.TokenLifetimePolicy, error) {
	return s.store.ListTokenLifetimePolicies(ctx, tenantID)
}

// UpdateTokenLifetimePolicy applies patch.
func (s *Service) UpdateTokenLifetimePolicy(ctx context.Context, tenantID, id string, patch TokenLifetimePolicyPatch) (domain.TokenLifetimePolicy, error) {
	var p domain.TokenLifetimePolicy
	err := s.inTx(ctx, func(tx Tx) error {
		var err error
		if p, err = tx.GetTokenLifetimePolicy(ctx, tenantID, normID(id)); err != nil {
			return err
		}
		if patch.DisplayName != nil {
			p.DisplayName = *patch.DisplayName
		}
		if patch.Definition != nil {
			p.Definition = *patch.Definition
		}
		if patch.IsOrganizationDefault != nil {
			p.IsOrganizationDefault = *patch.IsOrganizationDefault
		}
		if err := validatePolicy(p); err != nil {
			return err
		}
		err = tx.UpdateTokenLifetimePolicy(ctx, p)
		if errors.Is(err, store.ErrConflict) {
			return errSecondDefault
		}
		return err
	})
	if err != nil {
		return domain.TokenLifetimePolicy{}, fmt.Errorf("update token lifetime policy %s: %w", id, err)
	}
	return p, nil
}

// DeleteTokenLifetimePolicy deletes a policy and its assignments to
// applications.
func (s *Service) DeleteTokenLifetimePolicy(ctx context.Context, tenantID, id string) error {
	id = normID(id)
	err := s.inTx(ctx, func(tx Tx) error {
		if err := tx.DeleteTokenLifetimePolicy(ctx, tenantID, id); err != nil {
			return err
		}
		apps, err := tx.ListApplications(ctx, tenantID)
		if err != nil {
			return err
		}
		for _, a := range apps {
			if i := slices.Index(a.TokenLifetimePolicyIDs, id); i >= 0 {
				a.TokenLifetimePolicyIDs = slices.Delete(a.TokenLifetimePolicyIDs, i, i+1)
				if err := tx.UpdateApplication(ctx, a); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete token lifetime policy %s: %w", id, err)
	}
	return nil
}

// AssignTokenLifetimePolicy applies a policy to an application; as in
// Entra, an application has at most one.
func (s *Service) AssignTokenLifetimePolicy(ctx context.Context, tenantID, appRef, policyID string) error {
	policyID = normID(policyID)
	err := s.inTx(ctx, func(tx Tx) error {
		app, err := getApplication(ctx, tx, tenantID, appRef)
		if err != nil {
			return err
		}
		if _, err := tx.GetTokenLifetimePolicy(ctx, tenantID, policyID); errors.Is(err, store.ErrNotFound) {
			return notFound(policyID)
		} else if err != nil {
			return err
		}
		if slices.Contains(app.TokenLifetimePolicyIDs, policyID) {
			return badRequestf("The policy is already assigned to the application.")
		}
		if len(app.TokenLifetimePolicyIDs) > 0 {
			return badRequestf("The application already has a token lifetime policy; remove it first.")
		}
		app.TokenLifetimePolicyIDs = []string{policyID}
		return tx.UpdateApplication(ctx, app)
	})
	if err != nil {
		return fmt.Errorf("assign token lifetime policy %s to %s: %w", policyID, appRef, err)
	}
	return nil
}

// UnassignTokenLifetimePolicy removes a policy from an application.
func (s *Service) UnassignTokenLifetimePolicy(ctx context.Context, tenantID, appRef, policyID string) error {
	policyID = normID(policyID)
	err := s.inTx(ctx, func(tx Tx) error {
		app, err := getApplication(ctx, tx, tenantID, appRef)
		if err != nil {
			return err
		}
		i := slices.Index(app.TokenLifetimePolicyIDs, policyID)
		if i < 0 {
			return notFound(policyID)
		}
		app.TokenLifetimePolicyIDs = slices.Delete(app.TokenLifetimePolicyIDs, i, i+1)
		return tx.UpdateApplication(ctx, app)
	})
	if err != nil {
		return fmt.Errorf("remove token lifetime policy %s from %s: %w", policyID, appRef, err)
	}
	return nil
}

// ApplicationTokenLifetimePolicies returns the policies assigned to an
// application.
func (s *Service) ApplicationTokenLifetimePolicies(ctx context.Context, tenantID, appRef string) ([]domain.TokenLifetimePolicy, error) {
	app, err := getApplication(ctx, s.store, tenantID, appRef)
	if err != nil {
		return nil, err
	}
	out := []domain.TokenLifetimePolicy{}
	for _, id := range app.TokenLifetimePolicyIDs {
		p, err := s.store.GetTokenLifetimePolicy(ctx, tenantID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// AccessTokenLifetime returns the access token lifetime for the application
// with client id appID: its assigned policy's, else the organisation
// default's, else ok false (the token service's own default applies). An
// appID with no application in the tenant (a first-party resource) gets
// the organisation default.
func (s *Service) AccessTokenLifetime(ctx context.Context, tenantID, appID string) (time.Duration, bool, error) {
	app, err := s.store.GetApplicationByAppID(ctx, tenantID, appID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return 0, false, fmt.Errorf("access token lifetime of %s: %w", appID, err)
	default:
		for _, id := range app.TokenLifetimePolicyIDs {
			p, err := s.store.GetTokenLifetimePolicy(ctx, tenantID, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return 0, false, fmt.Errorf("access token lifetime of %s: %w", appID, err)
			}
			if d, ok, err := ParseTokenLifetimeDefinition(p.Definition); err == nil && ok {
				return d, true, nil
			}
		}
	}
	policies, err := s.store.ListTokenLifetimePolicies(ctx, tenantID)
	if err != nil {
		return 0, false, fmt.Errorf("access token lifetime of %s: %w", appID, err)
	}
	for _, p := range policies {
		if !p.IsOrganizationDefault {
			continue
		}
		if d, ok, err := ParseTokenLifetimeDefinition(p.Definition); err == nil && ok {
			return d, true, nil
		}
	}
	return 0, false, nil
}
