package sts

// The managed-identity endpoint: one implementation for every request shape
// the SDKs send (CLIENTS.md §4), and Tessera as the OpenID Connect issuer of
// its computes' workload tokens.
//
//	GET  /msi/token?api-version=2019-08-01&resource=R[&client_id|object_id|principal_id|mi_res_id]
//	     X-IDENTITY-HEADER: <node secret>                     App Service (IDENTITY_ENDPOINT)
//	GET  /msi/token?api-version=2017-09-01&resource=R[&clientid=]
//	     secret: <node secret>                                Azure ML (MSI_ENDPOINT + MSI_SECRET)
//	POST /msi/token  form resource=R[&client_id|object_id|msi_res_id]
//	     Metadata: true, X-IDENTITY-HEADER: <node secret>     Cloud Shell / az login --identity
//	GET  /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R[&client_id|object_id|msi_res_id]
//	     Metadata: true, X-IDENTITY-HEADER: <node secret>     IMDS
//	  └─ the node secret names the node (resources.AuthenticateNode, read from
//	     the store on every request: rotation and revocation act at once)
//	     └─ the identity: one attached to the node's compute (NodeIdentity)
//	        └─ token.IssueManagedIdentityToken mints and logs the sign-in
//
// The Cloud Shell and IMDS shapes carry no secret of their own: on a real
// host, reaching the endpoint is the proof. Here a node agent (tessera
// compute run, tessera node agent) serves them on loopback and adds the node
// secret when it forwards (see docs/managed-identity.md).
//
//	GET /msi/workload-token?audience=A   X-IDENTITY-HEADER: <node secret>
//	GET /oidc/compute/{tenant}/.well-known/openid-configuration
//	GET /oidc/compute/{tenant}/keys

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/fault"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/resources"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/wire"
)

// ManagedIdentityNodes is what the managed-identity endpoint needs from the
// resource manager: who a node secret belongs to, and which identity of its
// compute a request names.
type ManagedIdentityNodes interface {
	AuthenticateNode(ctx context.Context, secret string) (domain.ComputeNode, error)
	NodeIdentity(ctx context.Context, node domain.ComputeNode, sel resources.IdentitySelector) (resources.Identity, error)
}

// ManagedIdentityHandler serves the managed-identity endpoints.
type ManagedIdentityHandler struct {
	tokens  *token.Service
	nodes   ManagedIdentityNodes
	tenants TenantResolver
	base    *httpx.BaseURLs
	log     *slog.Logger
	now     func() time.Time
}

// NewManagedIdentity returns the managed-identity endpoint handler.
func NewManagedIdentity(tokens *token.Service, nodes ManagedIdentityNodes, tenants TenantResolver, base *httpx.BaseURLs, opts Options) *ManagedIdentityHandler {
	h := &ManagedIdentityHandler{tokens: tokens, nodes: nodes, tenants: tenants, base: base, log: opts.Logger, now: opts.Now}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// Paths of the managed-identity endpoints.
const (
	MSIPath           = "/msi/token"
	IMDSPath          = "/metadata/identity/oauth2/token"
	WorkloadTokenPath = "/msi/workload-token"
)

// Register mounts the routes on mux.
func (h *ManagedIdentityHandler) Register(mux *http.ServeMux) {
	mux.HandleFunc(MSIPath, h.token)
	mux.HandleFunc(IMDSPath, h.token)
	mux.HandleFunc("GET "+WorkloadTokenPath, h.workloadToken)
	mux.HandleFunc("GET /oidc/compute/{tenant}/.well-known/openid-configuration", h.workloadDiscovery)
	mux.HandleFunc("GET /oidc/compute/{tenant}/keys", h.workloadJWKS)
}

// Request shapes, as the sign-in log names them.
const (
	shapeAppService = "AppService"
	shapeAzureML    = "AzureML"
	shapeCloudShell = "CloudShell"
	shapeIMDS       = "IMDS"
)

// Node secret headers: App Service's, and Azure ML's.
const (
	headerIdentity = "X-IDENTITY-HEADER"
	headerSecret   = "secret"
)

// msiError is the error body managed-identity endpoints answer with (IMDS's
// shape); clients print error_description.
type msiError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func writeMSIError(w http.ResponseWriter, status int, code, desc string) {
	wire.WriteJSON(w, status, msiError{Error: code, ErrorDescription: desc})
}

// msiResponse carries every field any client reads: Python needs resource
// and expires_on or expires_in; App Service clients parse expires_on as epoch
// seconds; IMDS clients read expires_in; all as numeric strings, which every
// measured client accepts (CLIENTS.md §4).
type msiResponse struct {
	AccessToken  string `json:"access_token"`
	ClientID     string `json:"client_id"`
	ExpiresIn    string `json:"expires_in"`
	ExpiresOn    string `json:"expires_on"`
	ExtExpiresIn string `json:"ext_expires_in"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	TokenType    string `json:"token_type"`
}

// maxMSIFormBytes bounds a Cloud Shell form; a real one is one line.
const maxMSIFormBytes = 16 << 10

// msiRequest is a managed-identity token request in any shape, parsed once.
type msiRequest struct {
	shape    string
	secret   string
	resource string
	sel      resources.IdentitySelector
}

// identity selector parameters and the selector field each fills. Clients
// spell them differently: client_id (App Service, IMDS, Cloud Shell),
// clientid (Azure ML, possibly empty), object_id and principal_id (object
// ids), mi_res_id (App Service) and msi_res_id (IMDS, az).
var selectorParams = map[string]func(*resources.IdentitySelector) *string{
	"client_id":    func(s *resources.IdentitySelector) *string { return &s.ClientID },
	"clientid":     func(s *resources.IdentitySelector) *string { return &s.ClientID },
	"object_id":    func(s *resources.IdentitySelector) *string { return &s.PrincipalID },
	"principal_id": func(s *resources.IdentitySelector) *string { return &s.PrincipalID },
	"mi_res_id":    func(s *resources.IdentitySelector) *string { return &s.ResourceID },
	"msi_res_id":   func(s *resources.IdentitySelector) *string { return &s.ResourceID },
}

// parseMSIRequest reads a request of any shape. On failure it returns the
// status and error body to send.
func parseMSIRequest(w http.ResponseWriter, r *http.Request) (msiRequest, int, msiError) {
	bad := func(desc string) (msiRequest, int, msiError) {
		return msiRequest{}, http.StatusBadRequest, msiError{Error: "invalid_request", ErrorDescription: desc}
	}
	imds := r.URL.Path == IMDSPath
	var req msiRequest
	switch {
	case imds && r.Method == http.MethodGet:
		req.shape = shapeIMDS
	case !imds && r.Method == http.MethodPost:
		req.shape = shapeCloudShell
	case !imds && r.Method == http.MethodGet:
		req.shape = shapeAppService
		if r.Header.Get(headerIdentity) == "" && r.Header.Get(headerSecret) != "" {
			req.shape = shapeAzureML
		}
	default:
		if imds {
			w.Header().Set("Allow", "GET")
		} else {
			w.Header().Set("Allow", "GET, POST")
		}
		return msiRequest{}, http.StatusMethodNotAllowed, msiError{Error: "invalid_request",
			ErrorDescription: "The managed identity endpoint does not accept " + printable(r.Method) + " requests."}
	}
	// IMDS and Cloud Shell refuse requests without Metadata: true, which a
	// browser or a server-side request forgery cannot add.
	if (req.shape == shapeIMDS || req.shape == shapeCloudShell) && !strings.EqualFold(r.Header.Get("Metadata"), "true") {
		return bad("Required metadata header not specified")
	}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return bad("The query string is not validly encoded.")
	}
	if req.shape == shapeCloudShell {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "" && ct != "application/x-www-form-urlencoded" {
			return bad("The request body must be a form (application/x-www-form-urlencoded).")
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMSIFormBytes))
		if err != nil {
			return bad("The request body could not be read or is too large.")
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return bad("The request body is not a valid form encoding.")
		}
		for k, vs := range form {
			params[k] = append(params[k], vs...)
		}
	}
	one := func(k string) (string, bool) {
		vs := params[k]
		if len(vs) > 1 {
			return "", false
		}
		if len(vs) == 0 {
			return "", true
		}
		return vs[0], true
	}
	for k := range params {
		if _, ok := one(k); !ok {
			return bad("The parameter '" + printable(k) + "' is given more than once.")
		}
	}
	if v, _ := one("api-version"); v == "" && req.shape == shapeIMDS {
		return bad("Required query variable 'api-version' is missing")
	}
	req.resource, _ = one("resource")
	req.resource = strings.TrimSpace(req.resource)
	if req.resource == "" {
		return bad("Required query variable 'resource' is missing")
	}
	for k, field := range selectorParams {
		v, _ := one(k)
		if v == "" {
			continue // Go's Azure ML request always sends clientid=, empty for the default
		}
		f := field(&req.sel)
		if *f != "" && !strings.EqualFold(*f, v) {
			return bad("Only one of client_id, object_id and mi_res_id may name the identity.")
		}
		*f = v
	}
	n := 0
	for _, v := range []string{req.sel.ClientID, req.sel.PrincipalID, req.sel.ResourceID} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		return bad("Only one of client_id, object_id and mi_res_id may name the identity.")
	}
	id, sec := r.Header.Get(headerIdentity), r.Header.Get(headerSecret)
	if id != "" && sec != "" && id != sec {
		return msiRequest{}, http.StatusUnauthorized, msiError{Error: "invalid_client", ErrorDescription: "Two different node secrets were presented."}
	}
	req.secret = id
	if req.secret == "" {
		req.secret = sec
	}
	return req, 0, msiError{}
}

// describeSelector words an identity selector for the sign-in log.
func describeSelector(sel resources.IdentitySelector) string {
	switch {
	case sel.ClientID != "":
		return "client id " + printable(sel.ClientID)
	case sel.PrincipalID != "":
		return "object id " + printable(sel.PrincipalID)
	case sel.ResourceID != "":
		return "resource id " + printable(sel.ResourceID)
	}
	return "the default identity"
}

var errNodeSecret = msiError{Error: "invalid_client",
	ErrorDescription: "The node secret is missing or not valid (it may have been rotated or revoked)."}

// authenticate turns a node secret into the node and its tenant, writing
// the error when it cannot.
func (h *ManagedIdentityHandler) authenticate(w http.ResponseWriter, r *http.Request, secret string) (domain.ComputeNode, domain.Tenant, bool) {
	refuse := func(why string) (domain.ComputeNode, domain.Tenant, bool) {
		// No node, so no tenant whose sign-in log could hold it: the
		// server log records the refusal (never the secret).
		h.log.WarnContext(r.Context(), "managed identity request refused", "reason", why,
			"client_ip", httpx.ClientIP(r), "request_id", httpx.RequestID(r.Context()))
		wire.WriteJSON(w, http.StatusUnauthorized, errNodeSecret)
		return domain.ComputeNode{}, domain.Tenant{}, false
	}
	if secret == "" {
		return refuse("no node secret")
	}
	node, err := h.nodes.AuthenticateNode(r.Context(), secret)
	if errors.Is(err, resources.ErrNodeUnauthorized) {
		return refuse("unknown, rotated or revoked node secret")
	}
	if err != nil {
		h.unavailable(w, r, err)
		return domain.ComputeNode{}, domain.Tenant{}, false
	}
	tenant, err := h.tenants.Resolve(r.Context(), node.TenantID)
	if err != nil {
		h.unavailable(w, r, err)
		return domain.ComputeNode{}, domain.Tenant{}, false
	}
	return node, tenant, true
}

// unavailable answers a storage failure as retryable, never with its detail.
func (h *ManagedIdentityHandler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "managed identity request failed", "err", err, "request_id", httpx.RequestID(r.Context()))
	writeMSIError(w, http.StatusServiceUnavailable, token.ErrTemporarilyUnavailable, fault.TransientMessage)
}

func (h *ManagedIdentityHandler) token(w http.ResponseWriter, r *http.Request) {
	req, status, body := parseMSIRequest(w, r)
	if status != 0 {
		wire.WriteJSON(w, status, body)
		return
	}
	node, tenant, ok := h.authenticate(w, r, req.secret)
	if !ok {
		return
	}
	tr := token.ManagedIdentityRequest{
		Tenant: tenant, BaseURL: h.base.For(r), Resource: req.resource, NodeID: node.ID, NodeName: node.Name,
		ComputeID: node.ComputeID, Source: req.shape, ClientIP: httpx.ClientIP(r), CorrelationID: httpx.CorrelationID(r.Context()),
	}
	id, err := h.nodes.NodeIdentity(r.Context(), node, req.sel)
	switch {
	case errors.Is(err, resources.ErrIdentityNotFound):
		h.tokens.RecordManagedIdentityFailure(r.Context(), tr,
			"Identity not found: no identity attached to compute "+node.ComputeID+" matches "+describeSelector(req.sel)+".")
		writeMSIError(w, http.StatusBadRequest, "invalid_request", "Identity not found")
		return
	case errors.Is(err, resources.ErrNodeUnauthorized):
		wire.WriteJSON(w, http.StatusUnauthorized, errNodeSecret)
		return
	case err != nil:
		h.unavailable(w, r, err)
		return
	}
	tr.Identity = token.ManagedIdentity{ClientID: id.ClientID, PrincipalID: id.PrincipalID, ResourceID: id.ResourceID, DisplayName: id.DisplayName}
	issued, err := h.tokens.IssueManagedIdentityToken(r.Context(), tr)
	if err != nil {
		h.tokenError(w, r, err)
		return
	}
	w.Header().Set("Pragma", "no-cache")
	expiresIn := strconv.FormatInt(issued.ExpiresIn, 10)
	wire.WriteJSON(w, http.StatusOK, msiResponse{
		AccessToken: issued.AccessToken, ClientID: id.ClientID, ExpiresIn: expiresIn, ExtExpiresIn: expiresIn,
		ExpiresOn: strconv.FormatInt(issued.ExpiresOn.Unix(), 10), NotBefore: strconv.FormatInt(issued.NotBefore.Unix(), 10),
		Resource: issued.Resource, TokenType: "Bearer",
	})
}

// tokenError writes a token service refusal (an unknown resource, ...) in
// Entra's error shape, which IMDS relays as it is.
func (h *ManagedIdentityHandler) tokenError(w http.ResponseWriter, r *http.Request, err error) {
	te := oauthRefusal(err)
	switch {
	case te.Code == token.ErrServerError || te.Code == token.ErrTemporarilyUnavailable:
		h.log.ErrorContext(r.Context(), "managed identity token error", "aadsts", te.Number, "err", te.Err, "request_id", httpx.RequestID(r.Context()))
	case te.Err != nil:
		// The caller's bad input, not the server's fault.
		h.log.InfoContext(r.Context(), "managed identity token request refused", "aadsts", te.Number, "err", te.Err, "request_id", httpx.RequestID(r.Context()))
	}
	wire.WriteOAuthError(w, wire.OAuthStatus(te), wire.NewOAuthError(te.Code, te.Number, te.Message, httpx.RequestID(r.Context()),
		httpx.CorrelationID(r.Context()), h.base.For(r), h.now()))
}

// workloadTokenResponse is the answer of the workload token endpoint.
type workloadTokenResponse struct {
	Token     string `json:"token"`
	ExpiresOn string `json:"expires_on"`
	Issuer    string `json:"issuer"`
	Subject   string `json:"subject"`
}

// workloadToken issues a node's compute a short-lived OIDC token, for
// workload identity federation (AZURE_FEDERATED_TOKEN_FILE).
func (h *ManagedIdentityHandler) workloadToken(w http.ResponseWriter, r *http.Request) {
	aud := r.URL.Query().Get("audience")
	if aud == "" {
		aud = resources.DefaultFederatedAudience
	}
	if len(aud) > 600 || printable(aud) != aud {
		writeMSIError(w, http.StatusBadRequest, "invalid_request", "The audience must be at most 600 printable characters.")
		return
	}
	secret := r.Header.Get(headerIdentity)
	if secret == "" {
		secret = r.Header.Get(headerSecret)
	}
	node, tenant, ok := h.authenticate(w, r, secret)
	if !ok {
		return
	}
	wt, err := h.tokens.IssueWorkloadToken(r.Context(), token.WorkloadTokenRequest{
		Tenant: tenant, PublicURL: h.base.Public(), Audience: aud, NodeID: node.ID, NodeName: node.Name,
		ComputeID: node.ComputeID, ClientIP: httpx.ClientIP(r), CorrelationID: httpx.CorrelationID(r.Context()),
	})
	if err != nil {
		h.tokenError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, workloadTokenResponse{Token: wt.Token, ExpiresOn: strconv.FormatInt(wt.ExpiresOn.Unix(), 10),
		Issuer: wt.Issuer, Subject: wt.Subject})
}

// workloadTenant resolves the {tenant} of a workload issuer path: only a
// tenant GUID names an issuer (aliases would make several issuer strings).
func (h *ManagedIdentityHandler) workloadTenant(w http.ResponseWriter, r *http.Request) (domain.Tenant, bool) {
	seg := r.PathValue("tenant")
	if !directory.IsGUID(seg) {
		writeMSIError(w, http.StatusNotFound, "invalid_request", "No workload issuer at this path.")
		return domain.Tenant{}, false
	}
	t, err := h.tenants.Resolve(r.Context(), strings.ToLower(seg))
	if err != nil {
		if te, ok := token.AsError(err); ok && te.Number != 0 {
			writeMSIError(w, http.StatusNotFound, "invalid_request", "No workload issuer at this path.")
		} else {
			h.unavailable(w, r, err)
		}
		return domain.Tenant{}, false
	}
	return t, true
}

func (h *ManagedIdentityHandler) workloadDiscovery(w http.ResponseWriter, r *http.Request) {
	t, ok := h.workloadTenant(w, r)
	if !ok {
		return
	}
	wire.WriteJSON(w, http.StatusOK, token.WorkloadDiscovery(token.WorkloadIssuer(h.base.Public(), t.ID)))
}

func (h *ManagedIdentityHandler) workloadJWKS(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.workloadTenant(w, r); !ok {
		return
	}
	w.Header().Set("Content-Type", wire.ContentTypeJSON)
	w.Header().Set("Cache-Control", "max-age=86400, private")
	_, _ = w.Write(h.tokens.Keys().JWKS())
}
