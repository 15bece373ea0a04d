package cli

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/sdk/directory"
	"github.com/tessera-id/tessera/sdk/workspace"
)

// assignmentFilter selects role assignments as az role assignment list
// and delete do.
type assignmentFilter struct {
	scope, resourceGroup, subscription string
	assignee, role                     string
	all, inherited, groups             bool
}

func (f *assignmentFilter) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.scope, "scope", "", "scope, e.g. /subscriptions/{id}/resourceGroups/{rg} (default: the subscription's, or -g's)")
	fl.StringVarP(&f.resourceGroup, "resource-group", "g", "", "the scope is this resource group of the subscription")
	fl.StringVar(&f.subscription, "subscription", "", "subscription id (default $AZURE_SUBSCRIPTION_ID, `tessera account set`'s, or the only one you can see)")
	fl.StringVar(&f.assignee, "assignee", "", "user principal name, app id, identifier URI or object id")
	fl.StringVar(&f.role, "role", "", "role name or id")
}

// assignmentView is a role assignment as az prints it: ARM's properties
// flattened, with the role's and the principal's names.
type assignmentView struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Type               string `json:"type"`
	Scope              string `json:"scope"`
	RoleDefinitionID   string `json:"roleDefinitionId"`
	RoleDefinitionName string `json:"roleDefinitionName"`
	PrincipalID        string `json:"principalId"`
	PrincipalName      string `json:"principalName"`
	PrincipalType      string `json:"principalType"`
	Description        string `json:"description,omitempty"`
	Condition          string `json:"condition,omitempty"`
}

// resolveScope is --scope, or the resource group or subscription it names.
func (f *assignmentFilter) resolveScope(ctx context.Context, s *session) (string, error) {
	if f.scope != "" {
		if f.resourceGroup != "" {
			return "", usageErrorf("give --scope or -g, not both")
		}
		return f.scope, nil
	}
	sub := f.subscription
	if sub == "" {
		sub = chosenSubscription()
	}
	if sub == "" {
		var err error
		if sub, err = workspace.DefaultSubscription(ctx, s.cred, workspace.WithConfig(s.cfg)); err != nil {
			return "", fmt.Errorf("%w (--subscription or --scope)", err)
		}
	}
	scope := "/subscriptions/" + sub
	if f.resourceGroup != "" {
		scope += "/resourceGroups/" + f.resourceGroup
	}
	return scope, nil
}

func (f *assignmentFilter) list(ctx context.Context) ([]assignmentView, error) {
	s, err := newSession()
	if err != nil {
		return nil, err
	}
	scope, err := f.resolveScope(ctx, s)
	if err != nil {
		return nil, err
	}
	dir := directory.New(s.cfg.URL, s.cred, s.cfg.ClientOptions)
	var filter string
	if f.assignee != "" {
		p, err := dir.ResolvePrincipal(ctx, f.assignee)
		if err != nil {
			return nil, err
		}
		filter = "principalId eq '" + p.ID + "'"
		if f.groups {
			filter = "assignedTo('" + p.ID + "')"
		}
	}
	var roleID string
	if f.role != "" {
		def, err := s.findRole(ctx, scope, f.role)
		if err != nil {
			return nil, err
		}
		roleID = lastSegment(deref(def.ID))
	}
	client, err := armauthorization.NewRoleAssignmentsClient("", s.cred, s.armOptions())
	if err != nil {
		return nil, err
	}
	opts := &armauthorization.RoleAssignmentsClientListForScopeOptions{}
	if filter != "" {
		// The generated client puts $filter into the URL unencoded.
		opts.Filter = to.Ptr(strings.ReplaceAll(url.QueryEscape(filter), "+", "%20"))
	}
	var out []assignmentView
	pager := client.NewListForScopePager(armScope(scope), opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Value {
			v := flatten(a)
			if roleID != "" && !strings.EqualFold(lastSegment(v.RoleDefinitionID), roleID) {
				continue
			}
			if !f.keeps(scope, v.Scope) {
				continue
			}
			out = append(out, v)
		}
	}
	if err := s.nameAssignments(ctx, dir, scope, out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []assignmentView{}
	}
	return out, nil
}

// keeps: the scope itself always; above it with --include-inherited; below
// it with --all.
func (f *assignmentFilter) keeps(scope, at string) bool {
	scope, at = strings.ToLower(strings.TrimRight(scope, "/")), strings.ToLower(strings.TrimRight(at, "/"))
	switch {
	case at == scope:
		return true
	case strings.HasPrefix(scope, at+"/") || at == "":
		return f.inherited
	case strings.HasPrefix(at, scope+"/"):
		return f.all
	}
	return false
}

func flatten(a *armauthorization.RoleAssignment) assignmentView {
	v := assignmentView{ID: deref(a.ID), Name: deref(a.Name), Type: deref(a.Type)}
	if p := a.Properties; p != nil {
		v.Scope, v.RoleDefinitionID, v.PrincipalID = deref(p.Scope), deref(p.RoleDefinitionID), deref(p.PrincipalID)
		v.Description, v.Condition = deref(p.Description), deref(p.Condition)
		if p.PrincipalType != nil {
			v.PrincipalType = string(*p.PrincipalType)
		}
	}
	return v
}

// nameAssignments fills in role names (from the role definitions at scope)
// and principal names (from Graph's getByIds). A principal Graph does not
// know (deleted) keeps an empty name, as az shows it.
func (s *session) nameAssignments(ctx context.Context, dir *directory.Client, scope string, as []assignmentView) error {
	if len(as) == 0 {
		return nil
	}
	defs, err := armauthorization.NewRoleDefinitionsClient(s.cred, s.armOptions())
	if err != nil {
		return err
	}
	roles := map[string]string{}
	pager := defs.NewListPager(armScope(scope), nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, d := range page.Value {
			if d.Properties != nil {
				roles[strings.ToLower(lastSegment(deref(d.ID)))] = deref(d.Properties.RoleName)
			}
		}
	}
	var ids []string
	for _, a := range as {
		ids = append(ids, a.PrincipalID)
	}
	names, err := dir.Names(ctx, ids)
	if err != nil {
		return err
	}
	for i := range as {
		as[i].RoleDefinitionName = roles[strings.ToLower(lastSegment(as[i].RoleDefinitionID))]
		as[i].PrincipalName = names[strings.ToLower(as[i].PrincipalID)]
	}
	return nil
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }
