package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tessera-id/tessera/test/browser"
	"github.com/tessera-id/tessera/test/testserver"
)

// msiToken asks the managed-identity endpoint for a token with a node secret
// and answers the status.
func msiToken(t *testing.T, s *testserver.Server, secret string) int {
	t.Helper()
	req, err := http.NewRequest("GET", s.URL+"/msi/token?"+url.Values{"resource": {"https://management.azure.com"}}.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-IDENTITY-HEADER", secret)
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestConsoleIdentitiesAndNodes: the managed identities page shows a
// user-assigned identity and where it is attached; a compute's page lists
// its nodes, rotates a node's secret (the old one stops working, the one
// shown works) and revokes the node.
func TestConsoleIdentitiesAndNodes(t *testing.T) {
	c := open(t)
	admin := c.s.AdminARMToken(t)
	ws := c.s.Workspace(t, "rg-train", "ws-train")
	uami := "/subscriptions/" + c.s.Bootstrap.SubscriptionID + "/resourceGroups/rg-train/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ua-train"
	r := c.s.ARM(t, admin, "PUT", uami+"?api-version=2023-01-31", map[string]any{"location": "eastus"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create identity: %d %s", r.Status, r.Raw)
	}
	clientID := r.Body["properties"].(map[string]any)["clientId"].(string)
	compute := ws + "/computes/gpu"
	if r := c.s.ARM(t, admin, "PUT", compute+"?api-version=2022-10-01-preview", map[string]any{"location": "eastus",
		"identity":   map[string]any{"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": map[string]any{uami: map[string]any{}}},
		"properties": map[string]any{"computeType": "AmlCompute"}}); r.Status != http.StatusCreated {
		t.Fatalf("create compute: %d %s", r.Status, r.Raw)
	}
	r = c.s.ARM(t, admin, "POST", compute+"/registerNode?api-version=2023-10-01", map[string]any{"name": "node-1"})
	var reg struct{ NodeID, Secret string }
	if err := json.Unmarshal(r.Raw, &reg); r.Status != http.StatusOK || err != nil || reg.Secret == "" {
		t.Fatalf("registerNode: %d %s", r.Status, r.Raw)
	}
	c.signInAdmin(t)

	// The identity, its client id and the compute it is attached to.
	c.goTo(t, "#/identities", "/identities")
	txt := browser.Text(t, c.ctx, "#user-assigned")
	if !strings.Contains(txt, "ua-train") || !strings.Contains(txt, clientID) || !strings.Contains(txt, "Compute gpu") {
		t.Fatalf("the identities page shows %q", txt)
	}
	if txt := browser.Text(t, c.ctx, "#system-assigned"); !strings.Contains(txt, "gpu") || !strings.Contains(txt, "ws-train") || strings.Count(txt, "Compute gpu") != 1 {
		t.Fatalf("system-assigned identities: %q", txt)
	}
	if n := strings.Count(txt, "Compute gpu"); n != 1 {
		t.Fatalf("the identity shows as attached to the compute %d times", n)
	}
	checkLabels(t, c, "managed identities")
	c.screenshot(t, "identities")
	c.goTo(t, "#/resources?id="+url.QueryEscape(uami), "/resources")
	browser.Run(t, c.ctx, browser.WaitText("#attached-to", "gpu"))
	principalID := browser.Text(t, c.ctx, "#identity-principal-id")

	// Give the identity a role on the workspace: the principal search finds
	// managed identities and says what they are.
	c.goTo(t, "#/resources/iam?id="+url.QueryEscape(ws), "/resources/iam")
	browser.Run(t, c.ctx, browser.Click("#add-assignment"), browser.WaitVisible("#assign-role"),
		choose("#assign-role", testserver.RoleAzureMLDataScientist), pickPrincipal("assign-principal", "ua-tr", principalID))
	if txt := browser.Text(t, c.ctx, "#assign-principal-results"); !strings.Contains(txt, "Managed identity") {
		t.Fatalf("the principal search shows %q for a managed identity", txt)
	}
	browser.Run(t, c.ctx, browser.Submit("#assign-role"), browser.WaitText("#assignments", "ua-train"))
	if got := assignmentsOf(t, c.s, ws, principalID); len(got) != 1 || got[0] != testserver.RoleAzureMLDataScientist {
		t.Fatalf("after assigning a role to the identity, ARM lists %v", got)
	}

	// The compute's nodes: rotate the secret, then revoke the node.
	c.goTo(t, "#/resources?id="+url.QueryEscape(compute), "/resources")
	browser.Run(t, c.ctx, browser.WaitVisible("#rotate-"+reg.NodeID),
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		browser.Click("#rotate-"+reg.NodeID), browser.WaitVisible("#node-result code.secret"))
	secret := browser.Text(t, c.ctx, "#node-result code.secret")
	if secret == "" || secret == reg.Secret {
		t.Fatalf("the rotated secret shown is %q", secret)
	}
	checkLabels(t, c, "compute nodes")
	c.screenshot(t, "compute-nodes")
	if st := msiToken(t, c.s, reg.Secret); st != http.StatusUnauthorized {
		t.Fatalf("the old secret after rotation: %d", st)
	}
	if st := msiToken(t, c.s, secret); st != http.StatusOK {
		t.Fatalf("the secret the console showed: %d", st)
	}
	browser.Run(t, c.ctx, browser.WaitVisible("#revoke-"+reg.NodeID), browser.Click("#revoke-"+reg.NodeID), browser.WaitVisible("#node-revoked"),
		browser.WaitFor(`!document.getElementById("revoke-`+reg.NodeID+`")`))
	r = c.s.ARM(t, admin, "POST", compute+"/listNodes?api-version=2023-10-01", nil)
	if r.Status != http.StatusOK || strings.Contains(string(r.Raw), reg.NodeID) {
		t.Fatalf("listNodes after revoking: %d %s", r.Status, r.Raw)
	}
	if st := msiToken(t, c.s, secret); st != http.StatusUnauthorized {
		t.Fatalf("a revoked node's secret: %d", st)
	}

	// From the identities page, Check access opens with the identity chosen.
	c.goTo(t, "#/identities", "/identities")
	browser.Run(t, c.ctx, browser.Click(`#user-assigned a[aria-label="Check the access of ua-train"]`),
		browser.WaitVisible(`main[data-ready="/resources/check"]`), browser.WaitVisible("#check-principal-"+principalID+":checked"),
		browser.Submit("#check-action"), browser.WaitVisible(`#check-result li[data-decision]`))
	if txt := browser.Text(t, c.ctx, "#check-result"); !strings.HasPrefix(txt, "ua-train at subscription") {
		t.Fatalf("check access from the identities page: %q", txt)
	}

	// A Reader of the workspace may not list, rotate or revoke the compute's
	// nodes (they are actions, not reads): the page says why.
	reader := c.s.CreateUser(t, "ops", "Reader-Only-Person-1")
	c.s.Assign(t, ws, testserver.RoleReader, reader.ID)
	signInAgain(t, c, reader.UPN, reader.Password)
	c.goTo(t, "#/resources?id="+url.QueryEscape(compute), "/resources")
	if why := browser.Text(t, c.ctx, "#nodes-denied"); !strings.Contains(why, "computes/listNodes/action") {
		t.Fatalf("a Reader is told %q about the nodes", why)
	}
}
