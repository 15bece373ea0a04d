// Command goclient is Azure code as its authors write it for the public
// cloud: DefaultAzureCredential with no options and a resource manager
// client with default options. verbatim_test.go runs it where the public
// cloud's names resolve to Tessera (tessera serve --public-cloud-names).
//
// Input: COMPAT_SUBSCRIPTION_ID, the subscription whose resource groups it
// lists. The credential reads AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and
// AZURE_TENANT_ID, as it does anywhere. It prints one JSON line:
// {"groups":[names],"token":"<ARM access token>"} or {"error":"..."}.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

func main() {
	out := map[string]any{}
	if err := run(out); err != nil {
		out = map[string]any{"error": err.Error()}
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	if _, failed := out["error"]; failed {
		os.Exit(1)
	}
}

func run(out map[string]any) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return err
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil {
		return err
	}
	out["token"] = tok.Token
	client, err := armresources.NewResourceGroupsClient(os.Getenv("COMPAT_SUBSCRIPTION_ID"), cred, nil)
	if err != nil {
		return err
	}
	groups := []string{}
	for pager := client.NewListPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, g := range page.Value {
			groups = append(groups, *g.Name)
		}
	}
	out["groups"] = groups
	return nil
}
