package integration

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/tessera-id/tessera/test/testserver"
)

// fakeOpener puts an xdg-open on PATH that records the URL it is asked to
// open: azidentity opens the browser through github.com/pkg/browser, which
// runs the first of xdg-open, x-www-browser, www-browser it finds. It
// returns a channel of the URLs opened.
func fakeOpener(t *testing.T) <-chan string {
	t.Helper()
	script, urls := testserver.OpenerScript(t, "xdg-open")
	t.Setenv("PATH", filepath.Dir(script)+string(os.PathListSeparator)+os.Getenv("PATH"))
	return urls
}

// armChecks makes the RBAC-allowed and RBAC-refused calls of a user who
// holds Reader on a workspace: reading it works, writing it is refused.
func armChecks(t *testing.T, s *testserver.Server, tok, workspaceID string) {
	t.Helper()
	if r := s.ARM(t, tok, "GET", workspaceID+"?api-version=2022-10-01", nil); r.Status != http.StatusOK {
		t.Fatalf("read of the workspace the user may read: %d %s", r.Status, r.Raw)
	}
	r := s.ARM(t, tok, "PUT", workspaceID+"?api-version=2022-10-01", map[string]any{"location": "eastus"})
	if r.Status != http.StatusForbidden || r.ErrorCode() != "AuthorizationFailed" {
		t.Fatalf("write by a Reader: %d %s, want 403 AuthorizationFailed", r.Status, r.Raw)
	}
}

func readerOnWorkspace(t *testing.T, s *testserver.Server, u testserver.User, name string) string {
	t.Helper()
	ws := s.Workspace(t, "rg-"+name, "ws-"+name)
	s.Assign(t, ws, testserver.RoleReader, u.ID)
	return ws
}

// TestGoInteractiveBrowserCredential runs azidentity's interactive browser
// flow unmodified: MSAL Go opens the authorize URL (form_post, PKCE) and
// listens on a loopback port; the test plays the browser.
func TestGoInteractiveBrowserCredential(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "gobrowser", userPassword)
	ws := readerOnWorkspace(t, s, u, "gobrowser")
	opened := fakeOpener(t)
	b := s.NewBrowser(t)
	errc := make(chan error, 1)
	go func() {
		select {
		case authURL := <-opened:
			if !strings.Contains(authURL, "response_mode=form_post") || !strings.Contains(authURL, "code_challenge_method=S256") {
				t.Errorf("unexpected authorize URL %s", authURL)
			}
			p := b.SignIn(authURL, u.UPN, u.Password)
			resp := b.Deliver(p)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("the loopback listener answered %d", resp.StatusCode)
			}
			errc <- nil
		case <-time.After(30 * time.Second):
			errc <- context.DeadlineExceeded
		}
	}()
	cred, err := azidentity.NewInteractiveBrowserCredential(&azidentity.InteractiveBrowserCredentialOptions{
		ClientOptions: clientOptions(s), DisableInstanceDiscovery: true, TenantID: s.Bootstrap.TenantID,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := getToken(t, cred, armScope)
	if err := <-errc; err != nil {
		t.Fatalf("browser: %v", err)
	}
	claims := verifyWithJWKS(t, s, tok)
	if claims["upn"] != u.UPN || claims["idtyp"] != "user" || claims["appid"] != azCLI {
		t.Fatalf("claims %v", claims)
	}
	armChecks(t, s, tok, ws)

	// The second resource comes from the cached refresh token, silently.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ml, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://ml.azure.com/.default"}})
	if err != nil {
		t.Fatalf("silent token for a second resource: %v", err)
	}
	if aud := verifyWithJWKS(t, s, ml.Token)["aud"]; aud != "https://ml.azure.com" {
		t.Fatalf("aud %v", aud)
	}
	select {
	case u := <-opened:
		t.Fatalf("the browser was opened again for %s", u)
	default:
	}
}

// TestGoDeviceCodeCredential runs azidentity's device code flow: the test
// approves the code through the verification page like a person would.
func TestGoDeviceCodeCredential(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := s.CreateUser(t, "godevice", userPassword)
	ws := readerOnWorkspace(t, s, u, "godevice")
	b := s.NewBrowser(t)
	errc := make(chan error, 1)
	cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
		ClientOptions: clientOptions(s), DisableInstanceDiscovery: true, TenantID: "organizations",
		UserPrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
			if !strings.Contains(m.Message, m.UserCode) || !strings.Contains(m.Message, m.VerificationURL) {
				t.Errorf("message %q lacks the code or URL", m.Message)
			}
			go func() { errc <- approveDeviceCode(t, b, m.VerificationURL, m.UserCode, u) }()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := getToken(t, cred, armScope)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if c := verifyWithJWKS(t, s, tok); c["upn"] != u.UPN {
		t.Fatalf("claims %v", c)
	}
	armChecks(t, s, tok, ws)
}

// approveDeviceCode drives the verification page: code, sign-in, approve.
func approveDeviceCode(t *testing.T, b *testserver.Browser, verificationURL, userCode string, u testserver.User) error {
	return b.ApproveDeviceCode(verificationURL, userCode, u.UPN, u.Password)
}

var _ azcore.TokenCredential = (*azidentity.DeviceCodeCredential)(nil)
