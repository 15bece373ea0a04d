// Command managed-identity is the guide's managed identity workflow: code
// on a compute node signs in as the compute's identity, with no secret
// anywhere, and reads the workspace config.json names.
//
//	go build -o mi ./examples/managed-identity
//	tessera compute run --workspace ws1 --compute cpu -- ./mi -config ./config.json
//
// `tessera compute run` registers the process as a node of the compute and
// gives it the managed-identity endpoint (MSI_ENDPOINT, IDENTITY_ENDPOINT):
// credential.NewDefault's managed-identity link answers there. With
// -client-id the program asks azidentity's ManagedIdentityCredential for a
// user-assigned identity attached to the compute instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/tessera-id/tessera/examples/internal/show"
	"github.com/tessera-id/tessera/sdk/credential"
)

func main() {
	configPath := flag.String("config", "", "config.json, or the directory to search from (default: the working directory and its parents)")
	clientID := flag.String("client-id", "", "client id of a user-assigned identity attached to the compute (default: the chain, i.e. the compute's system-assigned or default identity)")
	flag.Parse()
	if err := run(*configPath, *clientID); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(configPath, clientID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var (
		cred azcore.TokenCredential
		cfg  credential.Config
		err  error
	)
	if clientID == "" {
		cred, cfg, err = credential.NewDefault(nil)
	} else if cfg, err = credential.Resolve(nil); err == nil {
		cred, err = azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
			ClientOptions: cfg.ClientOptions, ID: azidentity.ClientID(clientID),
		})
	}
	if err != nil {
		return err
	}
	_, _, err = show.SignInAndWorkspace(ctx, os.Stdout, cred, cfg, configPath)
	return err
}
