package sts

import (
	"errors"
	"net/http"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/web"
	"github.com/tessera-id/tessera/internal/wire"
)

// deviceAuthorizationResponse is the device authorization answer
// (RFC 8628 §3.2) with numbers as numbers, which every client reads.
// verification_url is the name Entra's v1 endpoint and older ADAL clients
// use for the same URL.
type deviceAuthorizationResponse struct {
	UserCode        string `json:"user_code"`
	DeviceCode      string `json:"device_code"`
	VerificationURI string `json:"verification_uri"`
	VerificationURL string `json:"verification_url,omitempty"`
	ExpiresIn       int    `json:"expires_in"`
	Interval        int    `json:"interval"`
	Message         string `json:"message"`
}

// deviceCode serves POST /{tenant}/oauth2[/v2.0]/devicecode.
func (in *Interactive) deviceCode(version int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		form, err := readTokenForm(w, r)
		if err != nil {
			in.h.writeError(w, r, err)
			return
		}
		req, err := in.h.parseTokenRequest(r, form, version)
		if err != nil {
			in.h.writeError(w, r, err)
			return
		}
		uri := in.h.base.For(r) + DeviceLoginPath
		da, err := in.ix.StartDeviceAuthorization(r.Context(), in.h.tokens, req, uri)
		if err != nil {
			in.h.writeError(w, r, err)
			return
		}
		resp := deviceAuthorizationResponse{UserCode: da.UserCode, DeviceCode: da.DeviceCode, VerificationURI: da.VerificationURI,
			ExpiresIn: da.ExpiresIn, Interval: da.Interval, Message: da.Message}
		if version == 1 {
			resp.VerificationURL = da.VerificationURI
		}
		w.Header().Set("Pragma", "no-cache")
		wire.WriteJSON(w, http.StatusOK, resp)
	}
}

// deviceLogin is the verification page: the person enters the user code,
// signs in (with MFA and Conditional Access as for any sign-in), and
// approves or declines the device's request.
func (in *Interactive) deviceLogin(w http.ResponseWriter, r *http.Request) {
	pc := in.newPage(w, r)
	pc.action, pc.kind = DeviceLoginPath, "devicecode"
	if !in.readForm(pc) {
		return
	}
	if r.Method == http.MethodGet {
		in.render(pc, http.StatusOK, web.PageDevice, web.Page{Title: "Enter code", UserCode: r.URL.Query().Get("otc")})
		return
	}
	ctx := r.Context()
	typed := strings.TrimSpace(r.PostForm.Get("user_code"))
	pd, err := in.ix.LookupUserCode(ctx, in.h.tokens, typed)
	if errors.Is(err, token.ErrUnknownUserCode) {
		in.render(pc, http.StatusOK, web.PageDevice, web.Page{Title: "Enter code", UserCode: typed,
			Error: "That code didn't work. Check the code and try again, or ask the app for a new one."})
		return
	}
	if err != nil {
		in.internalError(pc, err)
		return
	}
	pc.tenant = pd.Tenant
	pc.hidden = []web.Field{{Name: "user_code", Value: token.FormatUserCode(pd.Code.UserCode)}}
	pc.clientID, pc.clientName, pc.resourceAppID = pd.Code.ClientID, pd.ClientName, pd.ResourceAppID
	pc.clientAppType = signin.ClientAppNative
	if !pd.Public {
		pc.clientAppType = signin.ClientAppBrowser
	}
	step := pc.step
	if step == "code" {
		pc.step = "" // the first page after the code: the session or the login page
	}
	sess, user, ok := in.signIn(pc, false, false)
	if !ok {
		return
	}
	us, err := token.ParseUserScope(pd.Code.Version, pd.Code.Scope, pd.Code.Resource)
	if err != nil {
		in.internalError(pc, err)
		return
	}
	res, err := in.h.tokens.ResolveResource(ctx, pd.Tenant, us.Resource)
	if err != nil {
		in.internalError(pc, err)
		return
	}
	cr, err := in.h.tokens.ConsentFor(ctx, pd.Tenant, pd.Code.ClientID, us, res, user.ID)
	if err != nil {
		if te, ok := token.AsError(err); ok && te.Kind != fault.Unavailable {
			in.errorPage(pc, http.StatusBadRequest, "Sign-in request not valid", te.Message, aadsts(te))
			return
		}
		in.internalError(pc, err)
		return
	}
	decide := func(approve bool) {
		if err := in.ix.DecideUserCode(ctx, pd.Code.UserCode, approve, user, sess.AuthTime, sess.AMR); err != nil {
			if errors.Is(err, token.ErrUnknownUserCode) {
				in.render(pc, http.StatusOK, web.PageDevice, web.Page{Title: "Enter code",
					Error: "That code has expired or was already used. Ask the app for a new one."})
				return
			}
			in.internalError(pc, err)
			return
		}
		in.recordDecision(pc, user, approve)
		if !approve {
			in.render(pc, http.StatusOK, web.PageMessage, web.Page{Title: "Sign-in canceled", Heading: "Sign-in canceled",
				Info: "You declined to sign in to " + pd.ClientName + " on the other device. You can close this window."})
			return
		}
		in.render(pc, http.StatusOK, web.PageMessage, web.Page{Title: "Signed in", Heading: "You're signed in",
			Info: "You have signed in to " + pd.ClientName + " on your device. You can close this window."})
	}
	switch step {
	case "decline":
		decide(false)
	case "approve", "consent":
		// Approval waits for consent: the device's token would be refused
		// without it (AADSTS65001).
		if in.settleConsent(pc, cr, user, consentPrompt{}, func() { decide(false) }) {
			decide(true)
		}
	default:
		if len(cr.Missing) > 0 {
			in.settleConsent(pc, cr, user, consentPrompt{}, func() { decide(false) })
			return
		}
		in.render(pc, http.StatusOK, web.PageDeviceConfirm, web.Page{Title: "Confirm sign-in", Account: user.UserPrincipalName,
			UserCode: token.FormatUserCode(pd.Code.UserCode)})
	}
}

func (in *Interactive) recordDecision(pc *pageCtx, u domain.User, approve bool) {
	result, reason := "success", ""
	if !approve {
		result, reason = "failure", "AADSTS65004: User declined the device code sign-in request."
	}
	in.signins.Record(pc.r.Context(), domain.AuditEvent{
		TenantID: pc.tenant.ID, ActorID: u.ID, ActorName: u.UserPrincipalName, Action: "devicecode.decision",
		Target: pc.resourceAppID, Result: result, Reason: reason, ClientIP: httpx.ClientIP(pc.r),
		CorrelationID: httpx.CorrelationID(pc.r.Context()), Details: map[string]string{"clientId": pc.clientID},
	})
}

// signinContext is the Conditional Access view of a page's sign-in.
func signinContext(pc *pageCtx, u domain.User, amr []string) signin.SignInContext {
	return signin.SignInContext{Tenant: pc.tenant, User: u, ClientAppID: pc.clientID, ResourceAppID: pc.resourceAppID,
		ClientIP: httpx.ClientIP(pc.r), ClientAppType: pc.clientAppType, AMR: amr}
}
