package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/rsasign"
)

func TestTokenHandlerSignsVerifiableTokens(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	public := &jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: string(jose.RS256)}
	signer, err := rsasign.New(key, public, rsasign.Auto)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: signer}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	h := tokenHandler(jws)

	form := url.Values{"client_id": {"app-1"}, "grant_type": {"client_credentials"}}
	req := httptest.NewRequest(http.MethodPost, "/adfs/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var resp struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.TokenType != "Bearer" {
		t.Fatalf("response %s: %v", rec.Body, err)
	}
	parsed, err := jose.ParseSigned(resp.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := parsed.Verify(&key.PublicKey)
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims["appid"] != "app-1" {
		t.Fatalf("claims %s: %v", payload, err)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: status %d, want 405", rec.Code)
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	if err := run("0.0.0.0:9443", "c", "k", "auto"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("run on 0.0.0.0: %v, want a loopback error", err)
	}
}
