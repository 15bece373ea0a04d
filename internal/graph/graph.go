// Package graph is Tessera's Microsoft Graph v1.0 edge (/graph/v1.0/...):
// bearer authentication for Graph audiences, routing (including Graph's
// key-as-segment forms such as users('…') and applications(appId='…')), the
// OData subset of odata.go, JSON shapes, and Graph's error envelope. The
// rules — what a caller may do, what a delete takes with it — live in
// internal/directory; this package translates.
//
//	request ─► ServeHTTP: normalize path ─► route ─► authed: verify token, audience
//	        ─► handler: parse body/query ─► directory.Authorize ─► directory.<op>
//	        ─► recordChange (audit) ─► JSON | Graph error {"error":{code,message,innerError}}
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/graph/odata"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/wire"
)

// Prefix is where Graph is mounted.
const Prefix = "/graph/v1.0"

// Graph error codes used here besides wire's.
const (
	codeBadRequest       = wire.GraphBadRequest
	codeUnsupportedQuery = wire.GraphUnsupportedQuery
	// codeUnsupportedMediaType answers a write whose body is not JSON.
	codeUnsupportedMediaType = "UnsupportedMediaType"
	// codeBadRequestPlain is the code Graph uses for /me with an app token.
	codeBadRequestPlain = "BadRequest"
)

// Verifier checks access tokens.
type Verifier interface {
	VerifyAccessToken(raw string, now time.Time) (*token.AccessClaims, error)
}

// Store is what Graph reads directly (the audit log); directory objects are
// read and written through the directory service.
type Store interface {
	store.Audit
}

// Auditor records directory changes.
type Auditor interface {
	Record(ctx context.Context, ev domain.AuditEvent) error
}

// Handler serves Graph.
type Handler struct {
	dir    *directory.Service
	store  Store
	verify Verifier
	base   *httpx.BaseURLs
	audit  Auditor
	log    *slog.Logger
	now    func() time.Time
	mux    *http.ServeMux
	// cors: any origin may call Graph with a bearer token (a single-page
	// application such as the portal does).
	cors httpx.CORS
}

// Options configure a Handler.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
}

// New returns the Graph handler.
func New(dir *directory.Service, st Store, verify Verifier, base *httpx.BaseURLs, audit Auditor, opts Options) *Handler {
	h := &Handler{dir: dir, store: st, verify: verify, base: base, audit: audit, log: opts.Logger, now: opts.Now, cors: httpx.APICORS()}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.mux = http.NewServeMux()
	h.routes()
	return h
}

// Register mounts Graph on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle(Prefix+"/", h)
}

// catchAll is the pattern of the handler for paths no route matches.
const catchAll = Prefix + "/"

func (h *Handler) routes() {
	type route struct {
		pattern string
		fn      authedHandler
	}
	var rs []route
	add := func(method, path string, fn authedHandler) { rs = append(rs, route{method + " " + Prefix + path, fn}) }

	add("GET", "/applications", h.listApplications)
	add("GET", "/applications/$count", h.countOf(applicationsSet, h.applicationItems))
	add("POST", "/applications", h.createApplication)
	add("GET", "/applications/{id}", h.getApplication)
	add("PATCH", "/applications/{id}", h.patchApplication)
	add("DELETE", "/applications/{id}", h.deleteApplication)
	add("POST", "/applications/{id}/addPassword", h.addPassword)
	add("POST", "/applications/{id}/removePassword", h.removePassword)
	add("POST", "/applications/{id}/addKey", h.addKey)
	add("POST", "/applications/{id}/removeKey", h.removeKey)
	add("GET", "/applications/{id}/federatedIdentityCredentials", h.listFederatedCredentials)
	add("POST", "/applications/{id}/federatedIdentityCredentials", h.addFederatedCredential)
	add("GET", "/applications/{id}/federatedIdentityCredentials/{fic}", h.getFederatedCredential)
	add("PATCH", "/applications/{id}/federatedIdentityCredentials/{fic}", h.patchFederatedCredential)
	add("DELETE", "/applications/{id}/federatedIdentityCredentials/{fic}", h.deleteFederatedCredential)
	add("GET", "/applications/{id}/owners", h.listOwners(kindApp))
	add("POST", "/applications/{id}/owners/$ref", h.addOwner(kindApp))
	add("DELETE", "/applications/{id}/owners/{owner}/$ref", h.removeOwner(kindApp))

	add("GET", "/servicePrincipals", h.listServicePrincipals)
	add("GET", "/servicePrincipals/$count", h.countOf(servicePrincipalsSet, h.servicePrincipalItems))
	add("POST", "/servicePrincipals", h.createServicePrincipal)
	add("GET", "/servicePrincipals/{id}", h.getServicePrincipal)
	add("PATCH", "/servicePrincipals/{id}", h.patchServicePrincipal)
	add("DELETE", "/servicePrincipals/{id}", h.deleteServicePrincipal)
	add("POST", "/servicePrincipals/{id}/addPassword", h.addServicePrincipalPassword)
	add("POST", "/servicePrincipals/{id}/removePassword", h.removeServicePrincipalPassword)
	add("GET", "/servicePrincipals/{id}/appRoleAssignments", h.listAppRoleAssignments(kindSP))
	add("POST", "/servicePrincipals/{id}/appRoleAssignments", h.assignAppRole)
	add("DELETE", "/servicePrincipals/{id}/appRoleAssignments/{assignment}", h.revokeAppRoleOf(h.dir.AppRoleAssignments, "servicePrincipal.appRoleAssignment.delete"))
	add("GET", "/servicePrincipals/{id}/appRoleAssignedTo", h.listAppRoleAssignedTo)
	add("POST", "/servicePrincipals/{id}/appRoleAssignedTo", h.assignAppRoleTo)
	add("DELETE", "/servicePrincipals/{id}/appRoleAssignedTo/{assignment}", h.revokeAppRoleOf(h.dir.AppRoleAssignedTo, "servicePrincipal.appRoleAssignedTo.delete"))
	add("GET", "/servicePrincipals/{id}/owners", h.listOwners(kindSP))
	add("POST", "/servicePrincipals/{id}/owners/$ref", h.addOwner(kindSP))
	add("DELETE", "/servicePrincipals/{id}/owners/{owner}/$ref", h.removeOwner(kindSP))

	add("GET", "/users", h.listUsers)
	add("GET", "/users/$count", h.countOf(usersSet, h.userItems))
	add("POST", "/users", h.createUser)
	add("GET", "/users/{id}", h.getUser)
	add("PATCH", "/users/{id}", h.patchUser)
	add("DELETE", "/users/{id}", h.deleteUser)
	add("GET", "/users/{id}/appRoleAssignments", h.listAppRoleAssignments(kindUser))

	add("GET", "/groups", h.listGroups)
	add("GET", "/groups/$count", h.countOf(groupsSet, h.groupItems))
	add("POST", "/groups", h.createGroup)
	add("GET", "/groups/{id}", h.getGroup)
	add("PATCH", "/groups/{id}", h.patchGroup)
	add("DELETE", "/groups/{id}", h.deleteGroup)
	add("GET", "/groups/{id}/members", h.listMembers(false))
	add("GET", "/groups/{id}/transitiveMembers", h.listMembers(true))
	add("POST", "/groups/{id}/members/$ref", h.addMember)
	add("DELETE", "/groups/{id}/members/{member}/$ref", h.removeMember)
	add("GET", "/groups/{id}/appRoleAssignments", h.listAppRoleAssignments(kindGroup))
	add("GET", "/groups/{id}/owners", h.listOwners(kindGroup))
	add("POST", "/groups/{id}/owners/$ref", h.addOwner(kindGroup))
	add("DELETE", "/groups/{id}/owners/{owner}/$ref", h.removeOwner(kindGroup))

	// Membership queries on every kind of principal.
	for _, c := range []string{"/users", "/servicePrincipals", "/groups", "/directoryObjects"} {
		add("GET", c+"/{id}/memberOf", h.memberOf(false))
		add("GET", c+"/{id}/transitiveMemberOf", h.memberOf(true))
		add("POST", c+"/{id}/checkMemberGroups", h.checkMemberGroups)
		add("POST", c+"/{id}/getMemberGroups", h.memberIDs(h.dir.GetMemberGroups))
		add("POST", c+"/{id}/getMemberObjects", h.memberIDs(h.dir.GetMemberObjects))
	}
	add("GET", "/directoryObjects/{id}", h.getDirectoryObject)
	add("POST", "/directoryObjects/getByIds", h.getByIDs)

	add("GET", "/me", h.me(h.getUser))
	add("GET", "/me/memberOf", h.me(h.memberOf(false)))
	add("GET", "/me/transitiveMemberOf", h.me(h.memberOf(true)))
	add("POST", "/me/checkMemberGroups", h.me(h.checkMemberGroups))
	add("POST", "/me/getMemberGroups", h.me(h.memberIDs(h.dir.GetMemberGroups)))
	add("GET", "/me/appRoleAssignments", h.me(h.listAppRoleAssignments(kindUser)))
	add("GET", "/me/ownedObjects", h.me(h.ownedObjects))

	add("GET", "/roleManagement/directory/roleDefinitions", h.listRoleDefinitions)
	add("GET", "/roleManagement/directory/roleAssignments", h.listRoleAssignments)
	add("POST", "/roleManagement/directory/roleAssignments", h.createRoleAssignment)
	add("GET", "/roleManagement/directory/roleAssignments/{id}", h.getRoleAssignment)
	add("DELETE", "/roleManagement/directory/roleAssignments/{id}", h.deleteRoleAssignment)

	add("GET", "/oauth2PermissionGrants", h.listPermissionGrants)
	add("POST", "/oauth2PermissionGrants", h.createPermissionGrant)
	add("GET", "/oauth2PermissionGrants/{id}", h.getPermissionGrant)
	add("PATCH", "/oauth2PermissionGrants/{id}", h.patchPermissionGrant)
	add("DELETE", "/oauth2PermissionGrants/{id}", h.deletePermissionGrant)
	add("GET", "/servicePrincipals/{id}/oauth2PermissionGrants", h.listServicePrincipalGrants)
	add("POST", "/me/getMemberObjects", h.me(h.memberIDs(h.dir.GetMemberObjects)))

	add("GET", "/policies/authorizationPolicy", h.getAuthorizationPolicy)
	add("PATCH", "/policies/authorizationPolicy", h.patchAuthorizationPolicy)
	add("GET", "/policies/tokenLifetimePolicies", h.listTokenLifetimePolicies)
	add("POST", "/policies/tokenLifetimePolicies", h.createTokenLifetimePolicy)
	add("GET", "/policies/tokenLifetimePolicies/{id}", h.getTokenLifetimePolicy)
	add("PATCH", "/policies/tokenLifetimePolicies/{id}", h.patchTokenLifetimePolicy)
	add("DELETE", "/policies/tokenLifetimePolicies/{id}", h.deleteTokenLifetimePolicy)
	add("GET", "/applications/{id}/tokenLifetimePolicies", h.listApplicationPolicies)
	add("POST", "/applications/{id}/tokenLifetimePolicies/$ref", h.assignApplicationPolicy)
	add("DELETE", "/applications/{id}/tokenLifetimePolicies/{policy}/$ref", h.removeApplicationPolicy)

	add("GET", "/auditLogs/signIns", h.auditList(domain.AuditSignIn))
	add("GET", "/auditLogs/directoryAudits", h.auditList(domain.AuditChange))
	add("GET", "/auditLogs/signIns/{id}", h.auditGet(domain.AuditSignIn))
	add("GET", "/auditLogs/directoryAudits/{id}", h.auditGet(domain.AuditChange))

	for _, r := range rs {
		h.mux.Handle(r.pattern, h.authed(r.fn))
	}
	h.mux.Handle(catchAll, http.HandlerFunc(h.notFound))
}

// ServeHTTP normalizes Graph's path forms and routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A preflight has no token: it is answered before authentication.
	if h.cors.Handle(w, r) {
		return
	}
	p, changed := normalizePath(r.URL.Path)
	if !httpx.IsCleanPath(p) {
		// users('..') is users/.. once rewritten: the router would answer
		// with a redirect to a path the client never named.
		h.BadPath(w, r)
		return
	}
	if changed {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = p, ""
		r2.URL = &u
		r = r2
	}
	h.mux.ServeHTTP(w, r)
}

// pathWords are the fixed segments of Graph paths; Graph matches them
// case-insensitively, Go's router does not, so they are canonicalized.
var pathWords = func() map[string]string {
	m := map[string]string{}
	for _, w := range []string{"applications", "servicePrincipals", "users", "groups", "directoryObjects", "me",
		"members", "transitiveMembers", "memberOf", "transitiveMemberOf", "owners", "ownedObjects", "$ref", "$count",
		"addPassword", "removePassword", "addKey", "removeKey", "federatedIdentityCredentials",
		"checkMemberGroups", "getMemberGroups", "getByIds", "appRoleAssignments", "appRoleAssignedTo",
		"auditLogs", "signIns", "directoryAudits", "roleManagement", "directory", "roleAssignments", "roleDefinitions",
		"oauth2PermissionGrants", "getMemberObjects", "policies", "authorizationPolicy", "tokenLifetimePolicies"} {
		m[strings.ToLower(w)] = w
	}
	return m
}()

// normalizePath rewrites Graph's key-in-parentheses forms into plain
// segments — users('x') → users/x, applications(appId='x') →
// applications/appId=x, federatedIdentityCredentials(name='x') → …/x — and
// canonicalizes the case of fixed segments. It reports whether it changed p.
func normalizePath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, Prefix+"/")
	if !ok {
		return p, false
	}
	segs := strings.Split(rest, "/")
	out := make([]string, 0, len(segs)+2)
	for _, s := range segs {
		if open := strings.IndexByte(s, '('); open > 0 && strings.HasSuffix(s, ")") {
			name, key := s[:open], s[open+1:len(s)-1]
			if canon, ok := pathWords[strings.ToLower(name)]; ok {
				prop := ""
				if eq := strings.IndexByte(key, '='); eq > 0 && !strings.HasPrefix(key, "'") {
					prop, key = key[:eq], key[eq+1:]
				}
				if len(key) >= 2 && key[0] == '\'' && key[len(key)-1] == '\'' {
					key = strings.ReplaceAll(key[1:len(key)-1], "''", "'")
				}
				if strings.EqualFold(prop, "appId") {
					key = directory.AppIDRef(key)
				}
				out = append(out, canon, key)
				continue
			}
		}
		if canon, ok := pathWords[strings.ToLower(s)]; ok {
			s = canon
		}
		out = append(out, s)
	}
	np := Prefix + "/" + strings.Join(out, "/")
	return np, np != p
}

// caller is the authenticated principal of a Graph request.
type caller struct {
	TenantID string
	ObjectID string
	AppID    string
	Name     string
	User     bool
}

func (c caller) actor() directory.Actor {
	return directory.Actor{TenantID: c.TenantID, ObjectID: c.ObjectID}
}

type authedHandler func(w http.ResponseWriter, r *http.Request, c caller)

// graphAudiences are the aud values a Graph token may carry, besides {base}/graph.
var graphAudiences = map[string]bool{
	"https://graph.microsoft.com": true,
	directory.AppIDGraph:          true,
}

func (h *Handler) authed(next authedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || raw == "" {
			h.unauthorized(w, r, "Access token is empty.")
			return
		}
		claims, err := h.verify.VerifyAccessToken(strings.TrimSpace(raw), h.now())
		if err != nil {
			msg := "Access token validation failure. Invalid audience."
			switch {
			case errors.Is(err, token.ErrTokenExpired):
				msg = "Lifetime validation failed, the token is expired."
			case errors.Is(err, token.ErrTokenSignature), errors.Is(err, token.ErrTokenMalformed):
				msg = "Access token validation failure. Invalid signature or malformed token."
			case errors.Is(err, token.ErrTokenIssuer):
				msg = "Access token validation failure. Invalid issuer."
			}
			h.unauthorized(w, r, msg)
			return
		}
		aud := directory.NormalizeResource(claims.Aud)
		if !graphAudiences[aud] && aud != directory.NormalizeResource(h.base.For(r)+"/graph") &&
			aud != directory.NormalizeResource(h.base.Public()+"/graph") {
			h.unauthorized(w, r, "Access token validation failure. Invalid audience.")
			return
		}
		c := caller{TenantID: claims.Tid, ObjectID: claims.Oid, AppID: claims.ClientAppID(), User: claims.Idtyp == token.IdentityTypeUser}
		c.Name = claims.Upn
		if c.Name == "" {
			c.Name = c.AppID
		}
		next(w, r, c)
	})
}

// me serves /me/... as /users/{the caller}/...: delegated tokens only.
func (h *Handler) me(next authedHandler) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		if !c.User {
			h.writeError(w, r, http.StatusBadRequest, codeBadRequestPlain, "/me request is only valid with delegated authentication flow.")
			return
		}
		r.SetPathValue("id", c.ObjectID)
		next(w, r, c)
	}
}

func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	authorize := h.base.For(r) + "/adfs/oauth2/authorize"
	if h.base.For(r) == publicGraph {
		authorize = "https://login.microsoftonline.com/common/oauth2/authorize"
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+authorize+`", client_id="`+directory.AppIDGraph+`"`)
	h.writeError(w, r, http.StatusUnauthorized, wire.GraphInvalidAuthToken, msg)
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	wire.WriteGraphError(w, status, code, msg, wire.GraphInnerError{
		Date:            h.now().UTC().Format("2006-01-02T15:04:05"),
		RequestID:       httpx.RequestID(r.Context()),
		ClientRequestID: httpx.CorrelationID(r.Context()),
	})
}

// fail maps a directory or store error to Graph's error shape.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var qe *odata.Error
	if errors.As(err, &qe) {
		h.writeError(w, r, http.StatusBadRequest, qe.Code, qe.Message)
		return
	}
	fe, _ := fault.As(err)
	if status, code, msg, ok := wire.GraphRefusal(fe, displayRef(r.PathValue("id"))); ok {
		h.writeError(w, r, status, code, msg)
		return
	}
	h.log.ErrorContext(r.Context(), "graph request failed", "route", r.Pattern, "err", err)
	h.writeError(w, r, http.StatusServiceUnavailable, wire.GraphServiceUnavailable, wire.GraphUnavailableMessage)
}

// displayRef shows an appId= reference as the client wrote it.
func displayRef(ref string) string {
	if appID, ok := strings.CutPrefix(ref, "appId="); ok {
		return appID
	}
	return ref
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "" && pattern != catchAll {
			h.writeError(w, r, http.StatusMethodNotAllowed, wire.GraphBadRequest, "Specified HTTP method is not allowed for the request target.")
			return
		}
	}
	h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest,
		"Resource not found for the segment '"+lastSegment(r.URL.Path)+"'.")
}

// NoRoute answers, in Graph's error shape, a path under /graph that is not
// a Graph version this server serves.
func (h *Handler) NoRoute(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, http.StatusNotFound, wire.GraphResourceNotFound,
		"Resource not found for the segment '"+lastSegment(r.URL.Path)+"'.")
}

// BadPath refuses a path with a ".", ".." or empty segment: clients resolve
// those before sending, and the path that would be served is not the one
// the client named.
func (h *Handler) BadPath(w http.ResponseWriter, r *http.Request) {
	h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest,
		"The request path '"+r.URL.Path+"' has a '.', '..' or empty segment; send the resolved path.")
}

func lastSegment(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// authorize asks the directory whether the caller may perform op on target,
// answering 403 (and auditing the refusal) when not.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, c caller, op directory.Op, target, action string) bool {
	err := h.dir.Authorize(r.Context(), c.actor(), op, target)
	if err == nil {
		return true
	}
	if fault.KindOf(err) == fault.Forbidden {
		h.recordChange(r, c, action, target, err)
	}
	h.fail(w, r, err)
	return false
}

// maxBody bounds Graph request bodies.
const maxBody = 1 << 20

// decode reads a JSON body into v: 415 for a body not declared JSON, 400
// naming the property for one that is not a JSON object of v's shape. An
// empty body is {}.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		h.writeError(w, r, http.StatusRequestEntityTooLarge, wire.GraphBadRequest, "The request body is too large.")
		return false
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	} else if ct := r.Header.Get("Content-Type"); !httpx.IsJSONMediaType(ct) {
		if ct == "" {
			ct = "(none)"
		}
		h.writeError(w, r, http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
			"The content type '"+ct+"' is not supported. Send the body as application/json.")
		return false
	}
	if body[0] != '{' {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Invalid JSON in the request body: the body must be a JSON object.")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Invalid JSON in the request body: "+jsonErrorText(err))
		return false
	}
	return true
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error"
	case errors.As(err, &te) && te.Field != "":
		return "property '" + te.Field + "' has the wrong type (" + te.Value + ")"
	case errors.As(err, &te):
		return "the body must be a JSON object"
	}
	return "cannot be read"
}

// auditReason is what the directory audit log says of a refused change: an
// invalid or forbidden change as the caller was told, anything else as the
// error reads.
func auditReason(err error) string {
	if fe, ok := fault.As(err); ok && fe.Number == 0 && (fe.Kind == fault.Invalid || fe.Kind == fault.Forbidden) {
		return fe.Message
	}
	return err.Error()
}

// recordChange writes an audit event for a directory change (or a refused one).
func (h *Handler) recordChange(r *http.Request, c caller, action, target string, err error, details ...string) {
	if h.audit == nil {
		return
	}
	ev := domain.AuditEvent{
		ID: directory.NewID(), Time: h.now().UTC(), TenantID: c.TenantID, Kind: domain.AuditChange,
		ActorID: c.ObjectID, ActorName: c.Name, Action: action, Target: target, Result: "success",
		ClientIP: httpx.ClientIP(r), CorrelationID: httpx.CorrelationID(r.Context()),
	}
	if err != nil {
		ev.Result, ev.Reason = "failure", auditReason(err)
	}
	for i := 0; i+1 < len(details); i += 2 {
		if details[i+1] == "" {
			continue
		}
		if ev.Details == nil {
			ev.Details = map[string]string{}
		}
		ev.Details[details[i]] = details[i+1]
	}
	if aerr := h.audit.Record(r.Context(), ev); aerr != nil {
		h.log.ErrorContext(r.Context(), "record change", "err", aerr)
	}
}

// removedDetails describes a cascade for the audit log.
func removedDetails(rm directory.Removed) []string {
	n := func(k int) string {
		if k == 0 {
			return ""
		}
		return itoa(k)
	}
	return []string{
		"servicePrincipal", rm.ServicePrincipalID,
		"roleAssignments", strings.Join(rm.RoleAssignments, ","),
		"appRoleAssignments", n(len(rm.AppRoleAssignments)),
		"directoryRoles", strings.Join(rm.DirectoryRoles, ","),
		"memberships", n(len(rm.Memberships)),
		"ownerships", n(rm.OwnershipsOfObject),
		"permissionGrants", n(len(rm.PermissionGrants)),
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// --- collections and entities ---

func (h *Handler) metadata(r *http.Request) string { return h.link(r, Prefix+"/$metadata") + "#" }

// publicGraph is the public cloud's Graph, which Tessera answers for with
// --public-cloud-names: there Graph lives at /v1.0, not under /graph.
const publicGraph = "https://graph.microsoft.com"

// link is the absolute URL of path (a path under Prefix) as the client
// addressed Graph: {base}/graph/v1.0/... on Tessera's names,
// https://graph.microsoft.com/v1.0/... on the public cloud's.
func (h *Handler) link(r *http.Request, path string) string {
	base := h.base.For(r)
	if rest, ok := strings.CutPrefix(path, Prefix); ok && base == publicGraph {
		return base + "/v1.0" + rest
	}
	return base + path
}

// query parses the query options of a collection request, answering 400 on
// a bad one.
func (h *Handler) query(w http.ResponseWriter, r *http.Request, set entitySet) (odata.Query, bool) {
	q, err := odata.ParseQuery(r.URL.Query(), set.schema, set.typeName, r.Header.Get("ConsistencyLevel"))
	if err != nil {
		h.writeError(w, r, http.StatusBadRequest, err.Code, err.Message)
		return q, false
	}
	return q, true
}

type listBody struct {
	Context  string           `json:"@odata.context"`
	Count    *int             `json:"@odata.count,omitempty"`
	NextLink string           `json:"@odata.nextLink,omitempty"`
	Value    []map[string]any `json:"value"`
}

// writeList answers a collection request: filtered, paged, projected, as
// {"@odata.context","@odata.count"?,"value","@odata.nextLink"?}.
func (h *Handler) writeList(w http.ResponseWriter, r *http.Request, context string, q odata.Query, items []odata.Item) {
	page, total, next := q.Page(items)
	body := listBody{Context: h.metadata(r) + context, Value: make([]map[string]any, 0, len(page))}
	if q.Select != nil {
		body.Context += "(" + strings.Join(q.Select, ",") + ")"
	}
	for _, it := range page {
		body.Value = append(body.Value, odata.Project(it.Object, q.Select))
	}
	if q.Count {
		body.Count = &total
	}
	if next != "" {
		v := r.URL.Query()
		v.Set("$skiptoken", next)
		if q.Top != odata.DefaultPageSize {
			v.Set("$top", itoa(q.Top))
		}
		body.NextLink = h.link(r, r.URL.Path) + "?" + encodeQuery(v)
	}
	wire.WriteJSON(w, http.StatusOK, body)
}

// encodeQuery encodes query options keeping OData's $ and , readable.
func encodeQuery(v url.Values) string {
	return strings.NewReplacer("%24", "$", "%2C", ",").Replace(v.Encode())
}

// writeEntity answers with one object, honouring $select.
func (h *Handler) writeEntity(w http.ResponseWriter, r *http.Request, status int, set entitySet, obj map[string]any) {
	sel, err := odata.ParseSelect(r.URL.Query(), set.schema, set.typeName)
	if err != nil {
		h.writeError(w, r, http.StatusBadRequest, err.Code, err.Message)
		return
	}
	out := odata.Project(obj, sel)
	ctx := h.metadata(r) + set.context
	if sel != nil {
		ctx += "(" + strings.Join(sel, ",") + ")"
	}
	out["@odata.context"] = ctx + "/$entity"
	wire.WriteJSON(w, status, out)
}

// countOf serves {collection}/$count: the number of objects, as text.
func (h *Handler) countOf(set entitySet, load func(r *http.Request, c caller) ([]odata.Item, error)) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		if !strings.EqualFold(strings.TrimSpace(r.Header.Get("ConsistencyLevel")), "eventual") {
			h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "$count is not currently supported.")
			return
		}
		q, ok := h.query(w, r, set)
		if !ok {
			return
		}
		items, err := load(r, c)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		total := q.CountMatches(items)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, itoa(total))
	}
}

// principal kinds for handlers shared between collections.
type principalKind int

const (
	kindApp principalKind = iota + 1
	kindSP
	kindUser
	kindGroup
)
