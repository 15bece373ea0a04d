package token

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
)

const testSPAOrigin = "https://spa.contoso.test"

// spaSignIn registers an application with an SPA redirect, runs its
// authorize request for the harness user and redeems the code from the
// SPA's origin.
func (h *harness) spaSignIn() (domain.Application, *Issued) {
	h.t.Helper()
	ctx := context.Background()
	app, err := h.dir.CreateApplication(ctx, h.tenant.ID, directory.ApplicationInput{DisplayName: "spa",
		SpaRedirectURIs: []string{testSPAOrigin + "/app"}})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.dir.CreateServicePrincipal(ctx, h.tenant.ID, app.AppID, true); err != nil {
		h.t.Fatal(err)
	}
	verifier := "spa-verifier-0123456789-0123456789-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	az, err := h.ix.ValidateAuthorize(ctx, h.svc, AuthorizeRequest{Version: 2, Tenant: h.tenant, Segment: h.tenant.ID,
		BaseURL: "https://localhost:8443", ClientID: app.AppID, RedirectURI: testSPAOrigin + "/app", ResponseType: "code",
		Scope: "https://management.azure.com/.default openid profile offline_access", ResponseMode: ResponseModeFragment,
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), CodeChallengeMethod: PKCEMethodS256})
	if err != nil {
		h.t.Fatalf("authorize: %v", err)
	}
	if !az.SPA || !az.Public {
		h.t.Fatalf("an SPA redirect: SPA=%v Public=%v", az.SPA, az.Public)
	}
	_, sess, err := h.signins.NewSession(ctx, h.tenant.ID, h.user, []string{"pwd"})
	if err != nil {
		h.t.Fatal(err)
	}
	code, err := h.ix.IssueCode(ctx, az, h.user, sess)
	if err != nil {
		h.t.Fatal(err)
	}
	req := h.req("authorization_code", map[string]string{"client_id": app.AppID, "code": code,
		"redirect_uri": testSPAOrigin + "/app", "code_verifier": verifier})
	req.Origin = testSPAOrigin
	is, err := h.svc.Exchange(ctx, req)
	if err != nil {
		h.t.Fatalf("redeem: %v", err)
	}
	return app, is
}

func (h *harness) spaRefresh(clientID, rt, origin string) (*Issued, error) {
	req := h.req("refresh_token", map[string]string{"client_id": clientID, "refresh_token": rt})
	req.Origin = origin
	return h.svc.Exchange(context.Background(), req)
}

// TestSPARefreshExpiresAfter24Hours: an SPA sign-in's refresh tokens end
// 24 hours after it, however often they were rotated (Entra's fixed,
// non-sliding SPA lifetime), and only a cross-origin request redeems them.
func TestSPARefreshExpiresAfter24Hours(t *testing.T) {
	h := newHarness(t, InteractiveOptions{})
	app, is := h.spaSignIn()
	if is.FOCI != "" {
		t.Errorf("an SPA response with foci=%q", is.FOCI)
	}
	if is.RefreshExpiresIn != 86400 {
		t.Errorf("RefreshExpiresIn = %d, want 86400", is.RefreshExpiresIn)
	}
	if _, err := h.spaRefresh(app.AppID, is.RefreshToken, ""); !isAADSTS(err, 9002327) {
		t.Fatalf("refresh without Origin: %v", err)
	}
	rt := is.RefreshToken
	for i := 0; i < 3; i++ {
		h.clock.Advance(7 * time.Hour)
		next, err := h.spaRefresh(app.AppID, rt, testSPAOrigin)
		if err != nil {
			t.Fatalf("refresh after %dh: %v", 7*(i+1), err)
		}
		// The store keeps times to the second or millisecond.
		if want := int64(86400 - 7*3600*(i+1)); next.RefreshExpiresIn < want-1 || next.RefreshExpiresIn > want {
			t.Errorf("after %dh RefreshExpiresIn = %d, want %d", 7*(i+1), next.RefreshExpiresIn, want)
		}
		rt = next.RefreshToken
	}
	h.clock.Advance(3*time.Hour + time.Second) // 24 h and a second after the sign-in
	if _, err := h.spaRefresh(app.AppID, rt, testSPAOrigin); !isAADSTS(err, 700082) {
		t.Fatalf("refresh after 24h: %v, want AADSTS700082", err)
	}
}

// TestNonSPARefreshRefusesOrigin: a native client's refresh token is not
// a browser's (AADSTS9002326), and a native client's family still lives
// past 24 hours.
func TestNonSPARefreshRefusesOrigin(t *testing.T) {
	h := newHarness(t, InteractiveOptions{})
	is := h.password(directory.AppIDAzureCLI)
	if _, err := h.spaRefresh(directory.AppIDAzureCLI, is.RefreshToken, testSPAOrigin); !isAADSTS(err, 9002326) {
		t.Fatalf("native refresh with Origin: %v", err)
	}
	h.clock.Advance(48 * time.Hour)
	if _, err := h.spaRefresh(directory.AppIDAzureCLI, is.RefreshToken, ""); err != nil {
		t.Fatalf("native refresh after 48h: %v", err)
	}
}

// TestPortalIsNotFOCI: FOCI membership is explicit per built-in client.
func TestPortalIsNotFOCI(t *testing.T) {
	if IsFOCI(directory.AppIDTesseraPortal) || !IsFOCI(directory.AppIDAzureCLI) {
		t.Fatal("FOCI membership is wrong")
	}
}

// TestOriginOf: origins as browsers write them.
func TestOriginOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://Spa.Contoso.test:443/app": "https://spa.contoso.test",
		"https://spa.contoso.test:8443/":   "https://spa.contoso.test:8443",
		"http://localhost:3000/x?y=1":      "http://localhost:3000",
		"http://[::1]:80/":                 "http://[::1]",
		"myapp://callback":                 "",
		"/relative":                        "",
	} {
		if got := OriginOf(in); got != want {
			t.Errorf("OriginOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func isAADSTS(err error, code int) bool {
	te, ok := AsError(err)
	return ok && te.Number == code
}

// TestPortalRedirects: the portal signs in only at its SPA redirects,
// never at the native loopback ones of the other built-in clients.
func TestPortalRedirects(t *testing.T) {
	h := newHarness(t, InteractiveOptions{})
	h.svc.portalRedirects = []string{"https://tessera.test/portal/"}
	sum := sha256.Sum256([]byte("portal-verifier-0123456789-0123456789-0123456789"))
	for redirect, ok := range map[string]bool{
		"https://tessera.test/portal/": true, "https://tessera.test/portal": false,
		"http://localhost:8400": false, "http://localhost": false,
	} {
		az, err := h.ix.ValidateAuthorize(context.Background(), h.svc, AuthorizeRequest{Version: 2, Tenant: h.tenant,
			ClientID: directory.AppIDTesseraPortal, RedirectURI: redirect, ResponseType: "code",
			Scope: "https://management.azure.com/.default openid offline_access", CodeChallengeMethod: PKCEMethodS256,
			CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:])})
		if ok && (err != nil || !az.SPA || !az.Public) {
			t.Errorf("%s: %v %+v", redirect, err, az)
		}
		if !ok && !isAADSTS(err, 50011) {
			t.Errorf("%s: %v, want AADSTS50011", redirect, err)
		}
	}
	if !h.ix.PostLogoutRedirectAllowed(context.Background(), h.svc, h.tenant, directory.AppIDTesseraPortal, "", "https://tessera.test/portal/") ||
		h.ix.PostLogoutRedirectAllowed(context.Background(), h.svc, h.tenant, directory.AppIDTesseraPortal, "", "http://localhost:8400") {
		t.Error("the portal's post-logout redirects are wrong")
	}
}
