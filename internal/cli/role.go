package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/sdk/credential"
	"github.com/tessera-id/tessera/sdk/directory"
)

// session is what every ARM verb needs: a credential and where Tessera is.
type session struct {
	cred azcore.TokenCredential
	cfg  credential.Config
}

func newSession() (*session, error) {
	cred, cfg, err := credential.NewDefault(nil)
	if err != nil {
		return nil, err
	}
	return &session{cred: cred, cfg: cfg}, nil
}

func (s *session) armOptions() *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: s.cfg.ClientOptions}
}

// armScope is the scope argument the generated clients expect: no leading slash.
func armScope(scope string) string { return strings.TrimPrefix(scope, "/") }

func roleCommand() *cobra.Command {
	role := &cobra.Command{Use: "role", Short: "Manage role-based access control: assignments, definitions, checks"}
	role.AddCommand(roleAssignmentCommand(), roleDefinitionCommand(), roleCheckCommand())
	return role
}

func roleAssignmentCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "assignment", Short: "Manage role assignments"}
	var assignee, roleName, scope, description string
	create := &cobra.Command{
		Use:   "create",
		Short: "Assign a role to a user, group or service principal at a scope",
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := newSession()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			principal, err := directory.New(s.cfg.URL, s.cred, s.cfg.ClientOptions).ResolvePrincipal(ctx, assignee)
			if err != nil {
				return err
			}
			def, err := s.findRole(ctx, scope, roleName)
			if err != nil {
				return err
			}
			client, err := armauthorization.NewRoleAssignmentsClient("", s.cred, s.armOptions())
			if err != nil {
				return err
			}
			props := &armauthorization.RoleAssignmentProperties{RoleDefinitionID: def.ID, PrincipalID: to.Ptr(principal.ID)}
			if principal.Type != "" {
				props.PrincipalType = to.Ptr(armauthorization.PrincipalType(principal.Type))
			}
			if description != "" {
				props.Description = to.Ptr(description)
			}
			resp, err := client.Create(ctx, armScope(scope), uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{Properties: props}, nil)
			if err != nil {
				return err
			}
			return printResult(cmd, azFlattened{resp.RoleAssignment})
		},
	}
	create.Flags().StringVar(&assignee, "assignee", "", "user principal name, app id, identifier URI or object id")
	create.Flags().StringVar(&roleName, "role", "", "role name or id")
	create.Flags().StringVar(&scope, "scope", "", "scope, e.g. /subscriptions/{id}/resourceGroups/{rg}")
	create.Flags().StringVar(&description, "description", "", "why the assignment exists")
	for _, f := range []string{"assignee", "role", "scope"} {
		_ = create.MarkFlagRequired(f)
	}

	var lf assignmentFilter
	list := &cobra.Command{
		Use:   "list",
		Short: "List role assignments, with role and principal names (default: at the default subscription's scope)",
		Long: `Lists role assignments as az role assignment list does: those at the scope (--scope, -g, or the
default subscription), with --include-inherited also those above it, with --all also those below it.
--assignee and --role narrow the list. Each assignment carries roleDefinitionName and principalName.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := lf.list(cmd.Context())
			if err != nil {
				return err
			}
			return printResult(cmd, out)
		},
	}
	lf.bind(list)
	list.Flags().BoolVar(&lf.all, "all", false, "also assignments below the scope (resource groups, workspaces, ...)")
	list.Flags().BoolVar(&lf.inherited, "include-inherited", false, "also assignments above the scope")
	list.Flags().BoolVar(&lf.groups, "include-groups", false, "with --assignee, also assignments to the groups it is a member of")

	var ids []string
	var df assignmentFilter
	del := &cobra.Command{
		Use:   "delete",
		Short: "Delete role assignments by id, or those at a scope matching --assignee and --role",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(ids) == 0 && df.assignee == "" && df.role == "" {
				return usageErrorf("give --ids, or at least one of --assignee and --role (with --scope or -g)")
			}
			s, err := newSession()
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				found, err := df.list(cmd.Context())
				if err != nil {
					return err
				}
				if len(found) == 0 {
					return errors.New("no role assignment at the scope matches --assignee and --role")
				}
				for _, a := range found {
					ids = append(ids, a.ID)
				}
			}
			client, err := armauthorization.NewRoleAssignmentsClient("", s.cred, s.armOptions())
			if err != nil {
				return err
			}
			for _, id := range ids {
				if _, err := client.DeleteByID(cmd.Context(), armScope(id), nil); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Deleted %s\n", id)
			}
			return nil
		},
	}
	del.Flags().StringSliceVar(&ids, "ids", nil, "full role assignment ids")
	df.bind(del)
	cmd.AddCommand(create, list, del)
	return cmd
}

// findRole resolves a role name or id visible at scope.
func (s *session) findRole(ctx context.Context, scope, nameOrID string) (*armauthorization.RoleDefinition, error) {
	client, err := armauthorization.NewRoleDefinitionsClient(s.cred, s.armOptions())
	if err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(nameOrID); err == nil {
		resp, err := client.Get(ctx, armScope(scope), nameOrID, nil)
		if err != nil {
			return nil, err
		}
		return &resp.RoleDefinition, nil
	}
	pager := client.NewListPager(armScope(scope), &armauthorization.RoleDefinitionsClientListOptions{Filter: to.Ptr("roleName eq '" + strings.ReplaceAll(nameOrID, "'", "''") + "'")})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		if len(page.Value) > 0 {
			return page.Value[0], nil
		}
	}
	return nil, fmt.Errorf("role %q does not exist at scope %s", nameOrID, scope)
}

func roleDefinitionCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "definition", Short: "Manage role definitions"}
	var scope, name string
	var customOnly bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the role definitions available at a scope",
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := newSession()
			if err != nil {
				return err
			}
			client, err := armauthorization.NewRoleDefinitionsClient(s.cred, s.armOptions())
			if err != nil {
				return err
			}
			opts := &armauthorization.RoleDefinitionsClientListOptions{}
			if customOnly {
				opts.Filter = to.Ptr("type eq 'CustomRole'")
			}
			out := []*armauthorization.RoleDefinition{}
			pager := client.NewListPager(armScope(scope), opts)
			for pager.More() {
				page, err := pager.NextPage(cmd.Context())
				if err != nil {
					return err
				}
				for _, d := range page.Value {
					if name == "" || (d.Properties != nil && strings.EqualFold(*d.Properties.RoleName, name)) {
						out = append(out, d)
					}
				}
			}
			return printResult(cmd, azFlattened{out})
		},
	}
	list.Flags().StringVar(&scope, "scope", "/", "scope")
	list.Flags().StringVar(&name, "name", "", "only the role with this name")
	list.Flags().BoolVar(&customOnly, "custom-role-only", false, "only custom roles")

	show := &cobra.Command{
		Use:   "show NAME-OR-ID",
		Short: "Show one role definition",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := newSession()
			if err != nil {
				return err
			}
			d, err := s.findRole(cmd.Context(), scope, args[0])
			if err != nil {
				return err
			}
			return printResult(cmd, azFlattened{d})
		},
	}
	show.Flags().StringVar(&scope, "scope", "/", "scope")

	var definition string
	upsert := func(update bool) func(cmd *cobra.Command, _ []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			s, err := newSession()
			if err != nil {
				return err
			}
			raw := []byte(definition)
			if strings.HasPrefix(definition, "@") {
				if raw, err = os.ReadFile(definition[1:]); err != nil {
					return err
				}
			}
			// The az role definition file format: Name, Description, Actions, NotActions,
			// DataActions, NotDataActions, AssignableScopes (and Id for updates).
			var in struct {
				ID, Name, Description                            string
				Actions, NotActions, DataActions, NotDataActions []string
				AssignableScopes                                 []string
			}
			if err := json.Unmarshal(raw, &in); err != nil {
				return fmt.Errorf("parse role definition: %w", err)
			}
			if len(in.AssignableScopes) == 0 {
				return fmt.Errorf("the role definition needs AssignableScopes")
			}
			client, err := armauthorization.NewRoleDefinitionsClient(s.cred, s.armOptions())
			if err != nil {
				return err
			}
			id := in.ID
			if update && id == "" {
				d, err := s.findRole(cmd.Context(), in.AssignableScopes[0], in.Name)
				if err != nil {
					return err
				}
				id = *d.Name
			}
			if id == "" {
				id = uuid.NewString()
			}
			def := armauthorization.RoleDefinition{Properties: &armauthorization.RoleDefinitionProperties{
				RoleName: to.Ptr(in.Name), Description: to.Ptr(in.Description), RoleType: to.Ptr("CustomRole"),
				AssignableScopes: to.SliceOfPtrs(in.AssignableScopes...),
				Permissions: []*armauthorization.Permission{{Actions: to.SliceOfPtrs(in.Actions...), NotActions: to.SliceOfPtrs(in.NotActions...),
					DataActions: to.SliceOfPtrs(in.DataActions...), NotDataActions: to.SliceOfPtrs(in.NotDataActions...)}},
			}}
			resp, err := client.CreateOrUpdate(cmd.Context(), armScope(in.AssignableScopes[0]), id, def, nil)
			if err != nil {
				return err
			}
			return printResult(cmd, azFlattened{resp.RoleDefinition})
		}
	}
	create := &cobra.Command{Use: "create", Short: "Create a custom role", RunE: upsert(false)}
	create.Flags().StringVar(&definition, "role-definition", "", "JSON or @file in az's role definition format")
	_ = create.MarkFlagRequired("role-definition")
	update := &cobra.Command{Use: "update", Short: "Update a custom role", RunE: upsert(true)}
	update.Flags().StringVar(&definition, "role-definition", "", "JSON or @file in az's role definition format")
	_ = update.MarkFlagRequired("role-definition")

	del := &cobra.Command{
		Use:   "delete NAME-OR-ID",
		Short: "Delete a custom role that no assignment uses",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := newSession()
			if err != nil {
				return err
			}
			d, err := s.findRole(cmd.Context(), scope, args[0])
			if err != nil {
				return err
			}
			client, err := armauthorization.NewRoleDefinitionsClient(s.cred, s.armOptions())
			if err != nil {
				return err
			}
			if _, err := client.Delete(cmd.Context(), armScope(scope), *d.Name, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted role %s (%s)\n", *d.Properties.RoleName, *d.Name)
			return nil
		},
	}
	del.Flags().StringVar(&scope, "scope", "/", "scope the role is visible at")
	cmd.AddCommand(list, show, create, update, del)
	return cmd
}

func roleCheckCommand() *cobra.Command {
	var assignee, action, scope string
	var data bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Say whether a principal may perform an action at a scope, and why",
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := newSession()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			p, err := directory.New(s.cfg.URL, s.cred, s.cfg.ClientOptions).ResolvePrincipal(ctx, assignee)
			if err != nil {
				return err
			}
			res, err := s.checkAccess(ctx, scope, p.ID, action, data)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if res.AccessDecision == "Allowed" {
				fmt.Fprintf(out, "allowed: %s may perform %s at %s\n  granted by role %q through assignment %s at scope %s\n",
					assignee, action, scope, res.RoleDefinition.Properties.RoleName, res.RoleAssignment.Name, res.RoleAssignment.Properties.Scope)
				return nil
			}
			fmt.Fprintf(out, "denied: no role assignment lets %s perform %s at %s\n", assignee, action, scope)
			if len(res.SuggestedRoles) > 0 {
				names := make([]string, len(res.SuggestedRoles))
				for i, r := range res.SuggestedRoles {
					names[i] = r.RoleName
				}
				fmt.Fprintf(out, "  roles that would allow it, least privileged first: %s\n", strings.Join(names, ", "))
			}
			return errDenied
		},
	}
	cmd.Flags().StringVar(&assignee, "assignee", "", "user principal name, app id or object id")
	cmd.Flags().StringVar(&action, "action", "", "operation, e.g. Microsoft.MachineLearningServices/workspaces/computes/write")
	cmd.Flags().StringVar(&scope, "scope", "", "scope")
	cmd.Flags().BoolVar(&data, "data-action", false, "the operation is a data action")
	for _, f := range []string{"assignee", "action", "scope"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

// errDenied makes `role check` exit non-zero on a denial, for scripts.
var errDenied = fmt.Errorf("access denied")

type checkResult struct {
	AccessDecision string `json:"accessDecision"`
	RoleAssignment struct {
		Name       string `json:"name"`
		Properties struct {
			Scope string `json:"scope"`
		} `json:"properties"`
	} `json:"roleAssignment"`
	RoleDefinition struct {
		Properties struct {
			RoleName string `json:"roleName"`
		} `json:"properties"`
	} `json:"roleDefinition"`
	SuggestedRoles []struct {
		ID       string `json:"id"`
		RoleName string `json:"roleName"`
	} `json:"suggestedRoles"`
}

// checkAccess calls {scope}/providers/Microsoft.Authorization/checkAccess
// through the Azure SDK's ARM pipeline (no generated client covers it).
func (s *session) checkAccess(ctx context.Context, scope, principalID, action string, data bool) (checkResult, error) {
	client, err := arm.NewClient("tessera-cli", "v1.0.0", s.cred, s.armOptions())
	if err != nil {
		return checkResult{}, err
	}
	body, _ := json.Marshal(map[string]any{"subject": map[string]any{"principalId": principalID},
		"actions": []any{map[string]any{"id": action, "isDataAction": data}}})
	u := runtime.JoinPaths(client.Endpoint(), strings.TrimRight(scope, "/"), "providers/Microsoft.Authorization/checkAccess") + "?api-version=2022-04-01"
	req, err := runtime.NewRequest(ctx, http.MethodPost, u)
	if err != nil {
		return checkResult{}, err
	}
	if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/json"); err != nil {
		return checkResult{}, err
	}
	resp, err := client.Pipeline().Do(req)
	if err != nil {
		return checkResult{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return checkResult{}, runtime.NewResponseError(resp)
	}
	var out struct {
		Value []checkResult `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Value) != 1 {
		return checkResult{}, fmt.Errorf("decode checkAccess answer: %v", err)
	}
	return out.Value[0], nil
}
