// Package cli holds Tessera's client verbs. It talks to a Tessera server
// only as a client would; it never imports the server's internals.
package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// Root returns the tessera command with the client verbs; the server verbs
// are added by cmd/tessera.
func Root() *cobra.Command {
	root := &cobra.Command{
		Use:           "tessera",
		Short:         "Tessera: identity and access for machine-learning workspaces",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(envCommand(), roleCommand(), adCommand())
	root.AddCommand(computeCommand(), nodeCommand())
	root.AddCommand(mlCommand(), groupCommand())
	root.AddCommand(loginCommand(), logoutCommand(), accountCommand(), caCommand(), signinsCommand())
	addOutputFlags(root)
	return root
}

// bootstrapInfo is the part of bootstrap.json the client verbs read.
type bootstrapInfo struct {
	URL                   string `json:"url"`
	TenantID              string `json:"tenantId"`
	Domain                string `json:"domain"`
	SubscriptionID        string `json:"subscriptionId"`
	CAFile                string `json:"caFile"`
	AdminServicePrincipal struct {
		AppID string `json:"appId"`
	} `json:"adminServicePrincipal"`
}

func readBootstrap(dataDir string) (bootstrapInfo, error) {
	var b bootstrapInfo
	path := filepath.Join(dataDir, "bootstrap.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return b, fmt.Errorf("read %s (start `tessera serve` once to create it): %w", path, err)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("parse %s: %w", path, err)
	}
	return b, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
