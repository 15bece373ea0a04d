package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// writeSPEnv prints the export lines that make the SDKs' environment
// credential sign in as the service principal of a credentials file: what
// `tessera ad sp create-for-rbac` (or az's) printed, plain or --sdk-auth.
// AZURE_TENANT_ID stays the adfs alias `tessera env` sets: the service
// principal's home tenant is found from its app id, and MSAL-based clients
// skip instance discovery for it.
func writeSPEnv(w io.Writer, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--service-principal: %w", err)
	}
	var f struct {
		AppID        string `json:"appId"`
		Password     string `json:"password"`
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	id, secret := firstNonEmpty(f.AppID, f.ClientID), firstNonEmpty(f.Password, f.ClientSecret)
	if id == "" || secret == "" {
		return errors.New(path + " holds no appId and password (the output of `tessera ad sp create-for-rbac`)")
	}
	_, err = fmt.Fprintf(w, "export AZURE_CLIENT_ID=%s\nexport AZURE_CLIENT_SECRET=%s\n", shellQuote(id), shellQuote(secret))
	return err
}
