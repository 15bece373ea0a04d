package token

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/store"
)

// Device authorization (RFC 8628): a client on a box without a browser
// asks for a device code, shows the person a short user code and a URL,
// and polls the token endpoint while the person signs in on another device
// and approves.

// Device code grant types: the RFC 8628 URN (Python, Node, az) and the
// bare "device_code" MSAL Go sends.
const (
	GrantDeviceCodeURN  = "urn:ietf:params:oauth:grant-type:device_code"
	GrantDeviceCodeBare = "device_code"
)

// userCodeAlphabet: consonants only (RFC 8628 §6.1), so no code spells a
// word and none is ambiguous (no vowels, no 0/O or 1/I).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// userCodeLength gives 20^8 ≈ 2.6·10^10 codes: with a few attempts allowed
// per minute, guessing a live one is hopeless.
const userCodeLength = 8

func newUserCode() string {
	b := make([]byte, userCodeLength)
	_, _ = rand.Read(b)
	out := make([]byte, userCodeLength)
	for i, v := range b {
		// 256 is not a multiple of 20, so reject-sample to stay uniform.
		for v >= 240 {
			var one [1]byte
			_, _ = rand.Read(one[:])
			v = one[0]
		}
		out[i] = userCodeAlphabet[int(v)%len(userCodeAlphabet)]
	}
	return string(out)
}

// NormalizeUserCode strips separators and case, as the person may type
// "bcdf-ghjk" for BCDFGHJK.
func NormalizeUserCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// FormatUserCode shows a normalised code as XXXX-XXXX.
func FormatUserCode(code string) string {
	if len(code) == userCodeLength {
		return code[:4] + "-" + code[4:]
	}
	return code
}

// DeviceAuthorization is the answer of the device authorization endpoint.
type DeviceAuthorization struct {
	DeviceCode      string
	UserCode        string
	VerificationURI string
	ExpiresIn       int
	Interval        int
	Message         string
}

// StartDeviceAuthorization issues a device code for req (client_id and
// scope or resource; the token service's parsed request). verificationURI is
// the page where the person enters the user code.
func (ix *Interactive) StartDeviceAuthorization(ctx context.Context, s *Service, req *Request, verificationURI string) (*DeviceAuthorization, error) {
	client, err := s.client(ctx, req, ClientRule{})
	if err != nil {
		return nil, err
	}
	us, err := ParseUserScope(req.Version, req.Scope, req.Resource)
	if err != nil {
		return nil, err
	}
	if _, err := s.ResolveResource(ctx, req.Tenant, us.Resource); err != nil {
		return nil, err
	}
	deviceCode := NewOpaque()
	now := s.now().UTC()
	d := domain.DeviceCode{
		Hash: signin.Hash(deviceCode), TenantID: req.Tenant.ID, ClientID: client.ServicePrincipal.AppID,
		Version: req.Version, Scope: req.Scope, Resource: req.Resource, Interval: ix.opts.DeviceCodeInterval,
		CreatedAt: now, ExpiresAt: now.Add(ix.opts.DeviceCodeLifetime), Status: domain.DeviceCodePending,
		FamilyID: uuid.NewString(),
	}
	for attempt := 0; ; attempt++ {
		d.UserCode = newUserCode()
		err := ix.st.CreateDeviceCode(ctx, d)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || attempt == 4 {
			return nil, errStore(err)
		}
	}
	shown := FormatUserCode(d.UserCode)
	return &DeviceAuthorization{
		DeviceCode: deviceCode, UserCode: shown, VerificationURI: verificationURI,
		ExpiresIn: int(ix.opts.DeviceCodeLifetime.Seconds()), Interval: d.Interval,
		Message: fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verificationURI, shown),
	}, nil
}

// PendingDevice is a device code awaiting the person's decision.
type PendingDevice struct {
	Code       domain.DeviceCode
	Tenant     domain.Tenant
	ClientName string
	// ResourceAppID is the resource the client asks for (for Conditional Access).
	ResourceAppID string
	// Public: the client is a public (desktop) client.
	Public bool
}

// ErrUnknownUserCode: no pending, unexpired device code has this user code.
var ErrUnknownUserCode = errors.New("the code is not valid or has expired")

// LookupUserCode finds the pending device code a person typed, with its
// tenant (the code decides which directory the person signs in to).
func (ix *Interactive) LookupUserCode(ctx context.Context, s *Service, userCode string) (PendingDevice, error) {
	code := NormalizeUserCode(userCode)
	if len(code) != userCodeLength {
		return PendingDevice{}, ErrUnknownUserCode
	}
	d, err := ix.st.GetDeviceCodeByUserCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return PendingDevice{}, ErrUnknownUserCode
	}
	if err != nil {
		return PendingDevice{}, err
	}
	if d.Status != domain.DeviceCodePending || !s.now().Before(d.ExpiresAt) {
		return PendingDevice{}, ErrUnknownUserCode
	}
	tenant, err := ix.st.GetTenant(ctx, d.TenantID)
	if err != nil {
		return PendingDevice{}, err
	}
	p := PendingDevice{Code: d, Tenant: tenant, ClientName: d.ClientID}
	if c, err := s.dir.LookupClient(ctx, d.TenantID, d.ClientID); err == nil {
		p.ClientName, p.Public = c.ServicePrincipal.DisplayName, isPublic(c)
	}
	us, err := ParseUserScope(d.Version, d.Scope, d.Resource)
	if err != nil {
		return PendingDevice{}, err
	}
	res, err := s.ResolveResource(ctx, tenant, us.Resource)
	if err != nil {
		return PendingDevice{}, err
	}
	p.ResourceAppID = res.ServicePrincipal.AppID
	return p, nil
}

// DecideUserCode approves or declines a device code for a signed-in user.
func (ix *Interactive) DecideUserCode(ctx context.Context, userCode string, approve bool, u domain.User, authTime time.Time, amr []string) error {
	err := ix.st.DecideDeviceCode(ctx, NormalizeUserCode(userCode), approve, u.ID, authTime, amr, ix.signins.Now().UTC())
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrPrecondition) {
		return ErrUnknownUserCode
	}
	return err
}

// DeviceCode is the device code grant: the client's polling.
type DeviceCode struct{ ix *Interactive }

// DeviceCode returns the device code grant.
func (ix *Interactive) DeviceCode() DeviceCode { return DeviceCode{ix: ix} }

// Types implements Grant: both spellings clients send.
func (DeviceCode) Types() []string { return []string{GrantDeviceCodeURN, GrantDeviceCodeBare} }

// Redeem implements Grant: the client's poll, which wins the redemption
// once the person has approved.
func (g DeviceCode) Redeem(ctx context.Context, req *Request, ev *Event) (Redemption, error) {
	ix := g.ix
	value := req.Form["device_code"]
	if value == "" {
		value = req.Form["code"] // MSAL Python and az send both, older clients only code
	}
	if value == "" {
		return nil, Errorf(ErrInvalidRequest, 900144, "The request body must contain the following parameter: 'device_code'.")
	}
	now := ix.signins.Now()
	before, err := ix.st.PollDeviceCode(ctx, signin.Hash(value), now.UTC())
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(ErrInvalidGrant, 70000, "The provided value for the 'device_code' parameter is not valid.")
	}
	if err != nil {
		return nil, errStore(err)
	}
	ev.ActorID, ev.Details["principalType"] = before.UserID, "User"
	if before.TenantID != req.Tenant.ID || before.ClientID != req.ClientID {
		return nil, Errorf(ErrInvalidGrant, 70000, "The provided value for the 'device_code' parameter is not valid for this client.")
	}
	switch before.Status {
	case domain.DeviceCodeRedeemed:
		return nil, Errorf(ErrInvalidGrant, 54005, "The device code was already redeemed.")
	case domain.DeviceCodeDeclined:
		return nil, Errorf(ErrAuthorizationDeclined, 65004, "The user declined the sign-in request.")
	case domain.DeviceCodePending:
		if !now.Before(before.ExpiresAt) {
			return nil, Errorf(ErrExpiredToken, 70019, "Verification code expired.")
		}
		// A client polling much faster than the interval is told to slow
		// down (RFC 8628 §3.5). Half the interval of slack: MSAL Go backs
		// off from 50 ms up to 5 s and never reads the interval.
		if !before.LastPolledAt.IsZero() && now.Sub(before.LastPolledAt) < time.Duration(before.Interval)*time.Second/2 {
			return nil, Errorf(ErrSlowDown, 70016, "OAuth 2.0 device flow error. Polling too frequently; wait the interval between requests.")
		}
		return nil, Errorf(ErrAuthorizationPending, 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	// Approved: this poll won the redemption.
	return &deviceRedemption{ix: ix, code: before}, nil
}

type deviceRedemption struct {
	ix    *Interactive
	code  domain.DeviceCode
	scope UserScope
	user  domain.User
}

func (*deviceRedemption) ClientRule() ClientRule { return ClientRule{} }

func (r *deviceRedemption) Subject(ctx context.Context, _ *Request, _ *Client, ev *Event) (string, error) {
	d := r.code
	return r.ix.grantSubject(ctx, d.TenantID, d.UserID, d.AuthTime, ev, &r.user, &r.scope, func() (UserScope, error) {
		return ParseUserScope(d.Version, d.Scope, d.Resource)
	})
}

func (r *deviceRedemption) Authorize(ctx context.Context, req *Request, client *Client, _ Resource, _ *Event) (*Decision, error) {
	d := r.code
	return r.ix.userDecision(ctx, req, client, r.scope, userAuth{User: r.user, AMR: d.AMR, AuthTime: d.AuthTime},
		refreshPlan{NewFamily: d.FamilyID})
}

// isPolling reports a device code poll that is only waiting: it is not a
// sign-in, and a client polls every few seconds, so the sign-in log skips it.
func isPolling(err error) bool {
	te, ok := AsError(err)
	return ok && (te.Code == ErrAuthorizationPending || te.Code == ErrSlowDown)
}
