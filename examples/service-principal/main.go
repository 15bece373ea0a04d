// Command service-principal is the guide's service principal workflow:
// automation signs in with an application's secret, reads the workspace
// config.json names, and does only what its role allows.
//
//	tessera ad sp create-for-rbac --name ml-auth --role "AzureML Data Scientist" --scopes "$WS" > ml-auth.json
//	eval "$(tessera env --service-principal ml-auth.json)"   # AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID=adfs
//	go run ./examples/service-principal -config ./config.json -try-create-compute gpu
//
// It builds azidentity's ClientSecretCredential explicitly, pointed at
// Tessera (credential.Resolve) with instance discovery off. The same
// variables also make credential.NewDefault's environment link answer.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"

	"github.com/tessera-id/tessera/examples/internal/show"
	"github.com/tessera-id/tessera/sdk/credential"
)

func main() {
	configPath := flag.String("config", "", "config.json, or the directory to search from (default: the working directory and its parents)")
	tryCompute := flag.String("try-create-compute", "", "also try to create a compute of this name, and report whether the role allows it")
	flag.Parse()
	if err := run(*configPath, *tryCompute); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(configPath, tryCompute string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := credential.Resolve(nil) // TESSERA_URL or AZURE_AUTHORITY_HOST; AZURE_TENANT_ID (default adfs)
	if err != nil {
		return err
	}
	clientID, secret := os.Getenv("AZURE_CLIENT_ID"), os.Getenv("AZURE_CLIENT_SECRET")
	if clientID == "" || secret == "" {
		return errors.New("set AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (eval \"$(tessera env --service-principal ml-auth.json)\")")
	}
	cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: cfg.ClientOptions, DisableInstanceDiscovery: true,
	})
	if err != nil {
		return err
	}
	ws, w, err := show.SignInAndWorkspace(ctx, os.Stdout, cred, cfg, configPath)
	if err != nil {
		return err
	}
	computes, err := ws.Computes().List(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("computes: %d\n", len(computes))
	for _, c := range computes {
		fmt.Printf("  %s\n", *c.Name)
	}
	if tryCompute == "" {
		return nil
	}
	_, err = ws.Computes().CreateOrUpdate(ctx, tryCompute, armmachinelearning.ComputeResource{
		Location: w.Location,
		Properties: &armmachinelearning.AmlCompute{ComputeType: to.Ptr(armmachinelearning.ComputeTypeAmlCompute),
			Properties: &armmachinelearning.AmlComputeProperties{VMSize: to.Ptr("STANDARD_NC6")}},
	})
	var re *azcore.ResponseError
	switch {
	case err == nil:
		fmt.Printf("create compute %s: allowed\n", tryCompute)
	case errors.As(err, &re) && re.StatusCode == 403:
		fmt.Printf("create compute %s: refused (%d %s), as the role intends\n", tryCompute, re.StatusCode, re.ErrorCode)
	default:
		return err
	}
	return nil
}
