package sts

import (
	"io"
	"mime"
	"net/http"
	"net/url"
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
	form, err := readTokenForm(w, r)
	if err != nil {
		h.observeToken("", "invalid_request") // the body is consumed: its grant is unknown
		h.writeError(w, r, err)
		return
	}
	req, err := h.parseTokenRequest(r, form, version)
	if req != nil && req.Origin != "" {
		h.tokenCORS.Allow(w, r, h.tokens.SPAOriginAllowed(r.Context(), req.Tenant, req.ClientID, req.Origin))
	}
	if err != nil {
		h.observeToken(form["grant_type"], "invalid_request")
		h.writeError(w, r, err)
		return
	}
	issued, err := h.tokens.Exchange(r.Context(), req)
	if err != nil {
		result := "error"
		if te, ok := token.AsError(err); ok && te.Number != 0 {
			result = te.Code
		}
		h.observeToken(req.GrantType, result)
		h.writeError(w, r, err)
		return
	}
	h.observeToken(req.GrantType, "success")
	w.Header().Set("Pragma", "no-cache")
	if version == 1 {
		num := v1Numbers(req.Segment)
		wire.WriteJSON(w, http.StatusOK, v1Response{
			TokenType: "Bearer", ExpiresIn: num(issued.ExpiresIn),
			ExtExpiresIn: num(issued.ExpiresIn),
			ExpiresOn:    num(issued.ExpiresOn.Unix()),
			NotBefore:    num(issued.NotBefore.Unix()),
			Resource:     issued.Resource, AccessToken: issued.AccessToken,
			userFields: userFieldsOf(issued, true),
		})
		return
	}
	wire.WriteJSON(w, http.StatusOK, v2Response{
		TokenType: "Bearer", ExpiresIn: issued.ExpiresIn, ExtExpiresIn: issued.ExpiresIn,
		Scope: issued.Scope, AccessToken: issued.AccessToken, userFields: userFieldsOf(issued, false),
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
	userFields
}

type v1Response struct {
	TokenType    string   `json:"token_type"`
	ExpiresIn    v1Number `json:"expires_in"`
	ExtExpiresIn v1Number `json:"ext_expires_in"`
	ExpiresOn    v1Number `json:"expires_on"`
	NotBefore    v1Number `json:"not_before"`
	Resource     string   `json:"resource"`
	AccessToken  string   `json:"access_token"`
	userFields
}

// parseTokenRequest turns the form, read once, into a token.Request.
func (h *Handler) parseTokenRequest(r *http.Request, form map[string]string, version int) (*token.Request, error) {
	t, seg, err := h.resolveForToken(r)
	if err != nil {
		return nil, err
	}
	base := h.base.For(r)
	return &token.Request{
		Origin:  httpx.Origin(r),
		Version: version, Tenant: t, Segment: seg, BaseURL: base,
		EndpointURL:         base + r.URL.EscapedPath(),
		GrantType:           form["grant_type"],
		ClientID:            form["client_id"],
		ClientSecret:        form["client_secret"],
		ClientAssertionType: form["client_assertion_type"],
		ClientAssertion:     form["client_assertion"],
		Scope:               form["scope"],
		Resource:            form["resource"],
		Form:                form,
		ClientIP:            httpx.ClientIP(r),
		CorrelationID:       httpx.CorrelationID(r.Context()),
		ConnID:              httpx.ConnID(r.Context()),
	}, nil
}

// readTokenForm reads a token request body: a form of single-valued
// parameters, with the client credentials optionally in HTTP Basic
// (RFC 6749 §2.3.1: form-urlencoded id and secret) folded into it.
func readTokenForm(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return nil, token.Errorf(token.ErrInvalidRequest, 900144,
			"The request body must contain the following parameter: 'grant_type'. Token requests must be sent as application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, token.Errorf(token.ErrInvalidRequest, 90014, "The request body could not be read or is too large.")
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, token.Errorf(token.ErrInvalidRequest, 90014, "The request body is not a valid form encoding.")
	}
	form := make(map[string]string, len(values))
	for k, v := range values {
		// Entra refuses a repeated parameter rather than guessing which one counts.
		if len(v) > 1 {
			return nil, token.Errorf(token.ErrInvalidRequest, 90015, "Requested query string is too long or has a duplicate parameter '%s'.", printable(k))
		}
		form[k] = v[0]
	}
	if id, secret, ok := r.BasicAuth(); ok {
		id, err1 := url.QueryUnescape(id)
		secret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, token.Errorf(token.ErrInvalidClient, 7000215, "The HTTP Basic credentials are not validly encoded.")
		}
		if form["client_id"] != "" && form["client_id"] != id {
			return nil, token.Errorf(token.ErrInvalidRequest, 700021, "The client_id in the body does not match the HTTP Basic credentials.")
		}
		if form["client_secret"] != "" {
			return nil, token.Errorf(token.ErrInvalidRequest, 90014, "Send the client secret either in the body or with HTTP Basic, not both.")
		}
		form["client_id"], form["client_secret"] = id, secret
	}
	return form, nil
}

func (h *Handler) resolveForToken(r *http.Request) (domain.Tenant, string, error) {
	seg := r.PathValue("tenant")
	t, err := h.tenants.Resolve(r.Context(), seg)
	return t, strings.ToLower(seg), err
}
