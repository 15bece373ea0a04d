package sts

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tessera-id/tessera/internal/domain"

	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/wire"
)

// maxFormBytes bounds a token request body; a real one is under 8 KiB.
const maxFormBytes = 64 << 10

func (h *Handler) tokenV2(w http.ResponseWriter, r *http.Request) { h.token(w, r, 2) }
func (h *Handler) tokenV1(w http.ResponseWriter, r *http.Request) { h.token(w, r, 1) }

func (h *Handler) token(w http.ResponseWriter, r *http.Request, version int) {
	req, err := h.parseTokenRequest(w, r, version)
	if err != nil {
		h.observeToken(r.PostFormValue("grant_type"), "invalid_request")
		h.writeError(w, r, err)
		return
	}
	issued, err := h.tokens.Exchange(r.Context(), req)
	if err != nil {
		result := "error"
		if te, ok := token.AsError(err); ok {
			result = te.OAuth
		}
		h.observeToken(req.GrantType, result)
		h.writeError(w, r, err)
		return
	}
	h.observeToken(req.GrantType, "success")
	w.Header().Set("Pragma", "no-cache")
	if version == 1 {
		wire.WriteJSON(w, http.StatusOK, v1Response{
			TokenType: "Bearer", ExpiresIn: strconv.FormatInt(issued.ExpiresIn, 10),
			ExtExpiresIn: strconv.FormatInt(issued.ExpiresIn, 10),
			ExpiresOn:    strconv.FormatInt(issued.ExpiresOn.Unix(), 10),
			NotBefore:    strconv.FormatInt(issued.NotBefore.Unix(), 10),
			Resource:     issued.Resource, AccessToken: issued.AccessToken,
		})
		return
	}
	wire.WriteJSON(w, http.StatusOK, v2Response{
		TokenType: "Bearer", ExpiresIn: issued.ExpiresIn, ExtExpiresIn: issued.ExpiresIn,
		Scope: issued.Scope, AccessToken: issued.AccessToken,
	})
}

func (h *Handler) observeToken(grant, result string) {
	if h.observe == nil {
		return
	}
	switch grant {
	case "client_credentials", "authorization_code", "refresh_token", "password", "device_code",
		"urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer":
	default:
		grant = "other" // bounded label values
	}
	h.observe(grant, result)
}

type v2Response struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
}

type v1Response struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    string `json:"expires_in"`
	ExtExpiresIn string `json:"ext_expires_in"`
	ExpiresOn    string `json:"expires_on"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	AccessToken  string `json:"access_token"`
}

// parseTokenRequest reads the form once into a token.Request.
func (h *Handler) parseTokenRequest(w http.ResponseWriter, r *http.Request, version int) (*token.Request, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return nil, token.Errorf(token.ErrInvalidRequest, 900144,
			"The request body must contain the following parameter: 'grant_type'. Token requests must be sent as application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	body, err := readAll(r)
	if err != nil {
		return nil, token.Errorf(token.ErrInvalidRequest, 90014, "The request body could not be read or is too large.")
	}
	form, err := url.ParseQuery(body)
	if err != nil {
		return nil, token.Errorf(token.ErrInvalidRequest, 90014, "The request body is not a valid form encoding.")
	}
	// Entra refuses a repeated parameter rather than guessing which one counts.
	for k, v := range form {
		if len(v) > 1 {
			return nil, token.Errorf(token.ErrInvalidRequest, 90015, "Requested query string is too long or has a duplicate parameter '%s'.", k)
		}
	}
	t, seg, err := h.resolveForToken(r)
	if err != nil {
		return nil, err
	}
	flat := make(map[string]string, len(form))
	for k, v := range form {
		flat[k] = v[0]
	}
	base := h.base.For(r)
	req := &token.Request{
		Version: version, Tenant: t, Segment: seg, BaseURL: base,
		EndpointURL:         base + r.URL.EscapedPath(),
		GrantType:           flat["grant_type"],
		ClientID:            flat["client_id"],
		ClientSecret:        flat["client_secret"],
		ClientAssertionType: flat["client_assertion_type"],
		ClientAssertion:     flat["client_assertion"],
		Scope:               flat["scope"],
		Resource:            flat["resource"],
		Form:                flat,
		ClientIP:            httpx.ClientIP(r),
		CorrelationID:       httpx.CorrelationID(r.Context()),
		ConnID:              httpx.ConnID(r.Context()),
	}
	if id, secret, ok := r.BasicAuth(); ok {
		id, err1 := url.QueryUnescape(id)
		secret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, token.Errorf(token.ErrInvalidClient, 7000215, "The HTTP Basic credentials are not validly encoded.")
		}
		if req.ClientID != "" && req.ClientID != id {
			return nil, token.Errorf(token.ErrInvalidRequest, 700021, "The client_id in the body does not match the HTTP Basic credentials.")
		}
		if req.ClientSecret != "" {
			return nil, token.Errorf(token.ErrInvalidRequest, 90014, "Send the client secret either in the body or with HTTP Basic, not both.")
		}
		req.ClientID, req.ClientSecret = id, secret
	}
	return req, nil
}

func (h *Handler) resolveForToken(r *http.Request) (domain.Tenant, string, error) {
	seg := r.PathValue("tenant")
	t, err := h.tenants.Resolve(r.Context(), seg)
	return t, strings.ToLower(seg), err
}
