package sts

import (
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/issuer"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/web"
	"github.com/tessera-id/tessera/internal/wire"
)

// templateURL marks a URL Tessera built itself (the otpauth:// link) as
// safe for an href; html/template would otherwise blank the scheme.
func templateURL(u string) template.URL { return template.URL(u) }

// authorize serves /authorize (v1 and v2, every tenant segment including
// "adfs"). Its parameters always come from the query string: the pages post
// back to the same URL, so every step re-validates the whole request.
func (in *Interactive) authorize(version int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		pc := in.newPage(w, r)
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			in.errorPage(pc, http.StatusBadRequest, "Sign-in request not valid", "The sign-in request's query string is not valid.", "AADSTS90014")
			return
		}
		for k, v := range q {
			if len(v) > 1 {
				in.errorPage(pc, http.StatusBadRequest, "Sign-in request not valid",
					"The sign-in request has a duplicate parameter '"+printable(k)+"'.", "AADSTS90015")
				return
			}
		}
		tenant, err := in.h.tenants.Resolve(ctx, r.PathValue("tenant"))
		if err != nil {
			te, ok := token.AsError(err)
			if !ok || te.Number == 0 {
				in.internalError(pc, err)
				return
			}
			in.errorPage(pc, http.StatusBadRequest, "Sign-in request not valid", te.Message, aadsts(te))
			return
		}
		pc.tenant = tenant
		ar := token.AuthorizeRequest{
			Version: version, Tenant: tenant, Segment: strings.ToLower(r.PathValue("tenant")), BaseURL: in.h.base.For(r),
			ClientIP: httpx.ClientIP(r), ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"),
			ResponseType: q.Get("response_type"), ResponseMode: q.Get("response_mode"), Scope: q.Get("scope"),
			Resource: q.Get("resource"), State: q.Get("state"), Nonce: q.Get("nonce"),
			CodeChallenge: q.Get("code_challenge"), CodeChallengeMethod: q.Get("code_challenge_method"),
			Prompt: q.Get("prompt"), LoginHint: q.Get("login_hint"), DomainHint: q.Get("domain_hint"),
		}
		az, err := in.ix.ValidateAuthorize(ctx, in.h.tokens, ar)
		if err != nil {
			ae, ok := err.(*token.AuthorizeError)
			switch {
			case !ok:
				in.internalError(pc, err)
			case ae.Redirect:
				in.respondError(pc, az, ae.Err)
			default:
				// Not sent to the redirect URI: it is not known to be the client's.
				in.errorPage(pc, http.StatusBadRequest, "Sign-in request not valid", ae.Err.Message, aadsts(ae.Err))
			}
			return
		}
		pc.action, pc.formTarget = r.URL.RequestURI(), web.Origin(az.Request.RedirectURI)
		pc.clientID, pc.clientName, pc.clientAppType = ar.ClientID, clientName(ar.ClientID, az.ClientName, q.Get("x-client-SKU")), az.ClientAppType
		pc.resourceAppID, pc.loginHint, pc.kind = az.Resource.ServicePrincipal.AppID, ar.LoginHint, "authorize"
		if !in.readForm(pc) {
			return
		}
		if az.HasPrompt(token.PromptNone) {
			in.silent(pc, az)
			return
		}
		forceLogin := az.HasPrompt(token.PromptLogin) && r.Method == http.MethodGet
		sess, user, ok := in.signIn(pc, forceLogin, az.HasPrompt(token.PromptSelectAccount))
		if !ok {
			return
		}
		cr, ok := in.consentFor(pc, az, user)
		if !ok {
			return
		}
		decline := func() {
			in.respondError(pc, az, token.Errorf("access_denied", 65004, "User declined to consent to access the app."))
		}
		p := consentPrompt{always: az.HasPrompt(token.PromptConsent), admin: az.HasPrompt(token.PromptAdminConsent), fallback: consentLines(az)}
		if !in.settleConsent(pc, cr, user, p, decline) {
			return
		}
		in.issue(pc, az, user, sess)
	}
}

// silent answers prompt=none: a code from the existing session, or an
// error telling the client that interaction is needed.
func (in *Interactive) silent(pc *pageCtx, az *token.Authorization) {
	ctx := pc.r.Context()
	sess, user, err := in.silentSession(ctx, pc.tenant.ID, pc.r)
	if err != nil || pc.loginHint != "" && !strings.EqualFold(pc.loginHint, user.UserPrincipalName) {
		in.respondError(pc, az, token.Errorf("login_required", 50058, "A silent sign-in request was sent but no user is signed in."))
		return
	}
	d, err := in.signins.Evaluate(ctx, signinContext(pc, user, sess.AMR))
	if err != nil {
		in.internalError(pc, err)
		return
	}
	switch {
	case d.Block:
		in.record(pc, user, "failure", "AADSTS53003: Access has been blocked by Conditional Access policies.", sess.AMR, d.Details())
		in.respondError(pc, az, token.Errorf("access_denied", 53003, "Access has been blocked by Conditional Access policies."))
		return
	case d.NeedMFA:
		in.respondError(pc, az, token.Errorf("interaction_required", 50076,
			"Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication."))
		return
	}
	in.record(pc, user, "success", "", sess.AMR, d.Details())
	cr, ok := in.consentFor(pc, az, user)
	if !ok {
		return
	}
	if len(cr.Missing) > 0 {
		in.respondError(pc, az, token.Errorf("consent_required", 65001,
			"The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.",
			az.Request.ClientID, az.ClientName))
		return
	}
	in.issue(pc, az, user, sess)
}

// consentFor is what user must consent to for az; on false it has
// answered the request (a scope the API does not expose goes back to the
// client).
func (in *Interactive) consentFor(pc *pageCtx, az *token.Authorization, user domain.User) (token.ConsentRequest, bool) {
	cr, err := in.h.tokens.ConsentFor(pc.r.Context(), pc.tenant, az.Request.ClientID, az.Scope, az.Resource, user.ID)
	if err != nil {
		if te, ok := token.AsError(err); ok && te.Kind != fault.Unavailable {
			in.respondError(pc, az, te)
		} else {
			in.internalError(pc, err)
		}
		return cr, false
	}
	return cr, true
}

func (in *Interactive) issue(pc *pageCtx, az *token.Authorization, user domain.User, sess domain.BrowserSession) {
	code, err := in.ix.IssueCode(pc.r.Context(), az, user, sess)
	if err != nil {
		in.internalError(pc, err)
		return
	}
	// Remembered for front-channel logout.
	if _, err := in.signins.AddClient(pc.r.Context(), sess, az.Request.ClientID); err != nil {
		in.internalError(pc, err)
		return
	}
	// session_state identifies the session to the client (OIDC session
	// management) without being the session's store key.
	params := url.Values{"code": {code}, "client_info": {token.ClientInfo(user.ID, pc.tenant.ID)},
		"session_state": {signin.Hash("session_state:" + sess.Hash)[:32]}}
	if az.Request.State != "" {
		params.Set("state", az.Request.State)
	}
	in.respond(pc, az, params)
}

// respondError sends an OAuth error to the client's redirect URI.
func (in *Interactive) respondError(pc *pageCtx, az *token.Authorization, e *token.Error) {
	params := url.Values{"error": {e.Code}, "error_description": {
		wire.NewOAuthError(e.Code, e.Number, e.Message, httpx.RequestID(pc.r.Context()), httpx.CorrelationID(pc.r.Context()), "", in.h.now()).ErrorDescription,
	}, "error_codes": {aadsts(e)[len("AADSTS"):]}}
	if az.Request.State != "" {
		params.Set("state", az.Request.State)
	}
	in.respond(pc, az, params)
}

// respond delivers params to the redirect URI in the response mode asked
// for: a 302 with a query (MSAL Python, az) or fragment, or an
// auto-submitted form (form_post, which MSAL Go requires).
func (in *Interactive) respond(pc *pageCtx, az *token.Authorization, params url.Values) {
	target := az.Request.RedirectURI
	u, err := url.Parse(target)
	if err != nil {
		in.internalError(pc, err)
		return
	}
	switch az.ResponseMode {
	case token.ResponseModeFormPost:
		keys := make([]string, 0, len(params))
		for k := range params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fields := make([]web.Field, 0, len(keys))
		for _, k := range keys {
			fields = append(fields, web.Field{Name: k, Value: params.Get(k)})
		}
		in.pages.Render(pc.w, http.StatusOK, web.PageFormPost, web.Page{Title: "Finishing sign-in", PostURL: target, Fields: fields}, web.Origin(target))
		return
	case token.ResponseModeFragment:
		u.Fragment, u.RawFragment = "", ""
		target = u.String() + "#" + params.Encode()
	default:
		qs := u.Query()
		for k, v := range params {
			qs[k] = v
		}
		u.RawQuery = qs.Encode()
		target = u.String()
	}
	h := pc.w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Location", target)
	pc.w.WriteHeader(http.StatusFound)
}

// consentLines describe what the client asks for.
func consentLines(az *token.Authorization) []string {
	lines := []string{"Sign you in and read your profile"}
	if az.Scope.Offline {
		lines = append(lines, "Keep access to what you allow until you sign out or revoke it")
	}
	res := az.Resource.ServicePrincipal.DisplayName
	if res == "" {
		res = az.Scope.Resource
	}
	return append(lines, "Access "+res+" as you ("+az.Scope.DelegatedScp()+")")
}

func aadsts(e *token.Error) string { return "AADSTS" + itoa(e.Number) }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// logout ends the browser session. It returns to post_logout_redirect_uri
// only when token.Interactive.PostLogoutRedirectAllowed says so (a redirect
// URI of the client named, or of a single-page application of the tenant),
// so it cannot be used to send people elsewhere.
//
// The web apps the session signed in to that registered a logoutUrl are
// told with OpenID Connect Front-Channel Logout: the page loads each
// logoutUrl?iss=&sid= in a hidden iframe, then goes on to the redirect.
func (in *Interactive) logout(version int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		pc := in.newPage(w, r)
		_ = r.ParseForm()
		tenant, terr := in.h.tenants.Resolve(ctx, r.PathValue("tenant"))
		var frames []string
		if terr == nil {
			if sess, _, err := in.signins.Session(ctx, tenant.ID, in.sessionValue(r)); err == nil {
				iss := issuer.V2(in.h.base.For(r), tenant.ID)
				if version == 1 {
					iss = issuer.V1(tenant.ID)
				}
				frames = in.frontChannelURLs(pc, tenant, sess, iss)
			}
		}
		if err := in.signins.EndSession(ctx, in.sessionValue(r)); err != nil {
			in.internalError(pc, err)
			return
		}
		in.clearSession(w)
		target := r.Form.Get("post_logout_redirect_uri")
		next := ""
		if terr == nil && target != "" &&
			in.ix.PostLogoutRedirectAllowed(ctx, in.h.tokens, tenant, r.Form.Get("client_id"), r.Form.Get("id_token_hint"), target) {
			if u, err := url.Parse(target); err == nil {
				if st := r.Form.Get("state"); st != "" {
					qs := u.Query()
					qs.Set("state", st)
					u.RawQuery = qs.Encode()
				}
				next = u.String()
			}
		}
		if len(frames) > 0 {
			in.pages.Render(w, http.StatusOK, web.PageLogout, web.Page{Title: "Signed out", Frames: frames, RefreshURL: next}, "")
			return
		}
		if next != "" {
			w.Header().Set("Location", next)
			w.WriteHeader(http.StatusFound)
			return
		}
		in.pages.Render(w, http.StatusOK, web.PageMessage, web.Page{Title: "Signed out", Heading: "You signed out of your account",
			Info: "It's a good idea to close all browser windows."}, "")
	}
}

// frontChannelURLs are the logout URLs of the web apps sess signed in to,
// each with the issuer and the session's sid (Front-Channel Logout 1.0 §2).
func (in *Interactive) frontChannelURLs(pc *pageCtx, tenant domain.Tenant, sess domain.BrowserSession, iss string) []string {
	sid := signin.SID(sess.Hash)
	var out []string
	for _, id := range sess.ClientIDs {
		c, err := in.signins.Directory().LookupClient(pc.r.Context(), tenant.ID, id)
		if err != nil || c.Application == nil || c.Application.LogoutURL == "" {
			continue
		}
		u, err := url.Parse(c.Application.LogoutURL)
		if err != nil || u.Scheme != "https" && !loopbackHTTP(u) {
			continue
		}
		qs := u.Query()
		qs.Set("iss", iss)
		qs.Set("sid", sid)
		u.RawQuery = qs.Encode()
		out = append(out, u.String())
	}
	return out
}

// loopbackHTTP: plain http is allowed for a loopback logout URL, as for
// redirect URIs (a developer's machine).
func loopbackHTTP(u *url.URL) bool {
	h := u.Hostname()
	return u.Scheme == "http" && (h == "localhost" || h == "127.0.0.1" || h == "::1")
}

// tesseraSDKSKU is the x-client-SKU of Tessera's Go SDK (sdk/credential's
// ClientSKU), which `tessera login` signs in with.
const tesseraSDKSKU = "Tessera.Go"

// clientName is the name the sign-in pages show for the client. `tessera
// login` signs in as the Azure CLI's client id, so that its refresh token is
// a family token like az's; the page still names what the person ran, or
// "continue to Microsoft Azure CLI" after `tessera login` reads as a
// mistake. Only the name changes: the client is the same either way.
func clientName(clientID, registered, sku string) string {
	if clientID == directory.AppIDAzureCLI && sku == tesseraSDKSKU {
		return "Tessera CLI"
	}
	return registered
}
