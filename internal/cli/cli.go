// Package cli holds Tessera's client verbs. It talks to a Tessera server
// only as a client would; it never imports the server's internals.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

func envCommand() *cobra.Command {
	var dataDir, spFile string
	var azOnly bool
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print the shell lines that point the Azure SDKs and CLI at this Tessera",
		Long: `Prints export lines for the CA bundle variables (REQUESTS_CA_BUNDLE, SSL_CERT_FILE,
NODE_EXTRA_CA_CERTS), AZURE_AUTHORITY_HOST and AZURE_TENANT_ID, and the az cloud register
line. Use it as: eval "$(tessera env)".`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spFile != "" && azOnly {
				return errors.New("--service-principal prints SDK variables; it does not go with --az")
			}
			b, err := readBootstrap(dataDir)
			if err != nil {
				return err
			}
			if err := writeEnv(cmd.OutOrStdout(), b, azOnly); err != nil {
				return err
			}
			if spFile != "" {
				return writeSPEnv(cmd.OutOrStdout(), spFile)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", envOr("TESSERA_DATA_DIR", "./tessera-data"), "Tessera data directory holding bootstrap.json")
	cmd.Flags().BoolVar(&azOnly, "az", false, "print only the Azure CLI lines")
	cmd.Flags().StringVar(&spFile, "service-principal", "", "also sign the SDKs in as the service principal of this credentials file (the output of `tessera ad sp create-for-rbac`)")
	return cmd
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func writeEnv(w io.Writer, b bootstrapInfo, azOnly bool) error {
	var lines []string
	if b.CAFile != "" {
		ca := shellQuote(b.CAFile)
		lines = append(lines,
			"export REQUESTS_CA_BUNDLE="+ca,
			"export SSL_CERT_FILE="+ca,
			"export NODE_EXTRA_CA_CERTS="+ca,
			"export TESSERA_CA_FILE="+ca,
		)
	}
	if !azOnly {
		lines = append(lines,
			"export AZURE_AUTHORITY_HOST="+shellQuote(b.URL),
			"# MSAL-based clients skip instance discovery for the ADFS-style tenant alias.",
			"export AZURE_TENANT_ID=adfs",
			"export TESSERA_URL="+shellQuote(b.URL),
			"export TESSERA_TENANT_ID="+shellQuote(b.TenantID),
			"export AZUREML_DEV_URL_MFE="+shellQuote(b.URL),
		)
	}
	cloud := fmt.Sprintf(`{"endpoints":{"resourceManager":"%s/","microsoftGraphResourceId":"%s/graph/"}}`, b.URL, b.URL)
	lines = append(lines,
		// Only where az is installed: a shell without it evaluates the rest
		// without errors.
		"if command -v az >/dev/null 2>&1; then",
		"  az cloud register -n Tessera --cloud-config "+shellQuote(cloud)+" 2>/dev/null || az cloud update -n Tessera --cloud-config "+shellQuote(cloud),
		"  az cloud set -n Tessera",
		"fi",
	)
	_, err := fmt.Fprintln(w, strings.Join(lines, "\n"))
	return err
}
