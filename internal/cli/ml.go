package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/sdk/workspace"
)

// The ML verbs: tessera ml workspace|compute, az ml's nouns and flags over
// sdk/workspace (the Azure SDK for Go's armmachinelearning clients).

func mlCommand() *cobra.Command {
	ml := &cobra.Command{Use: "ml", Short: "Manage Azure Machine Learning workspaces and their computes"}
	ml.AddCommand(mlWorkspaceCommand(), mlComputeCommand())
	return ml
}

// wsTarget says which subscription, resource group and workspace a verb
// acts on. Unset values come from the environment and then from the
// workspace configuration (config.json) MLClient.from_config would find
// from the working directory.
type wsTarget struct {
	subscription, resourceGroup, workspace string
}

func (f *wsTarget) bind(cmd *cobra.Command, workspaceFlag bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.subscription, "subscription", "", "subscription id (default $AZURE_SUBSCRIPTION_ID, config.json, or the only one you can see)")
	fl.StringVarP(&f.resourceGroup, "resource-group", "g", "", "resource group (default: config.json's)")
	if workspaceFlag {
		fl.StringVarP(&f.workspace, "workspace-name", "w", "", "workspace name (default: config.json's)")
	}
}

// resolve fills the target. needGroup and needWorkspace say what the verb
// cannot do without.
func (f *wsTarget) resolve(ctx context.Context, s *session, needGroup, needWorkspace bool) error {
	if f.subscription == "" {
		f.subscription = os.Getenv("AZURE_SUBSCRIPTION_ID")
	}
	chosen := chosenSubscription()
	if (needGroup && f.resourceGroup == "") || (needWorkspace && f.workspace == "") || f.subscription == "" {
		if c, err := workspace.FindConfig("", ""); err == nil && (f.subscription == "" || strings.EqualFold(f.subscription, c.SubscriptionID)) {
			f.subscription = c.SubscriptionID
			if f.resourceGroup == "" {
				f.resourceGroup = c.ResourceGroup
			}
			if f.workspace == "" && needWorkspace {
				f.workspace = c.WorkspaceName
			}
		}
	}
	if f.subscription == "" {
		f.subscription = chosen
	}
	if f.subscription == "" {
		sub, err := workspace.DefaultSubscription(ctx, s.cred, workspace.WithConfig(s.cfg))
		if err != nil {
			return fmt.Errorf("%w (--subscription)", err)
		}
		f.subscription = sub
	}
	var missing []string
	if needGroup && f.resourceGroup == "" {
		missing = append(missing, "--resource-group/-g")
	}
	if needWorkspace && f.workspace == "" {
		missing = append(missing, "--workspace-name/-w")
	}
	if len(missing) > 0 {
		return fmt.Errorf("give %s (or run in a directory with the workspace's config.json)", strings.Join(missing, " and "))
	}
	return nil
}

func (f *wsTarget) client(ctx context.Context) (*workspace.Client, *session, error) {
	s, err := newSession()
	if err != nil {
		return nil, nil, err
	}
	if err := f.resolve(ctx, s, true, true); err != nil {
		return nil, nil, err
	}
	ws, err := workspace.New(s.cred, f.subscription, f.resourceGroup, f.workspace, workspace.WithConfig(s.cfg))
	return ws, s, err
}

func mlWorkspaceCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "workspace", Short: "Manage workspaces"}
	var lt wsTarget
	list := &cobra.Command{
		Use:   "list",
		Short: "List the workspaces of a resource group, or of the subscription",
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := newSession()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if err := lt.resolve(ctx, s, false, false); err != nil {
				return err
			}
			w, err := workspace.NewWorkspaces(s.cred, lt.subscription, workspace.WithConfig(s.cfg))
			if err != nil {
				return err
			}
			out, err := w.List(ctx, lt.resourceGroup)
			var refused *azcore.ResponseError
			if errors.As(err, &refused) && refused.StatusCode == http.StatusForbidden && lt.resourceGroup != "" && !cmd.Flags().Changed("resource-group") {
				// The resource group came from config.json, and a role on
				// one workspace does not allow listing its resource group:
				// the subscription's list shows what the person may read.
				out, err = w.List(ctx, "")
				out = inResourceGroup(out, lt.resourceGroup)
			}
			if err != nil {
				return err
			}
			return printResult(cmd, out)
		},
	}
	lt.bind(list, false)

	var st wsTarget
	var writeConfig string
	show := &cobra.Command{
		Use:   "show",
		Short: "Show a workspace (and optionally write its config.json)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, _, err := st.client(cmd.Context())
			if err != nil {
				return err
			}
			w, err := ws.Get(cmd.Context())
			if err != nil {
				return err
			}
			if err := maybeWriteConfig(cmd, ws, writeConfig); err != nil {
				return err
			}
			return printResult(cmd, w)
		},
	}
	st.bind(show, false)
	show.Flags().StringVarP(&st.workspace, "name", "n", "", "workspace name (default: config.json's)")
	show.Flags().StringVar(&writeConfig, "write-config", "", "write the workspace's config.json to this file or directory")

	var ct wsTarget
	var location, displayName, description, identityType, createConfig string
	var tags []string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a workspace (or update one with these properties)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := newSession()
			if err != nil {
				return err
			}
			if ct.workspace == "" {
				return errors.New("give the workspace's --name/-n")
			}
			if err := ct.resolve(ctx, s, true, false); err != nil {
				return err
			}
			if location == "" {
				rgs, err := armresources.NewResourceGroupsClient(ct.subscription, s.cred, s.armOptions())
				if err != nil {
					return err
				}
				rg, err := rgs.Get(ctx, ct.resourceGroup, nil)
				if err != nil {
					return err
				}
				location = *rg.Location
			}
			w := armmachinelearning.Workspace{
				Location:   to.Ptr(location),
				Tags:       tagMap(tags),
				Properties: &armmachinelearning.WorkspaceProperties{FriendlyName: to.Ptr(firstNonEmpty(displayName, ct.workspace))},
			}
			if description != "" {
				w.Properties.Description = to.Ptr(description)
			}
			if identityType != "" && !strings.EqualFold(identityType, "None") {
				w.Identity = &armmachinelearning.ManagedServiceIdentity{Type: to.Ptr(armmachinelearning.ManagedServiceIdentityType(identityType))}
			}
			wss, err := workspace.NewWorkspaces(s.cred, ct.subscription, workspace.WithConfig(s.cfg))
			if err != nil {
				return err
			}
			out, err := wss.CreateOrUpdate(ctx, ct.resourceGroup, ct.workspace, w)
			if err != nil {
				return err
			}
			ws, err := workspace.New(s.cred, ct.subscription, ct.resourceGroup, ct.workspace, workspace.WithConfig(s.cfg))
			if err != nil {
				return err
			}
			if err := maybeWriteConfig(cmd, ws, createConfig); err != nil {
				return err
			}
			return printResult(cmd, out)
		},
	}
	ct.bind(create, false)
	cf := create.Flags()
	cf.StringVarP(&ct.workspace, "name", "n", "", "workspace name")
	cf.StringVarP(&location, "location", "l", "", "location (default: the resource group's)")
	cf.StringVar(&displayName, "display-name", "", "friendly name (default: the name)")
	cf.StringVar(&description, "description", "", "description")
	cf.StringVar(&identityType, "identity-type", "SystemAssigned", "managed identity: SystemAssigned or None")
	cf.StringSliceVar(&tags, "tags", nil, "tags, key=value (space or comma separated)")
	cf.StringVar(&createConfig, "write-config", "", "write the workspace's config.json to this file or directory")

	var dt wsTarget
	del := &cobra.Command{
		Use:   "delete",
		Short: "Delete a workspace and everything it holds",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := newSession()
			if err != nil {
				return err
			}
			if dt.workspace == "" {
				return errors.New("give the workspace's --name/-n")
			}
			if err := dt.resolve(ctx, s, true, false); err != nil {
				return err
			}
			wss, err := workspace.NewWorkspaces(s.cred, dt.subscription, workspace.WithConfig(s.cfg))
			if err != nil {
				return err
			}
			return wss.Delete(ctx, dt.resourceGroup, dt.workspace)
		},
	}
	dt.bind(del, false)
	del.Flags().StringVarP(&dt.workspace, "name", "n", "", "workspace name")
	_ = del.Flags().Bool("yes", false, "do not prompt (tessera never prompts; accepted for az compatibility)")

	cmd.AddCommand(list, show, create, del)
	return cmd
}

func maybeWriteConfig(cmd *cobra.Command, ws *workspace.Client, path string) error {
	if path == "" {
		return nil
	}
	written, err := ws.Config().Write(path)
	if err != nil {
		return fmt.Errorf("write config.json: %w", err)
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "Wrote", written)
	return nil
}

func tagMap(tags []string) map[string]*string {
	if len(tags) == 0 {
		return nil
	}
	m := map[string]*string{}
	for _, t := range tags {
		k, v, _ := strings.Cut(t, "=")
		m[k] = to.Ptr(v)
	}
	return m
}

func mlComputeCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "compute", Short: "Manage a workspace's computes"}
	var lt wsTarget
	list := &cobra.Command{
		Use:   "list",
		Short: "List the workspace's computes",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, _, err := lt.client(cmd.Context())
			if err != nil {
				return err
			}
			out, err := ws.Computes().List(cmd.Context())
			if err != nil {
				return err
			}
			return printResult(cmd, out)
		},
	}
	lt.bind(list, true)

	var name string
	var st wsTarget
	show := &cobra.Command{
		Use:   "show",
		Short: "Show a compute",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, _, err := st.client(cmd.Context())
			if err != nil {
				return err
			}
			out, err := ws.Computes().Get(cmd.Context(), name)
			if err != nil {
				return err
			}
			return printResult(cmd, out)
		},
	}
	st.bind(show, true)
	show.Flags().StringVarP(&name, "name", "n", "", "compute name")
	_ = show.MarkFlagRequired("name")

	var ct wsTarget
	var cname, ctype, size, location, identityType, description string
	var minNodes, maxNodes int32
	var userAssigned []string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a compute (AmlCompute cluster or ComputeInstance)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			ws, _, err := ct.client(ctx)
			if err != nil {
				return err
			}
			if location == "" {
				w, err := ws.Get(ctx)
				if err != nil {
					return err
				}
				location = *w.Location
			}
			c := armmachinelearning.ComputeResource{Location: to.Ptr(location)}
			switch strings.ToLower(ctype) {
			case "amlcompute":
				p := &armmachinelearning.AmlCompute{ComputeType: to.Ptr(armmachinelearning.ComputeTypeAmlCompute),
					Properties: &armmachinelearning.AmlComputeProperties{VMSize: to.Ptr(size), OSType: to.Ptr(armmachinelearning.OsTypeLinux),
						ScaleSettings: &armmachinelearning.ScaleSettings{MinNodeCount: to.Ptr(minNodes), MaxNodeCount: to.Ptr(maxNodes)}}}
				if description != "" {
					p.Description = to.Ptr(description)
				}
				c.Properties = p
			case "computeinstance":
				p := &armmachinelearning.ComputeInstance{ComputeType: to.Ptr(armmachinelearning.ComputeTypeComputeInstance),
					Properties: &armmachinelearning.ComputeInstanceProperties{VMSize: to.Ptr(size)}}
				if description != "" {
					p.Description = to.Ptr(description)
				}
				c.Properties = p
			default:
				return fmt.Errorf("--type %q: use AmlCompute or ComputeInstance", ctype)
			}
			if len(userAssigned) > 0 && identityType == "" {
				identityType = string(armmachinelearning.ManagedServiceIdentityTypeUserAssigned)
			}
			if identityType != "" && !strings.EqualFold(identityType, "None") {
				c.Identity = &armmachinelearning.ManagedServiceIdentity{Type: to.Ptr(armmachinelearning.ManagedServiceIdentityType(identityType))}
				if len(userAssigned) > 0 {
					c.Identity.UserAssignedIdentities = map[string]*armmachinelearning.UserAssignedIdentity{}
					for _, id := range userAssigned {
						c.Identity.UserAssignedIdentities[id] = &armmachinelearning.UserAssignedIdentity{}
					}
				}
			}
			out, err := ws.Computes().CreateOrUpdate(ctx, cname, c)
			if err != nil {
				return err
			}
			return printResult(cmd, out)
		},
	}
	ct.bind(create, true)
	cf := create.Flags()
	cf.StringVarP(&cname, "name", "n", "", "compute name")
	cf.StringVarP(&ctype, "type", "t", "AmlCompute", "AmlCompute or ComputeInstance")
	cf.StringVar(&size, "size", "STANDARD_DS3_V2", "VM size")
	cf.Int32Var(&minNodes, "min-instances", 0, "minimum nodes (AmlCompute)")
	cf.Int32Var(&maxNodes, "max-instances", 2, "maximum nodes (AmlCompute)")
	cf.StringVarP(&location, "location", "l", "", "location (default: the workspace's)")
	cf.StringVar(&description, "description", "", "description")
	cf.StringVar(&identityType, "identity-type", "", "SystemAssigned, UserAssigned, \"SystemAssigned,UserAssigned\" or None")
	cf.StringSliceVar(&userAssigned, "user-assigned-identities", nil, "ids of user-assigned identities to attach")
	_ = create.MarkFlagRequired("name")

	var dname string
	var dt wsTarget
	del := &cobra.Command{
		Use:   "delete",
		Short: "Delete a compute",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, _, err := dt.client(cmd.Context())
			if err != nil {
				return err
			}
			return ws.Computes().Delete(cmd.Context(), dname)
		},
	}
	dt.bind(del, true)
	del.Flags().StringVarP(&dname, "name", "n", "", "compute name")
	_ = del.Flags().Bool("yes", false, "do not prompt (accepted for az compatibility)")
	_ = del.MarkFlagRequired("name")

	cmd.AddCommand(list, show, create, del)
	return cmd
}

// inResourceGroup keeps the workspaces of one resource group.
func inResourceGroup(wss []*armmachinelearning.Workspace, group string) []*armmachinelearning.Workspace {
	out := []*armmachinelearning.Workspace{}
	for _, w := range wss {
		if w.ID != nil && strings.Contains(strings.ToLower(*w.ID), "/resourcegroups/"+strings.ToLower(group)+"/") {
			out = append(out, w)
		}
	}
	return out
}
