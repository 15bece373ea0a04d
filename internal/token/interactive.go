package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/issuer"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/store"
)

// Interactive holds what the user grants share: the sign-in state store,
// the sign-in rules, and the lifetimes of codes and refresh tokens. Its
// methods return the grants (Password, AuthorizationCode, RefreshToken,
// DeviceCode), which the composition root registers by an explicit list,
// and serve the authorize and device authorization endpoints.
type Interactive struct {
	st      InteractiveStore
	signins *signin.Service
	opts    InteractiveOptions
}

// InteractiveStore is the storage the user flows need.
type InteractiveStore interface {
	store.SignIn
	// Tenants are read fresh where a setting decides (AllowROPC).
	store.Tenants
}

// InteractiveOptions are the lifetimes of user-flow artefacts.
type InteractiveOptions struct {
	// CodeLifetime bounds an authorization code (default 10 minutes, Entra's).
	CodeLifetime time.Duration
	// DeviceCodeLifetime bounds a device code (default 15 minutes).
	DeviceCodeLifetime time.Duration
	// DeviceCodeInterval is the polling interval clients are told (default 5 s).
	DeviceCodeInterval int
	// RefreshIdle is the sliding lifetime: a refresh token unused for this
	// long expires (default 90 days, Entra's inactivity limit).
	RefreshIdle time.Duration
	// RefreshMax is the absolute lifetime of a sign-in's refresh token
	// family, however often it is refreshed (default 365 days).
	RefreshMax time.Duration
	// IDTokenLifetime defaults to one hour.
	IDTokenLifetime time.Duration
}

// NewInteractive returns the user-flow machinery.
func NewInteractive(st InteractiveStore, signins *signin.Service, opts InteractiveOptions) *Interactive {
	if opts.CodeLifetime <= 0 {
		opts.CodeLifetime = 10 * time.Minute
	}
	if opts.DeviceCodeLifetime <= 0 {
		opts.DeviceCodeLifetime = 15 * time.Minute
	}
	if opts.DeviceCodeInterval <= 0 {
		opts.DeviceCodeInterval = 5
	}
	if opts.RefreshIdle <= 0 {
		opts.RefreshIdle = 90 * 24 * time.Hour
	}
	if opts.RefreshMax <= 0 {
		opts.RefreshMax = 365 * 24 * time.Hour
	}
	if opts.IDTokenLifetime <= 0 {
		opts.IDTokenLifetime = time.Hour
	}
	return &Interactive{st: st, signins: signins, opts: opts}
}

// SignIns is the sign-in rule service.
func (ix *Interactive) SignIns() *signin.Service { return ix.signins }

// IsFOCI reports whether a client id belongs to Microsoft's family of
// client ids, whose members may redeem each other's refresh tokens.
func IsFOCI(clientID string) bool {
	c, ok := directory.FirstPartyClientByID(clientID)
	return ok && c.FOCI
}

// userClient is the client of a user flow.
type userClient struct {
	directory.Client
	// Public: a native, single-page or first-party client, which has no secret.
	Public bool
	FOCI   bool
	// SPA: the grant redeems what was issued to an SPA redirect.
	SPA bool
	// Method is appidacr: "0" public, "1" secret, "2" certificate.
	Method string
}

// clientFor finds the client of a user flow and authenticates it when it
// is confidential (or presents credentials anyway). spa: the grant redeems
// what was issued to an SPA redirect, which makes the client public.
func (ix *Interactive) clientFor(ctx context.Context, s *Service, req *Request, spa bool) (userClient, error) {
	if req.ClientID == "" {
		return userClient{}, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	if req.ClientSecret != "" || req.ClientAssertion != "" {
		ac, err := s.AuthenticateClient(ctx, req)
		if err != nil {
			return userClient{}, err
		}
		return userClient{Client: ac.Client, FOCI: IsFOCI(req.ClientID), SPA: spa, Method: ac.Method}, nil
	}
	c, err := lookupClient(ctx, s, req.Tenant, req.ClientID)
	if err != nil {
		return userClient{}, err
	}
	if !isPublic(c) && !spa {
		return userClient{}, Errorf(ErrInvalidClient, 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	return userClient{Client: c, Public: true, FOCI: IsFOCI(req.ClientID), SPA: spa, Method: ClientAuthNone}, nil
}

func lookupClient(ctx context.Context, s *Service, tenant domain.Tenant, clientID string) (directory.Client, error) {
	c, err := s.dir.LookupClient(ctx, tenant.ID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return c, Errorf(ErrUnauthorizedClient, 700016,
			"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
			printableScope(clientID), tenantName(tenant))
	}
	if err != nil {
		return c, errStore(err)
	}
	if !c.ServicePrincipal.AccountEnabled {
		return c, Errorf(ErrUnauthorizedClient, 7000112, "Application '%s'(%s) is disabled.", clientID, c.ServicePrincipal.DisplayName)
	}
	return c, nil
}

// isPublic: a first-party public client, or an app registration that
// allows public client flows.
func isPublic(c directory.Client) bool {
	return c.ServicePrincipal.PublicClient || c.Application != nil && c.Application.IsFallbackPublicClient
}

// userAuth is a finished user authentication a grant turns into tokens.
type userAuth struct {
	User     domain.User
	AMR      []string
	AuthTime time.Time
	Nonce    string
}

// IDClaims are the claims of an id_token (what MSAL reads: CLIENTS.md §2.2).
type IDClaims struct {
	Aud               string   `json:"aud"`
	Iss               string   `json:"iss"`
	Iat               int64    `json:"iat"`
	Nbf               int64    `json:"nbf"`
	Exp               int64    `json:"exp"`
	AuthTime          int64    `json:"auth_time,omitempty"`
	Amr               []string `json:"amr,omitempty"`
	Name              string   `json:"name,omitempty"`
	Nonce             string   `json:"nonce,omitempty"`
	Oid               string   `json:"oid"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Sub               string   `json:"sub"`
	Tid               string   `json:"tid"`
	UniqueName        string   `json:"unique_name,omitempty"`
	Upn               string   `json:"upn,omitempty"`
	Uti               string   `json:"uti"`
	Ver               string   `json:"ver"`
}

// ClientInfo is MSAL's client_info: base64url of {"uid","utid"}, from which
// it builds the account's home_account_id.
func ClientInfo(userID, tenantID string) string {
	b, _ := json.Marshal(map[string]string{"uid": userID, "utid": tenantID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// refreshPlan says how a user token response gets its refresh token.
type refreshPlan struct {
	// NewFamily starts a family under this id (a sign-in).
	NewFamily string
	// Family and RotateFrom: the refresh grant rotates RotateFrom, already
	// validated, within Family.
	Family     *domain.RefreshFamily
	RotateFrom string
	// OnConflict maps a refused family creation (a tombstone: the code was
	// replayed meanwhile) to the grant's error.
	OnConflict error
}

// issueUser mints the access token, id_token, client_info and refresh token
// of a user flow.
func (ix *Interactive) issueUser(ctx context.Context, s *Service, req *Request, client userClient, us UserScope, res Resource,
	auth userAuth, plan refreshPlan) (*Issued, error) {
	u := auth.User
	now := s.now().UTC()

	// The refresh token comes first: a rotation that loses a race must not
	// leave its loser holding a fresh access token.
	var refresh string
	var familyEnds time.Time
	if plan.Family != nil || us.Offline {
		refresh = NewOpaque()
		var err error
		if familyEnds, err = ix.storeRefresh(ctx, req, client, u, auth, plan, refresh, now); err != nil {
			return nil, err
		}
	}

	roles, err := s.dir.AppRoleValues(ctx, req.Tenant.ID, u.ID, res.ServicePrincipal)
	if err != nil {
		return nil, errStore(err)
	}
	c := s.accessClaimsFor(req, res)
	c.Oid, c.Sub, c.Idtyp = u.ID, u.ID, IdentityTypeUser
	c.Upn, c.UniqueName, c.Name = u.UserPrincipalName, u.UserPrincipalName, u.DisplayName
	c.Scp, c.Roles, c.Amr, c.Acr = us.DelegatedScp(), roles, auth.AMR, "1"
	c.IPAddr = req.ClientIP
	if c.Ver == "2.0" {
		c.Azp, c.Azpacr, c.PreferredUsername = client.ServicePrincipal.AppID, client.Method, u.UserPrincipalName
	} else {
		c.AppID, c.AppIDAcr = client.ServicePrincipal.AppID, client.Method
	}
	at, exp, nbf, err := s.Mint(c)
	if err != nil {
		return nil, Transient(err)
	}
	out := &Issued{
		AccessToken: at, ExpiresIn: int64(s.lifetime.Seconds()) - 1, ExpiresOn: exp, NotBefore: nbf,
		Resource: strings.TrimSpace(res.Audience), Scope: us.ResponseScope(req.Version),
		RefreshToken: refresh, ClientInfo: ClientInfo(u.ID, req.Tenant.ID),
	}
	if client.FOCI && !client.SPA {
		out.FOCI = "1"
	}
	// An SPA learns when its sign-in ends (msal-browser then signs in again
	// rather than presenting a dead refresh token), as Entra tells it.
	if client.SPA && refresh != "" {
		out.RefreshExpiresIn = int64(familyEnds.Sub(now).Round(time.Second).Seconds())
	}
	// Every user response carries an id_token, even a refresh that did not
	// ask for openid: clients (azure-identity's shared cache refresh) record
	// the account from it, and an account without a username stops
	// matching (CLIENTS.md §2.1).
	if out.IDToken, err = ix.idToken(s, req, client, auth, now); err != nil {
		return nil, err
	}
	return out, nil
}

// idToken signs the id_token. Its issuer is the one of the discovery
// document the client read: the v2 document for /oauth2/v2.0/token, the v1
// (and ADFS-style) document for /oauth2/token. MSAL compares them exactly.
func (ix *Interactive) idToken(s *Service, req *Request, client userClient, auth userAuth, now time.Time) (string, error) {
	u := auth.User
	c := IDClaims{
		Aud: client.ServicePrincipal.AppID, Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(ix.opts.IDTokenLifetime).Unix(),
		Amr: auth.AMR, Name: u.DisplayName, Nonce: auth.Nonce, Oid: u.ID, PreferredUsername: u.UserPrincipalName,
		Sub: u.ID, Tid: req.Tenant.ID, Uti: newUTI(),
	}
	if !auth.AuthTime.IsZero() {
		c.AuthTime = auth.AuthTime.Unix()
	}
	if req.Version == 1 {
		c.Iss, c.Ver, c.Upn, c.UniqueName = issuer.V1(req.Tenant.ID), "1.0", u.UserPrincipalName, u.UserPrincipalName
	} else {
		c.Iss, c.Ver = issuer.V2(req.BaseURL, req.Tenant.ID), "2.0"
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", Transient(err)
	}
	tok, err := s.keys.Sign(payload)
	if err != nil {
		return "", Transient(err)
	}
	return tok, nil
}

func (ix *Interactive) storeRefresh(ctx context.Context, req *Request, client userClient, u domain.User, auth userAuth,
	plan refreshPlan, value string, now time.Time) (familyEnds time.Time, err error) {
	if plan.Family != nil {
		next := domain.RefreshToken{Hash: signin.Hash(value), FamilyID: plan.Family.ID, ClientID: client.ServicePrincipal.AppID,
			IssuedAt: now, ExpiresAt: minTime(now.Add(ix.opts.RefreshIdle), plan.Family.ExpiresAt)}
		switch err := ix.st.RotateRefreshToken(ctx, plan.RotateFrom, next, now); {
		case errors.Is(err, store.ErrConflict):
			// Another request rotated this token first: one of the two is
			// not the legitimate client. End the whole lineage.
			ix.revokeFamily(ctx, plan.Family.ID, req.Tenant.ID, "refresh token reuse")
			return time.Time{}, errRefreshReused()
		case errors.Is(err, store.ErrPrecondition), errors.Is(err, store.ErrNotFound):
			return time.Time{}, errRefreshRevoked()
		case err != nil:
			return time.Time{}, errStore(err)
		}
		return plan.Family.ExpiresAt, nil
	}
	familyID := plan.NewFamily
	if familyID == "" {
		familyID = uuid.NewString()
	}
	f := domain.RefreshFamily{ID: familyID, TenantID: req.Tenant.ID, UserID: u.ID, ClientID: client.ServicePrincipal.AppID,
		FOCI: client.FOCI && !client.SPA, SPA: client.SPA, AuthTime: auth.AuthTime, AMR: auth.AMR, CreatedAt: now, ExpiresAt: now.Add(ix.opts.RefreshMax)}
	if f.SPA {
		// Absolute, and rotation carries it over (Entra's rule for SPAs).
		f.ExpiresAt = now.Add(spaRefreshLifetime)
	}
	first := domain.RefreshToken{Hash: signin.Hash(value), FamilyID: familyID, ClientID: f.ClientID, IssuedAt: now,
		ExpiresAt: minTime(now.Add(ix.opts.RefreshIdle), f.ExpiresAt)}
	switch err := ix.st.CreateRefreshFamily(ctx, f, first); {
	case errors.Is(err, store.ErrConflict) && plan.OnConflict != nil:
		return time.Time{}, plan.OnConflict
	case err != nil:
		return time.Time{}, errStore(err)
	}
	return f.ExpiresAt, nil
}

// revokeFamily revokes a refresh token family; a failure is logged, since
// the request fails anyway.
func (ix *Interactive) revokeFamily(ctx context.Context, familyID, tenantID, reason string) {
	if err := ix.st.RevokeRefreshFamily(context.WithoutCancel(ctx), familyID, tenantID, ix.signins.Now().UTC(), reason); err != nil {
		ix.signins.Record(ctx, domain.AuditEvent{TenantID: tenantID, Action: "refresh.revoke", Result: "failure", Reason: err.Error(),
			Details: map[string]string{"familyId": familyID}})
	}
}

func errRefreshReused() error {
	return Errorf(ErrInvalidGrant, 70000,
		"The provided grant is invalid: the refresh token was already used (reuse detected), so every token of this sign-in is revoked. Sign in again.")
}

func errRefreshRevoked() error {
	return Errorf(ErrInvalidGrant, 70000, "The provided grant has been revoked. Sign in again.")
}

func minTime(a, b time.Time) time.Time {
	if b.IsZero() || a.Before(b) {
		return a
	}
	return b
}

// NewOpaque returns a new opaque secret (code, refresh token, device code).
func NewOpaque() string { return signin.NewSecret() }

// evaluate runs Conditional Access and per-user MFA for a non-interactive
// grant (password, refresh), which cannot prompt: a block is AADSTS53003 and
// a second factor not yet in amr is AADSTS50076.
func (ix *Interactive) evaluate(ctx context.Context, req *Request, client userClient, res Resource, u domain.User, amr []string, ev *Event) error {
	d, err := ix.signins.Evaluate(ctx, signin.SignInContext{Tenant: req.Tenant, User: u, ClientAppID: client.ServicePrincipal.AppID,
		ResourceAppID: res.ServicePrincipal.AppID, ClientIP: req.ClientIP, ClientAppType: clientAppType(client), AMR: amr})
	if err != nil {
		return errStore(err)
	}
	for k, v := range d.Details() {
		ev.Details[k] = v
	}
	switch {
	case d.Block:
		return Errorf(ErrInvalidGrant, 53003,
			"Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.")
	case d.NeedMFA:
		return Errorf(ErrInvalidGrant, 50076,
			"Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'.",
			res.ServicePrincipal.AppID)
	}
	return nil
}

// clientAppType classifies a client for Conditional Access: public clients
// are desktop and mobile apps; confidential ones and single-page
// applications are web apps (browser).
func clientAppType(c userClient) string {
	if c.Public && !c.SPA {
		return signin.ClientAppNative
	}
	return signin.ClientAppBrowser
}

// mapSignInError turns a password check failure into the token error.
func mapSignInError(err error, tenant domain.Tenant) error {
	if te, ok := signin.IsThrottled(err); ok {
		return throttled(te, ErrInvalidGrant)
	}
	if le, ok := signin.IsLocked(err); ok {
		return Errorf(ErrInvalidGrant, 50053,
			"Your account is locked because you've tried to sign in too many times with an incorrect user ID or password. Try again after %s.",
			le.Until.UTC().Format("2006-01-02 15:04:05Z"))
	}
	switch {
	case errors.Is(err, signin.ErrInvalidCredentials):
		return Errorf(ErrInvalidGrant, 50126, "Error validating credentials due to invalid username or password.")
	case errors.Is(err, signin.ErrUserDisabled):
		return Errorf(ErrInvalidGrant, 50057, "The user account is disabled.")
	}
	return errStore(fmt.Errorf("authenticate user in %s: %w", tenant.ID, err))
}
