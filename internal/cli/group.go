package cli

import (
	"errors"
	"time"

	armruntime "github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/spf13/cobra"
)

// pollEvery is how often the verbs poll a long-running operation that
// gives no Retry-After.
const pollEvery = time.Second

// tessera group: az group's verbs over the Azure SDK for Go's armresources
// client.

func groupCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Manage resource groups"}
	var t wsTarget
	var name, location string
	var tags []string
	client := func(cmd *cobra.Command) (*armresources.ResourceGroupsClient, error) {
		s, err := newSession()
		if err != nil {
			return nil, err
		}
		if err := t.resolve(cmd.Context(), s, false, false); err != nil {
			return nil, err
		}
		return armresources.NewResourceGroupsClient(t.subscription, s.cred, s.armOptions())
	}
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a resource group (or update its tags)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" || location == "" {
				return errors.New("give --name/-n and --location/-l")
			}
			c, err := client(cmd)
			if err != nil {
				return err
			}
			r, err := c.CreateOrUpdate(cmd.Context(), name, armresources.ResourceGroup{Location: to.Ptr(location), Tags: tagMap(tags)}, nil)
			if err != nil {
				return err
			}
			return printResult(cmd, r.ResourceGroup)
		},
	}
	show := &cobra.Command{
		Use:   "show",
		Short: "Show a resource group",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			r, err := c.Get(cmd.Context(), name, nil)
			if err != nil {
				return err
			}
			return printResult(cmd, r.ResourceGroup)
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the subscription's resource groups",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			out := []*armresources.ResourceGroup{}
			for p := c.NewListPager(nil); p.More(); {
				page, err := p.NextPage(cmd.Context())
				if err != nil {
					return err
				}
				out = append(out, page.Value...)
			}
			return printResult(cmd, out)
		},
	}
	del := &cobra.Command{
		Use:   "delete",
		Short: "Delete a resource group and everything in it",
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client(cmd)
			if err != nil {
				return err
			}
			p, err := c.BeginDelete(cmd.Context(), name, nil)
			if err != nil {
				return err
			}
			_, err = p.PollUntilDone(cmd.Context(), &armruntime.PollUntilDoneOptions{Frequency: pollEvery})
			return err
		},
	}
	for _, c := range []*cobra.Command{create, show, list, del} {
		c.Flags().StringVar(&t.subscription, "subscription", "", "subscription id (default $AZURE_SUBSCRIPTION_ID, config.json, or the only one you can see)")
		if c != list {
			c.Flags().StringVarP(&name, "name", "n", "", "resource group name")
		}
	}
	create.Flags().StringVarP(&location, "location", "l", "", "location, e.g. eastus")
	create.Flags().StringSliceVar(&tags, "tags", nil, "tags, key=value (space or comma separated)")
	_ = del.Flags().Bool("yes", false, "do not prompt (accepted for az compatibility)")
	cmd.AddCommand(create, show, list, del)
	return cmd
}
