// Command interactive is the guide's interactive workflow: try the default
// credential chain, and when nothing in it can sign in, sign the person in
// through the browser (Tessera's login page), then read the workspace that
// config.json names.
//
//	eval "$(tessera env)"                       # TESSERA_URL and the CA
//	go run ./examples/interactive -config ./config.json
//
// In Python the same pattern is:
//
//	try:
//	    credential = DefaultAzureCredential()
//	    credential.get_token("https://management.azure.com/.default")
//	except Exception:
//	    credential = InteractiveBrowserCredential()
//
// With credential.Options.InteractiveFallback, credential.NewDefault does
// both: the chain first (environment, workload identity, managed identity,
// `tessera login`, az), then azidentity's InteractiveBrowserCredential with
// instance discovery off.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/tessera-id/tessera/examples/internal/show"
	"github.com/tessera-id/tessera/sdk/credential"
)

func main() {
	configPath := flag.String("config", "", "config.json, or the directory to search from (default: the working directory and its parents)")
	noBrowser := flag.Bool("no-browser", false, "fail instead of falling back to the browser sign-in")
	loginHint := flag.String("login-hint", "", "user name to suggest on the sign-in page")
	flag.Parse()
	if err := run(*configPath, !*noBrowser, *loginHint); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(configPath string, browser bool, loginHint string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cred, cfg, err := credential.NewDefault(&credential.Options{
		InteractiveFallback: browser,
		Interactive:         &azidentity.InteractiveBrowserCredentialOptions{LoginHint: loginHint},
	})
	if err != nil {
		return err
	}
	_, _, err = show.SignInAndWorkspace(ctx, os.Stdout, cred, cfg, configPath)
	return err
}
