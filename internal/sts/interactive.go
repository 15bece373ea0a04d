package sts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/web"
)

// Interactive serves the routes people (and their browsers) use to sign
// in: /authorize with Tessera's login pages, logout, the device
// authorization endpoints and the device-code verification page.
//
//	GET  /{tenant}/oauth2/v2.0/authorize ─ validate client, redirect URI, PKCE
//	   ├─ session cookie? ─ prompt=none: silent code or login_required
//	   │                  └ select_account: account picker
//	   └─ login page ─POST─► password (smart lockout)
//	        └─ password change required? ─► "Update your password" page
//	        └─ Conditional Access ─► block page | MFA (or enrollment) page
//	             └─ consent (consent.go): page for missing permissions or
//	                prompt=consent, "Need admin approval", or go on
//	                  └─ code ─► 302 (query/fragment) or auto-submitted form_post
//
// Every page posts back to the URL it was served from (the authorize
// request's query string is kept in the form action), so no flow state is
// kept on the server besides the session: any replica can serve any step.
type Interactive struct {
	h       *Handler
	ix      *token.Interactive
	signins *signin.Service
	pages   *web.Pages
}

// NewInteractive returns the interactive sign-in routes of h.
func NewInteractive(h *Handler, ix *token.Interactive, pages *web.Pages) *Interactive {
	return &Interactive{h: h, ix: ix, signins: ix.SignIns(), pages: pages}
}

// Register mounts the routes on mux.
func (in *Interactive) Register(mux *http.ServeMux) {
	for _, v := range []struct {
		path    string
		version int
	}{{"/{tenant}/oauth2/v2.0", 2}, {"/{tenant}/oauth2", 1}} {
		mux.HandleFunc("GET "+v.path+"/authorize", in.authorize(v.version))
		mux.HandleFunc("POST "+v.path+"/authorize", in.authorize(v.version))
		mux.HandleFunc("POST "+v.path+"/devicecode", in.deviceCode(v.version))
		mux.HandleFunc("GET "+v.path+"/logout", in.logout(v.version))
		mux.HandleFunc("POST "+v.path+"/logout", in.logout(v.version))
	}
	// Entra's admin consent endpoint; its pages post back to it.
	mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", in.adminConsent)
	mux.HandleFunc("POST /{tenant}/v2.0/adminconsent", in.adminConsent)
	mux.HandleFunc("GET "+DeviceLoginPath, in.deviceLogin)
	mux.HandleFunc("POST "+DeviceLoginPath, in.deviceLogin)
	mux.HandleFunc("GET "+web.StaticPath, web.ServeStylesheet)
}

// DeviceLoginPath is the verification page of device authorization.
const DeviceLoginPath = "/devicelogin"

// Cookie names. The __Host- prefix makes browsers refuse them unless
// Secure, host-only and for path "/": no sibling host can plant one.
const (
	sessionCookie = "__Host-tessera-session"
	csrfCookie    = "__Host-tessera-csrf"
)

// maxPageForm bounds a login form body.
const maxPageForm = 16 << 10

// pageCtx is one request to a sign-in page.
type pageCtx struct {
	w      http.ResponseWriter
	r      *http.Request
	tenant domain.Tenant
	csrf   string
	// action is the URL the page's forms post to; hidden are carried along.
	action string
	hidden []web.Field
	step   string

	clientID, clientName, resourceAppID, clientAppType string
	loginHint                                          string
	// kind names the flow in the sign-in log ("authorize", "devicecode").
	kind string
	// formTarget is the origin of the client's redirect URI, where the
	// page's forms may end up (see web.Pages.Render).
	formTarget string
}

func (in *Interactive) newPage(w http.ResponseWriter, r *http.Request) *pageCtx {
	pc := &pageCtx{w: w, r: r}
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		pc.csrf = c.Value
	} else {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		pc.csrf = base64.RawURLEncoding.EncodeToString(b)
		// Strict: the token is only needed on this server's own form posts.
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: pc.csrf, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	return pc
}

// readForm parses a page's POST body and checks its CSRF token against the
// cookie (double submit): a form posted from another site carries neither.
func (in *Interactive) readForm(pc *pageCtx) bool {
	if pc.r.Method != http.MethodPost {
		return true
	}
	pc.r.Body = http.MaxBytesReader(pc.w, pc.r.Body, maxPageForm)
	if err := pc.r.ParseForm(); err != nil {
		in.errorPage(pc, http.StatusBadRequest, "We couldn't read that form", "The form could not be read. Go back to the application and sign in again.", "")
		return false
	}
	c, err := pc.r.Cookie(csrfCookie)
	sent := pc.r.PostForm.Get("csrf")
	if err != nil || sent == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(sent)) != 1 {
		in.errorPage(pc, http.StatusBadRequest, "This page has expired",
			"The sign-in page expired or was opened from somewhere else. Go back to the application and sign in again.", "")
		return false
	}
	pc.step = pc.r.PostForm.Get("step")
	return true
}

func (in *Interactive) page(pc *pageCtx, p web.Page) web.Page {
	p.Action, p.CSRF, p.Hidden = pc.action, pc.csrf, pc.hidden
	if p.ClientName == "" {
		p.ClientName = pc.clientName
	}
	p.Correlation = httpx.CorrelationID(pc.r.Context())
	return p
}

func (in *Interactive) render(pc *pageCtx, status int, name string, p web.Page) {
	in.pages.Render(pc.w, status, name, in.page(pc, p), pc.formTarget)
}

func (in *Interactive) errorPage(pc *pageCtx, status int, heading, msg, code string) {
	in.pages.Render(pc.w, status, web.PageError, web.Page{Title: heading, Heading: heading, Error: msg, ErrorCode: code,
		Correlation: httpx.CorrelationID(pc.r.Context())}, "")
}

func (in *Interactive) sessionValue(r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

func (in *Interactive) setSession(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(in.signins.SessionLifetime().Seconds())})
}

func (in *Interactive) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// signIn runs the person through sign-in for a flow: the session or the
// password, then Conditional Access and the second factor. It returns the
// session and user when sign-in is complete; otherwise it has written the
// next page and returns false.
//
// forceLogin (prompt=login) ignores an existing session on the first page;
// pick (prompt=select_account) offers it as a choice instead of using it.
func (in *Interactive) signIn(pc *pageCtx, forceLogin, pick bool) (domain.BrowserSession, domain.User, bool) {
	ctx := pc.r.Context()
	sess, user, err := in.signins.Session(ctx, pc.tenant.ID, in.sessionValue(pc.r))
	switch {
	case errors.Is(err, signin.ErrNoSession):
	case err != nil:
		in.internalError(pc, err)
		return sess, user, false
	}
	has := err == nil
	login := func(username, msg string, status int) {
		if username == "" {
			username = pc.loginHint
		}
		in.render(pc, status, web.PageLogin, web.Page{Title: "Sign in", Username: username, Error: msg})
	}
	switch pc.step {
	case "password":
		username := strings.TrimSpace(pc.r.PostForm.Get("username"))
		u, err := in.signins.Authenticate(ctx, pc.tenant, signin.PasswordAttempt{UPN: username, Password: pc.r.PostForm.Get("password"), Address: httpx.ClientIP(pc.r)})
		if err != nil {
			in.recordFailure(pc, username, "password", err)
			msg, status := passwordMessage(err)
			if te, ok := signin.IsThrottled(err); ok {
				pc.w.Header().Set("Retry-After", strconv.Itoa(signin.RetryAfterSeconds(te.RetryAfter)))
			}
			if status == 0 {
				in.internalError(pc, err)
				return sess, user, false
			}
			login(username, msg, status)
			return sess, user, false
		}
		// A new sign-in replaces the browser's previous session.
		_ = in.signins.EndSession(ctx, in.sessionValue(pc.r))
		cookie, b, err := in.signins.NewSession(ctx, pc.tenant.ID, u, []string{signin.AMRPassword})
		if err != nil {
			in.internalError(pc, err)
			return sess, user, false
		}
		in.setSession(pc.w, cookie)
		sess, user, has = b, u, true
	case "another":
		login("", "", http.StatusOK)
		return sess, user, false
	case "changepassword":
		if !has {
			login("", "Your sign-in session has expired. Sign in again.", http.StatusOK)
			return sess, user, false
		}
		if user.ForceChangePassword {
			var ok bool
			if sess, user, ok = in.changePassword(pc, sess, user); !ok {
				return sess, user, false
			}
		}
	case "mfa", "enroll":
		if !has {
			login("", "Your sign-in session has expired. Sign in again.", http.StatusOK)
			return sess, user, false
		}
		code := pc.r.PostForm.Get("otp")
		var verr error
		if pc.step == "mfa" {
			verr = in.signins.VerifyTOTP(ctx, pc.tenant.ID, user.ID, code)
		} else {
			verr = in.signins.ConfirmTOTP(ctx, pc.tenant.ID, user.ID, code)
		}
		if verr != nil {
			in.recordFailure(pc, user.UserPrincipalName, "mfa", verr)
			msg := "That code didn't work. Check the code in your authenticator app and try again."
			status := http.StatusOK
			if _, locked := signin.IsLocked(verr); locked {
				msg, status = "Too many wrong codes. Your second sign-in step is temporarily locked; try again later.", http.StatusTooManyRequests
			} else if !errors.Is(verr, signin.ErrInvalidCode) && !errors.Is(verr, signin.ErrNoMFAMethod) {
				in.internalError(pc, verr)
				return sess, user, false
			}
			if pc.step == "mfa" {
				in.render(pc, status, web.PageMFA, web.Page{Title: "Enter code", Account: user.UserPrincipalName, Error: msg})
			} else {
				in.renderEnroll(pc, user, msg, status)
			}
			return sess, user, false
		}
		if sess, err = in.signins.AddMFA(ctx, sess); err != nil {
			in.internalError(pc, err)
			return sess, user, false
		}
	case "continue", "consent", "decline", "approve":
		if !has {
			login("", "Your sign-in session has expired. Sign in again.", http.StatusOK)
			return sess, user, false
		}
		if pc.step == "continue" && forceLogin {
			login(user.UserPrincipalName, "", http.StatusOK)
			return sess, user, false
		}
	default:
		if !has || forceLogin {
			login("", "", http.StatusOK)
			return sess, user, false
		}
		if pc.loginHint != "" && !strings.EqualFold(pc.loginHint, user.UserPrincipalName) {
			login(pc.loginHint, "", http.StatusOK)
			return sess, user, false
		}
		if pick {
			in.render(pc, http.StatusOK, web.PagePick, web.Page{Title: "Pick an account", Account: user.UserPrincipalName})
			return sess, user, false
		}
	}
	if user.ForceChangePassword {
		// The password was right, but the user must replace it before the
		// sign-in goes on (whatever step was posted).
		in.renderChangePassword(pc, user, "", http.StatusOK)
		return sess, user, false
	}
	return in.checkPolicies(pc, sess, user)
}

// renderChangePassword shows the "Update your password" step.
func (in *Interactive) renderChangePassword(pc *pageCtx, user domain.User, msg string, status int) {
	in.render(pc, status, web.PageChangePassword, web.Page{Title: "Update your password", Account: user.UserPrincipalName, Error: msg})
}

// changePassword completes the forced password change of a signed-in user
// whose session proves the current password. The new password must pass the
// directory's rule for an administrator's reset. On success the flag is
// cleared and PasswordChangedAt moves to now, which ends every older session
// and refresh token, including the one this sign-in started with; a new
// session, begun after the change, carries the sign-in on.
func (in *Interactive) changePassword(pc *pageCtx, sess domain.BrowserSession, user domain.User) (domain.BrowserSession, domain.User, bool) {
	ctx := pc.r.Context()
	pw, confirm := pc.r.PostForm.Get("new_password"), pc.r.PostForm.Get("confirm_password")
	switch {
	case pw == "":
		in.renderChangePassword(pc, user, "Enter a new password.", http.StatusOK)
		return sess, user, false
	case pw != confirm:
		in.renderChangePassword(pc, user, "The passwords don't match. Enter the same new password in both boxes.", http.StatusOK)
		return sess, user, false
	}
	u, err := in.signins.Directory().ChangeExpiredPassword(ctx, pc.tenant.ID, user.ID, pw)
	switch {
	case fault.KindOf(err) == fault.Invalid:
		fe, _ := fault.As(err)
		in.recordPasswordChange(pc, user, fe.Message)
		in.renderChangePassword(pc, user, fe.Message, http.StatusOK)
		return sess, user, false
	case errors.Is(err, directory.ErrUserDisabled):
		in.render(pc, http.StatusOK, web.PageLogin, web.Page{Title: "Sign in", Username: user.UserPrincipalName,
			Error: "Your account has been disabled. Contact your administrator."})
		return sess, user, false
	case err != nil:
		in.internalError(pc, err)
		return sess, user, false
	}
	in.recordPasswordChange(pc, u, "")
	_ = in.signins.EndSession(ctx, in.sessionValue(pc.r))
	cookie, b, err := in.signins.NewSession(ctx, pc.tenant.ID, u, sess.AMR)
	if err != nil {
		in.internalError(pc, err)
		return sess, user, false
	}
	in.setSession(pc.w, cookie)
	return b, u, true
}

// recordPasswordChange writes the user's own password change to the audit
// log as a directory change (never the password itself).
func (in *Interactive) recordPasswordChange(pc *pageCtx, u domain.User, failure string) {
	ev := domain.AuditEvent{
		TenantID: pc.tenant.ID, Kind: domain.AuditChange, ActorID: u.ID, ActorName: u.UserPrincipalName,
		Action: "user.changePassword", Target: u.UserPrincipalName, Result: "success",
		ClientIP: httpx.ClientIP(pc.r), CorrelationID: httpx.CorrelationID(pc.r.Context()),
		Details: map[string]string{"id": u.ID, "flow": pc.kind, "reason": "forceChangePasswordNextSignIn"},
	}
	if failure != "" {
		ev.Result, ev.Reason = "failure", failure
	}
	in.signins.Record(pc.r.Context(), ev)
}

// checkPolicies evaluates Conditional Access for a signed-in person and
// shows the block or second-factor page when needed.
func (in *Interactive) checkPolicies(pc *pageCtx, sess domain.BrowserSession, user domain.User) (domain.BrowserSession, domain.User, bool) {
	ctx := pc.r.Context()
	d, err := in.signins.Evaluate(ctx, signin.SignInContext{Tenant: pc.tenant, User: user, ClientAppID: pc.clientID,
		ResourceAppID: pc.resourceAppID, ClientIP: httpx.ClientIP(pc.r), ClientAppType: pc.clientAppType, AMR: sess.AMR})
	if err != nil {
		in.internalError(pc, err)
		return sess, user, false
	}
	switch {
	case d.Block:
		in.record(pc, user, "failure", "AADSTS53003: Access has been blocked by Conditional Access policies.", sess.AMR, d.Details())
		in.pages.Render(pc.w, http.StatusForbidden, web.PageError, web.Page{
			Title: "You cannot access this right now", Heading: "You cannot access this right now",
			Error: "Your sign-in was successful, but your organization's Conditional Access policy (" + strings.Join(d.BlockedBy, ", ") +
				") does not allow you to access " + pc.clientName + " from here.",
			Info:      "Contact your administrator if you think you should have access.",
			ErrorCode: "AADSTS53003", Correlation: httpx.CorrelationID(ctx),
		}, "")
		return sess, user, false
	case d.NeedMFA && d.MFAEnrolled:
		in.render(pc, http.StatusOK, web.PageMFA, web.Page{Title: "Enter code", Account: user.UserPrincipalName})
		return sess, user, false
	case d.NeedMFA:
		in.renderEnroll(pc, user, "", http.StatusOK)
		return sess, user, false
	}
	in.record(pc, user, "success", "", sess.AMR, d.Details())
	return sess, user, true
}

// renderEnroll shows the authenticator registration page, reusing a
// registration already started so the person's app keeps working.
func (in *Interactive) renderEnroll(pc *pageCtx, user domain.User, msg string, status int) {
	ctx := pc.r.Context()
	e, ok, err := in.signins.PendingEnrollment(ctx, pc.tenant.ID, user)
	if err == nil && !ok {
		e, err = in.signins.EnrollTOTP(ctx, pc.tenant, user)
	}
	if err != nil {
		in.internalError(pc, err)
		return
	}
	in.render(pc, status, web.PageEnroll, web.Page{Title: "Set up your authenticator app", Account: user.UserPrincipalName,
		Secret: e.Secret, OTPAuthURI: templateURL(e.URI), Error: msg})
}

// passwordMessage is what the login page says about a failed password
// check. It never tells an unknown account from a wrong password.
func passwordMessage(err error) (string, int) {
	if te, ok := signin.IsThrottled(err); ok {
		return fmt.Sprintf("Too many sign-in attempts. Try again in %d s.", signin.RetryAfterSeconds(te.RetryAfter)), http.StatusTooManyRequests
	}
	if _, ok := signin.IsLocked(err); ok {
		return "Your account is temporarily locked to prevent unauthorized use. Try again later.", http.StatusTooManyRequests
	}
	switch {
	case errors.Is(err, signin.ErrInvalidCredentials):
		return "Your account or password is incorrect.", http.StatusOK
	case errors.Is(err, signin.ErrUserDisabled):
		return "Your account has been disabled. Contact your administrator.", http.StatusOK
	}
	return "", 0
}

func (in *Interactive) internalError(pc *pageCtx, err error) {
	in.h.log.ErrorContext(pc.r.Context(), "sign-in page", "err", err, "request_id", httpx.RequestID(pc.r.Context()))
	// 503 as the token endpoint answers a storage failure: retryable.
	in.errorPage(pc, http.StatusServiceUnavailable, "Something went wrong",
		fault.TransientMessage, "AADSTS90033")
}

// record writes an interactive sign-in to the sign-in log.
func (in *Interactive) record(pc *pageCtx, u domain.User, result, reason string, amr []string, details map[string]string) {
	d := map[string]string{"clientId": pc.clientID, "flow": pc.kind, "amr": strings.Join(amr, " "), "principalType": "User"}
	for k, v := range details {
		d[k] = v
	}
	in.signins.Record(pc.r.Context(), domain.AuditEvent{
		TenantID: pc.tenant.ID, ActorID: u.ID, ActorName: u.UserPrincipalName, Action: pc.kind + ".interactive",
		Target: pc.resourceAppID, Result: result, Reason: reason, ClientIP: httpx.ClientIP(pc.r),
		CorrelationID: httpx.CorrelationID(pc.r.Context()), Details: d,
	})
}

func (in *Interactive) recordFailure(pc *pageCtx, username, step string, err error) {
	reason := "AADSTS50126: Error validating credentials due to invalid username or password."
	switch {
	case errors.Is(err, signin.ErrUserDisabled):
		reason = "AADSTS50057: The user account is disabled."
	case errors.Is(err, signin.ErrInvalidCode), errors.Is(err, signin.ErrNoMFAMethod):
		reason = "AADSTS50076: The second-factor code was not valid."
	}
	if _, ok := signin.IsLocked(err); ok {
		reason = "AADSTS50053: The account is locked after repeated failed sign-ins."
	}
	if te, ok := signin.IsThrottled(err); ok {
		reason = "AADSTS50053: Sign-in was blocked: too many failed sign-ins from this address."
		if te.Busy {
			reason = "AADSTS90055: Sign-in was refused: too many sign-ins at once."
		}
	}
	in.signins.Record(pc.r.Context(), domain.AuditEvent{
		TenantID: pc.tenant.ID, ActorName: username, Action: pc.kind + "." + step, Target: pc.resourceAppID,
		Result: "failure", Reason: reason, ClientIP: httpx.ClientIP(pc.r), CorrelationID: httpx.CorrelationID(pc.r.Context()),
		Details: map[string]string{"clientId": pc.clientID, "flow": pc.kind},
	})
}

// silentSession is the session of a prompt=none request, if any.
func (in *Interactive) silentSession(ctx context.Context, tenantID string, r *http.Request) (domain.BrowserSession, domain.User, error) {
	sess, u, err := in.signins.Session(ctx, tenantID, in.sessionValue(r))
	if err == nil && u.ForceChangePassword {
		// The password must be changed first, which needs the pages.
		return domain.BrowserSession{}, domain.User{}, signin.ErrNoSession
	}
	return sess, u, err
}
