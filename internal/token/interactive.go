package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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
	// SID is the sid of the browser session the sign-in came from ("" for
	// flows without one).
	SID string
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
	Email             string   `json:"email,omitempty"`
	FamilyName        string   `json:"family_name,omitempty"`
	GivenName         string   `json:"given_name,omitempty"`
	Name              string   `json:"name,omitempty"`
	Nonce             string   `json:"nonce,omitempty"`
	Oid               string   `json:"oid"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Sub               string   `json:"sub"`
	// Sid names the browser session, as front-channel logout does.
	Sid        string   `json:"sid,omitempty"`
	Tid        string   `json:"tid"`
	UniqueName string   `json:"unique_name,omitempty"`
	Upn        string   `json:"upn,omitempty"`
	Uti        string   `json:"uti"`
	Ver        string   `json:"ver"`
	Acct       *int     `json:"acct,omitempty"`
	IPAddr     string   `json:"ipaddr,omitempty"`
	Groups     []string `json:"groups,omitempty"`
	Wids       []string `json:"wids,omitempty"`
	// ClaimNames and ClaimSources: the groups overage (see AccessClaims).
	ClaimNames   map[string]string      `json:"_claim_names,omitempty"`
	ClaimSources map[string]ClaimSource `json:"_claim_sources,omitempty"`
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

// errUserRevoked is AADSTS50173: what a grant redeems was issued before
// its user was disabled, deleted or changed the password.
var errUserRevoked = Errorf(ErrInvalidGrant, 50173,
	"The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password, or the account was disabled.")

// grantSubject is a user grant's step 4: the user it redeems for, still
// valid since authTime, named on ev, and the scope asked for (parse).
func (ix *Interactive) grantSubject(ctx context.Context, tenantID, userID string, authTime time.Time, ev *Event,
	user *domain.User, scope *UserScope, parse func() (UserScope, error)) (resource string, err error) {
	u, ok, err := ix.signins.UserValid(ctx, tenantID, userID, authTime)
	if err != nil {
		return "", errStore(err)
	}
	if !ok {
		return "", errUserRevoked
	}
	*user, ev.ActorName = u, u.UserPrincipalName
	if *scope, err = parse(); err != nil {
		return "", err
	}
	return scope.Resource, nil
}

// userDecision is a user flow's decision: the refresh token is stored
// first (plan), so a rotation that loses a race leaves its loser holding no
// token at all.
func (ix *Interactive) userDecision(ctx context.Context, req *Request, client *Client, us UserScope, auth userAuth, plan refreshPlan) (*Decision, error) {
	u := &UserDecision{Auth: auth, Scope: us, IDTokenLifetime: ix.opts.IDTokenLifetime}
	if plan.Family != nil || us.Offline {
		u.Refresh = NewOpaque()
		var err error
		if u.FamilyEnds, err = ix.storeRefresh(ctx, req, client, auth.User, auth, plan, u.Refresh, ix.signins.Now().UTC()); err != nil {
			return nil, err
		}
	}
	return &Decision{ObjectID: auth.User.ID, User: u}, nil
}

// idToken signs the id_token. Its issuer is the one of the discovery
// document the client read: the v2 document for /oauth2/v2.0/token, the v1
// (and ADFS-style) document for /oauth2/token. MSAL compares them exactly.
func (s *Service) idToken(ctx context.Context, req *Request, client *Client, d *UserDecision, now time.Time) (string, error) {
	auth := d.Auth
	u := auth.User
	c := IDClaims{
		Aud: client.ServicePrincipal.AppID, Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(d.IDTokenLifetime).Unix(),
		Amr: auth.AMR, Name: u.DisplayName, Nonce: auth.Nonce, Oid: u.ID, PreferredUsername: u.UserPrincipalName,
		Sub: u.ID, Tid: req.Tenant.ID, Uti: newUTI(), Sid: auth.SID,
	}
	if !auth.AuthTime.IsZero() {
		c.AuthTime = auth.AuthTime.Unix()
	}
	// The client's registration decides what its id_tokens say of the
	// user's memberships.
	m, err := s.membershipsFor(ctx, req.Tenant.ID, u.ID, client.Application, client.ServicePrincipal)
	if err != nil {
		return "", err
	}
	m.apply(req.BaseURL, u.ID, &c.Groups, &c.Wids, &c.ClaimNames, &c.ClaimSources)
	optional := optionalClaims(client.Application, true)
	if req.Version == 1 {
		c.Iss, c.Ver, c.Upn, c.UniqueName = issuer.V1(req.Tenant.ID), "1.0", u.UserPrincipalName, u.UserPrincipalName
	} else {
		c.Iss, c.Ver = issuer.V2(req.BaseURL, req.Tenant.ID), "2.0"
		if optional["upn"] {
			c.Upn = u.UserPrincipalName
		}
	}
	if optional["acct"] {
		c.Acct = tenantMember()
	}
	if optional["ipaddr"] {
		c.IPAddr = req.ClientIP
	}
	profileClaims(u, optional, req.Version == 1, &c.Email, &c.GivenName, &c.FamilyName)
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

func (ix *Interactive) storeRefresh(ctx context.Context, req *Request, client *Client, u domain.User, auth userAuth,
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
		FOCI: client.FOCI && !client.SPA, SPA: client.SPA, AuthTime: auth.AuthTime, AMR: auth.AMR, SID: auth.SID,
		CreatedAt: now, ExpiresAt: now.Add(ix.opts.RefreshMax)}
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
func (ix *Interactive) evaluate(ctx context.Context, req *Request, client *Client, res Resource, u domain.User, amr []string, ev *Event) error {
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
func clientAppType(c *Client) string {
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
