package console

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/test/browser"
)

type application struct {
	ID             string   `json:"id"`
	AppID          string   `json:"appId"`
	IdentifierURIs []string `json:"identifierUris"`
	Web            struct {
		RedirectURIs []string `json:"redirectUris"`
	} `json:"web"`
	PublicClient struct {
		RedirectURIs []string `json:"redirectUris"`
	} `json:"publicClient"`
	Spa struct {
		RedirectURIs []string `json:"redirectUris"`
	} `json:"spa"`
	PasswordCredentials []struct {
		KeyID string `json:"keyId"`
	} `json:"passwordCredentials"`
	KeyCredentials []struct {
		KeyID       string `json:"keyId"`
		DisplayName string `json:"displayName"`
	} `json:"keyCredentials"`
	AppRoles []struct {
		Value     string `json:"value"`
		IsEnabled bool   `json:"isEnabled"`
	} `json:"appRoles"`
}

// certificateFile writes a self-signed certificate for cn, as PEM or DER.
func certificateFile(t *testing.T, cn string, asPEM bool) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	body, name := der, cn+".cer"
	if asPEM {
		body, name = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cn+".pem"
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConsoleApps(t *testing.T) {
	c := open(t)
	bearer := c.s.GraphToken(t)
	c.signInAdmin(t)
	getApp := func(id string) application {
		t.Helper()
		var a application
		if code := c.s.Graph(t, bearer, http.MethodGet, "/applications/"+id, nil, &a); code != 200 {
			t.Fatalf("GET application: %d", code)
		}
		return a
	}

	// Register an application and create its service principal.
	c.goTo(t, "#/apps", "/apps")
	browser.Run(t, c.ctx, browser.Click("#new-app"), browser.WaitVisible("#new-app-name"),
		browser.Type("#new-app-name", "Ledger"), browser.Submit("#new-app-name"),
		browser.WaitVisible(`main[data-ready="/apps/:id"]`),
		browser.Click("#create-sp"), browser.WaitVisible("#app-sp-link"))
	id := browser.Text(t, c.ctx, "#app-id")
	app := getApp(id)
	if app.AppID != browser.Text(t, c.ctx, "#app-appid") {
		t.Fatalf("the overview shows appId %q, Graph %q", browser.Text(t, c.ctx, "#app-appid"), app.AppID)
	}
	c.screenshot(t, "app")

	// Redirect URIs: web and public client.
	c.goTo(t, "#/apps/"+id+"?tab=authentication", "/apps/:id")
	browser.Run(t, c.ctx,
		browser.Type("#redirect-web", "https://ledger.example.com/signin-oidc"), browser.Submit("#redirect-web"),
		browser.WaitText("#redirects-web", "https://ledger.example.com/signin-oidc"),
		browser.Type("#redirect-publicClient", "http://localhost"), browser.Submit("#redirect-publicClient"),
		browser.WaitText("#redirects-publicClient", "http://localhost"),
		browser.Type("#redirect-spa", "https://ledger.example.com/app/"), browser.Submit("#redirect-spa"),
		browser.WaitText("#redirects-spa", "https://ledger.example.com/app/"))
	app = getApp(id)
	if !slices.Equal(app.Web.RedirectURIs, []string{"https://ledger.example.com/signin-oidc"}) || !slices.Equal(app.PublicClient.RedirectURIs, []string{"http://localhost"}) ||
		!slices.Equal(app.Spa.RedirectURIs, []string{"https://ledger.example.com/app/"}) {
		t.Fatalf("redirect URIs after adding in the console: web %v, public client %v", app.Web.RedirectURIs, app.PublicClient.RedirectURIs)
	}
	browser.Run(t, c.ctx, browser.Click(`#redirects-publicClient button[data-remove-uri="http://localhost"]`),
		browser.WaitText("#redirects-publicClient", "No redirect URIs."))
	if app = getApp(id); len(app.PublicClient.RedirectURIs) != 0 || len(app.Web.RedirectURIs) != 1 {
		t.Fatalf("redirect URIs after removing one: web %v, public client %v", app.Web.RedirectURIs, app.PublicClient.RedirectURIs)
	}

	// A secret added in the console signs in.
	c.goTo(t, "#/apps/"+id+"?tab=credentials", "/apps/:id")
	browser.Run(t, c.ctx, browser.Type("#secret-description", "console"), browser.Submit("#secret-description"),
		browser.WaitVisible("#new-secret code.secret"))
	secret := browser.Text(t, c.ctx, "#new-secret code.secret")
	r := c.s.PostForm(t, "/"+c.s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "client_secret": {secret}, "scope": {c.s.URL + "/graph/.default"},
	})
	if r.Status != 200 || r.Body["access_token"] == nil {
		t.Fatalf("client credentials with the console's secret: %s", r)
	}

	// Certificates: a PEM file, then a DER file; both are kept.
	browser.Run(t, c.ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#certificate-file"), []string{certificateFile(t, "ledger-pem", true)}),
		browser.Submit("#certificate-file"), browser.WaitText("#certificates-list", "CN=ledger-pem"),
		chromedp.SetUploadFiles(chromedp.CSS("#certificate-file"), []string{certificateFile(t, "ledger-der", false)}),
		browser.Submit("#certificate-file"), browser.WaitText("#certificates-list", "CN=ledger-der"))
	app = getApp(id)
	if len(app.KeyCredentials) != 2 || app.KeyCredentials[0].DisplayName != "CN=ledger-pem" || app.KeyCredentials[1].DisplayName != "CN=ledger-der" {
		t.Fatalf("keyCredentials after uploads: %+v", app.KeyCredentials)
	}
	browser.Run(t, c.ctx, browser.Click(fmt.Sprintf(`#certificates-list button[data-remove-certificate=%q]`, app.KeyCredentials[0].KeyID)),
		browser.WaitFor(`!document.querySelector("#certificates-list").innerText.includes("CN=ledger-pem")`))
	if app = getApp(id); len(app.KeyCredentials) != 1 || app.KeyCredentials[0].DisplayName != "CN=ledger-der" {
		t.Fatalf("keyCredentials after deleting one: %+v", app.KeyCredentials)
	}
	// A private key is refused in the page.
	keyPath := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyPath, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	browser.Run(t, c.ctx, chromedp.SetUploadFiles(chromedp.CSS("#certificate-file"), []string{keyPath}),
		browser.Submit("#certificate-file"), browser.WaitText("#tab-credentials", "never a private key"))

	// Federated credential.
	browser.Run(t, c.ctx, browser.Type("#fic-name", "deploy"), browser.Type("#fic-issuer", "https://token.actions.githubusercontent.com"),
		browser.Type("#fic-subject", "repo:tessera/ledger:ref:refs/heads/main"), browser.Submit("#fic-name"),
		browser.WaitText("#federated-list", "repo:tessera/ledger:ref:refs/heads/main"))
	var fics struct {
		Value []struct {
			Name      string   `json:"name"`
			Audiences []string `json:"audiences"`
		} `json:"value"`
	}
	if c.s.Graph(t, bearer, http.MethodGet, "/applications/"+id+"/federatedIdentityCredentials", nil, &fics); len(fics.Value) != 1 ||
		fics.Value[0].Name != "deploy" || !slices.Equal(fics.Value[0].Audiences, []string{"api://AzureADTokenExchange"}) {
		t.Fatalf("federated credentials: %+v", fics)
	}

	// Expose an API: the default identifier URI and an app role, disabled.
	c.goTo(t, "#/apps/"+id+"?tab=api", "/apps/:id")
	browser.Run(t, c.ctx, browser.Submit("#identifier-uri"), browser.WaitText("#identifier-uris", "api://"+app.AppID),
		browser.Type("#role-name", "Readers"), browser.Type("#role-value", "Ledger.Read"), browser.Type("#role-description", "Read the ledger"),
		browser.Submit("#role-name"), browser.WaitVisible(`#app-roles button[data-disable-role="Ledger.Read"]`),
		browser.Click(`#app-roles button[data-disable-role="Ledger.Read"]`), browser.WaitVisible(`#app-roles button[data-delete-role="Ledger.Read"]`))
	app = getApp(id)
	if !slices.Equal(app.IdentifierURIs, []string{"api://" + app.AppID}) || len(app.AppRoles) != 1 || app.AppRoles[0].Value != "Ledger.Read" || app.AppRoles[0].IsEnabled {
		t.Fatalf("identifier URIs %v, app roles %+v", app.IdentifierURIs, app.AppRoles)
	}

	// Delete the application.
	c.goTo(t, "#/apps/"+id, "/apps/:id")
	browser.Run(t, c.ctx, browser.Click("#delete-app"), browser.Click("#delete-app-confirm"), browser.WaitVisible(`main[data-ready="/apps"]`))
	if code := c.s.Graph(t, bearer, http.MethodGet, "/applications/"+id, nil, nil); code != http.StatusNotFound {
		t.Fatalf("GET application after delete: %d", code)
	}
}
