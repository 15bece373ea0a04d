// Package show prints what the examples found: who the token says the
// program is, and the workspace.
package show

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"

	"github.com/tessera-id/tessera/sdk/credential"
	"github.com/tessera-id/tessera/sdk/workspace"
)

// SignInAndWorkspace is what every example does first. It asks cred for a
// token now, as the guide does, so that a failed sign-in shows here rather
// than at the first request (credential.ManagementToken asks the way the
// resource manager clients will, so a browser opens only once), and prints
// whom the token names. It then opens the workspace of config.json
// (configPath, or the working directory and its parents) and prints it.
func SignInAndWorkspace(ctx context.Context, out io.Writer, cred azcore.TokenCredential, cfg credential.Config,
	configPath string) (*workspace.Client, *armmachinelearning.Workspace, error) {
	tok, err := credential.ManagementToken(ctx, cred)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(out, "signed in as", Whoami(tok.Token))
	ws, err := workspace.FromConfig(cred, configPath, workspace.WithConfig(cfg))
	if err != nil {
		return nil, nil, err
	}
	w, err := ws.Get(ctx)
	if err != nil {
		return nil, nil, err
	}
	Workspace(out, w)
	return ws, w, nil
}

// Whoami describes the principal of an access token from its claims. The
// token is not verified here: it came over TLS from the server the program
// trusts, and this is for display only.
func Whoami(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "an opaque token"
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "an unreadable token"
	}
	var c struct {
		IDType string `json:"idtyp"`
		UPN    string `json:"upn"`
		AppID  string `json:"appid"`
		OID    string `json:"oid"`
		Tenant string `json:"tid"`
		MIRID  string `json:"xms_mirid"`
	}
	_ = json.Unmarshal(b, &c)
	switch {
	case c.MIRID != "":
		return fmt.Sprintf("managed identity of %s (object id %s)", c.MIRID, c.OID)
	case c.UPN != "":
		return fmt.Sprintf("user %s (object id %s, tenant %s)", c.UPN, c.OID, c.Tenant)
	}
	return fmt.Sprintf("%s %s (object id %s, tenant %s)", firstNonEmpty(c.IDType, "app"), c.AppID, c.OID, c.Tenant)
}

// Workspace prints a workspace's name, id and location.
func Workspace(w io.Writer, ws *armmachinelearning.Workspace) {
	fmt.Fprintf(w, "workspace %s\n  id:       %s\n  location: %s\n", deref(ws.Name), deref(ws.ID), deref(ws.Location))
	if ws.Properties != nil {
		fmt.Fprintf(w, "  friendly: %s\n", deref(ws.Properties.FriendlyName))
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
