// Command cli-session is the guide's CLI session workflow: a person signs
// in once with a CLI, and programs reuse that sign-in.
//
//	tessera login                        # or: az login (after az cloud register/set, see docs/clients.md)
//	go run ./examples/cli-session -config ./config.json
//
// -source picks the session: "tessera" reads the token cache of `tessera
// login` (credential.NewCacheCredential; no variables needed, the cache
// names the server), "az" asks the Azure CLI (azidentity's
// AzureCLICredential), and "default" lets credential.NewDefault's chain
// find whichever is there.
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
	source := flag.String("source", "default", `"tessera" (the tessera login cache), "az" (the Azure CLI) or "default" (the credential chain)`)
	flag.Parse()
	if err := run(*configPath, *source); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(configPath, source string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var (
		cred azcore.TokenCredential
		cfg  credential.Config
		err  error
	)
	switch source {
	case "default":
		cred, cfg, err = credential.NewDefault(nil)
	case "tessera":
		// Resolve takes the server's URL and CA from the cache when
		// TESSERA_URL is not set.
		if cfg, err = credential.Resolve(nil); err == nil {
			cred, err = credential.NewCacheCredential("", nil)
		}
	case "az":
		if cfg, err = credential.Resolve(nil); err == nil {
			cred, err = azidentity.NewAzureCLICredential(nil)
		}
	default:
		err = fmt.Errorf("-source %q: want default, tessera or az", source)
	}
	if err != nil {
		return err
	}
	_, _, err = show.SignInAndWorkspace(ctx, os.Stdout, cred, cfg, configPath)
	return err
}
