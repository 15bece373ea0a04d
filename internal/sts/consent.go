package sts

// Consent in the sign-in flow, as Entra asks for it: after sign-in and
// Conditional Access, before a code is issued (or a device code approved),
// the person consents to the delegated permissions of the tenant's own
// APIs the client asks for and has no grant for.
//
//	nothing missing, no prompt=consent ─► go on
//	missing, all of type User, user consent allowed ─► consent page (for me)
//	missing Admin permission, or user consent off
//	   ├─ administrator ─► consent page with "on behalf of your organization"
//	   └─ anyone else   ─► "Need admin approval" (AADSTS90094)
//	prompt=consent ─► the page always; prompt=admin_consent ─► administrators only, box ticked
//
// GET /{tenant}/v2.0/adminconsent is the administrator's own entry point:
// sign in, grant the client's permissions for everyone, return to the
// client's registered redirect URI with admin_consent=True.

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/web"
)

// consentPrompt is what the request asked of the consent page.
type consentPrompt struct {
	// always: prompt=consent; admin: prompt=admin_consent.
	always, admin bool
	// fallback describes the request when no API permission is involved.
	fallback []string
}

// settleConsent decides whether the flow may go on after sign-in: true
// when nothing needs consent or the person has just given it; otherwise it
// has written the consent or "Need admin approval" page, or called decline
// for a Cancel.
func (in *Interactive) settleConsent(pc *pageCtx, cr token.ConsentRequest, user domain.User, p consentPrompt, decline func()) bool {
	if len(cr.Missing) == 0 && !p.always && !p.admin {
		return true
	}
	ctx := pc.r.Context()
	dir := in.signins.Directory()
	needsAdmin := cr.NeedsAdmin()
	if !needsAdmin && len(cr.Missing) > 0 {
		allowed, err := dir.UserConsentAllowed(ctx, pc.tenant.ID)
		if err != nil {
			in.internalError(pc, err)
			return false
		}
		needsAdmin = !allowed
	}
	isAdmin, err := dir.MayConsentForOrganization(ctx, pc.tenant.ID, user.ID)
	if err != nil {
		in.internalError(pc, err)
		return false
	}
	if (needsAdmin || p.admin) && !isAdmin {
		in.needAdmin(pc, user)
		return false
	}
	switch pc.step {
	case "decline":
		in.recordConsent(pc, user, cr, "", "AADSTS65004: User declined to consent to access the app.")
		decline()
		return false
	case "consent":
		org := isAdmin && pc.r.PostForm.Get("organization") == "on"
		scopes := token.Values(cr.Missing)
		principal := user.ID
		if org {
			scopes, principal = token.Values(cr.Requested), ""
		}
		if len(scopes) > 0 && !in.grant(pc, user, cr, principal, scopes) {
			return false
		}
		return true
	}
	page := web.Page{Title: "Permissions requested", Account: user.UserPrincipalName, Unverified: true,
		OrgConsent: isAdmin, OrgChecked: p.admin}
	shown := cr.Missing
	if len(shown) == 0 {
		shown = cr.Requested
	}
	page.Permissions = permissionLines(shown, false)
	if len(shown) == 0 {
		page.Scopes = p.fallback
	}
	in.render(pc, http.StatusOK, web.PageConsent, page)
	return false
}

// grant records the consent of user for principal ("" for everyone) and
// audits it.
func (in *Interactive) grant(pc *pageCtx, user domain.User, cr token.ConsentRequest, principal string, scopes []string) bool {
	g, err := in.signins.Directory().Consent(pc.r.Context(), pc.tenant.ID, cr.ClientSPID, cr.ResourceSPID, principal, scopes)
	if err != nil {
		in.recordConsent(pc, user, cr, "", err.Error())
		in.internalError(pc, err)
		return false
	}
	in.recordConsent(pc, user, cr, g.ID, "", "consentType", g.ConsentType, "scope", strings.Join(scopes, " "))
	return true
}

// recordConsent writes a consent given (or refused) to the audit log as a
// directory change: a grant is one.
func (in *Interactive) recordConsent(pc *pageCtx, user domain.User, cr token.ConsentRequest, grantID, failure string, details ...string) {
	ev := domain.AuditEvent{
		TenantID: pc.tenant.ID, Kind: domain.AuditChange, ActorID: user.ID, ActorName: user.UserPrincipalName,
		Action: "consent.grant", Target: grantID, Result: "success",
		ClientIP: httpx.ClientIP(pc.r), CorrelationID: httpx.CorrelationID(pc.r.Context()),
		Details: map[string]string{"clientId": cr.ClientSPID, "resourceId": cr.ResourceSPID, "flow": pc.kind},
	}
	for i := 0; i+1 < len(details); i += 2 {
		ev.Details[details[i]] = details[i+1]
	}
	if failure != "" {
		ev.Result, ev.Reason = "failure", failure
	}
	in.signins.Record(pc.r.Context(), ev)
}

// needAdmin is Entra's page for a permission the person may not consent
// to: shown, not sent to the client, which could do nothing about it.
func (in *Interactive) needAdmin(pc *pageCtx, user domain.User) {
	in.record(pc, user, "failure", "AADSTS90094: The grant requires admin permission.", nil, nil)
	in.pages.Render(pc.w, http.StatusForbidden, web.PageError, web.Page{
		Title: "Need admin approval", Heading: "Need admin approval",
		Error: pc.clientName + " needs permission to access resources in your organization that only an admin can grant. " +
			"Please ask an admin to grant permission to this app before you can use it.",
		Info:      "Signed in as " + user.UserPrincipalName + ".",
		ErrorCode: "AADSTS90094", Correlation: httpx.CorrelationID(pc.r.Context()),
	}, "")
}

// permissionLines are the consent page's lines for ps: what the user
// consent texts say, or the admin ones when the API left those empty or
// an administrator grants for everyone.
func permissionLines(ps []domain.PermissionScope, admin bool) []web.Permission {
	out := make([]web.Permission, 0, len(ps))
	for _, p := range ps {
		name, desc := p.UserConsentDisplayName, p.UserConsentDescription
		if admin || name == "" {
			name, desc = p.AdminConsentDisplayName, p.AdminConsentDescription
		}
		if name == "" {
			name = p.Value
		}
		out = append(out, web.Permission{Name: name, Description: desc})
	}
	return out
}

// adminConsent serves GET /{tenant}/v2.0/adminconsent: an administrator
// grants a client, for the whole organisation, the permissions scope names
// or its registration requires, and returns to the client.
func (in *Interactive) adminConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pc := in.newPage(w, r)
	q := r.URL.Query()
	bad := func(msg, code string) {
		in.errorPage(pc, http.StatusBadRequest, "Sign-in request not valid", msg, code)
	}
	tenant, err := in.h.tenants.Resolve(ctx, r.PathValue("tenant"))
	if err != nil {
		if te, ok := token.AsError(err); ok {
			bad(te.Message, aadsts(te))
			return
		}
		in.internalError(pc, err)
		return
	}
	pc.tenant = tenant
	clientID, redirect := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		bad("The request must contain the parameter 'client_id'.", "AADSTS900144")
		return
	}
	c, err := in.signins.Directory().LookupClient(ctx, tenant.ID, clientID)
	if err != nil {
		bad("Application with identifier '"+printable(clientID)+"' was not found in the directory '"+tenant.ID+"'.", "AADSTS700016")
		return
	}
	// Exact match: the answer says an administrator consented, which only
	// the client's own registered address may be told.
	if c.Application == nil || redirect == "" || !exactly(redirect, c.Application.WebRedirectURIs, c.Application.PublicRedirectURIs, c.Application.SpaRedirectURIs) {
		bad("The redirect URI '"+printable(redirect)+"' specified in the request does not match the redirect URIs configured for the application '"+printable(clientID)+"'.", "AADSTS50011")
		return
	}
	pc.action, pc.formTarget = r.URL.RequestURI(), web.Origin(redirect)
	pc.clientID, pc.clientName, pc.kind = clientID, c.ServicePrincipal.DisplayName, "adminconsent"
	back := func(params url.Values) {
		u, err := url.Parse(redirect)
		if err != nil {
			in.internalError(pc, err)
			return
		}
		qs := u.Query()
		for k, v := range params {
			qs[k] = v
		}
		if st := q.Get("state"); st != "" {
			qs.Set("state", st)
		}
		u.RawQuery = qs.Encode()
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Location", u.String())
		w.WriteHeader(http.StatusFound)
	}
	crs, err := in.h.tokens.AdminConsentFor(ctx, tenant, clientID, q.Get("scope"))
	if err != nil {
		te, ok := token.AsError(err)
		if !ok {
			in.internalError(pc, err)
			return
		}
		back(url.Values{"error": {te.Code}, "error_description": {aadsts(te) + ": " + te.Message}})
		return
	}
	if !in.readForm(pc) {
		return
	}
	_, user, ok := in.signIn(pc, false, false)
	if !ok {
		return
	}
	isAdmin, err := in.signins.Directory().MayConsentForOrganization(ctx, tenant.ID, user.ID)
	if err != nil {
		in.internalError(pc, err)
		return
	}
	if !isAdmin {
		in.needAdmin(pc, user)
		return
	}
	switch pc.step {
	case "decline":
		back(url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: The resource owner or authorization server denied the request."}})
		return
	case "consent":
		for _, cr := range crs {
			if !in.grant(pc, user, cr, "", token.Values(cr.Requested)) {
				return
			}
		}
		back(url.Values{"admin_consent": {"True"}, "tenant": {tenant.ID}})
		return
	}
	var perms []web.Permission
	for _, cr := range crs {
		perms = append(perms, permissionLines(cr.Requested, true)...)
	}
	page := web.Page{Title: "Permissions requested", Account: user.UserPrincipalName, Unverified: true, OrgOnly: true, Permissions: perms}
	if len(perms) == 0 {
		page.Scopes = []string{"Sign in and read user profile"}
	}
	in.render(pc, http.StatusOK, web.PageConsent, page)
}

// exactly reports whether uri is one of the registered lists, byte for byte.
func exactly(uri string, lists ...[]string) bool {
	for _, l := range lists {
		for _, v := range l {
			if v == uri {
				return true
			}
		}
	}
	return false
}
