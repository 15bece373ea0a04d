package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/sdk/directory"
)

// `tessera ad ...` mirrors `az ad ...`: the same verbs, flags and JSON
// output, over the same Graph requests (contracts/AZURE_CLI.md §5), with the
// credential chain of sdk/credential.

func adCommand() *cobra.Command {
	ad := &cobra.Command{Use: "ad", Short: "Manage the directory: applications, service principals, users and groups"}
	ad.AddCommand(adSPCommand(), adAppCommand(), adUserCommand(), adGroupCommand())
	return ad
}

// graph is a session plus its Graph client.
type graph struct {
	*session
	dir *directory.Client
}

func newGraph() (*graph, error) {
	s, err := newSession()
	if err != nil {
		return nil, err
	}
	return &graph{session: s, dir: directory.New(s.cfg.URL, s.cred, s.cfg.ClientOptions)}, nil
}

// tenant is the caller's tenant id, read from its Graph token (the
// configured tenant may be the "adfs" alias).
func (g *graph) tenant(ctx context.Context) (string, error) {
	tok, err := g.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{g.cfg.URL + "/graph/.default"}})
	if err != nil {
		return "", err
	}
	parts := strings.Split(tok.Token, ".")
	if len(parts) != 3 {
		return "", errors.New("the access token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("decode access token: %w", err)
	}
	var claims struct {
		TID string `json:"tid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.TID == "" {
		return "", errors.New("the access token carries no tenant id")
	}
	return claims.TID, nil
}

// printRaw prints Graph objects as Graph returned them, indented.
func printRaw(w io.Writer, raw json.RawMessage) error { return printJSON(w, raw) }

func rawList[T graphObject](items []T) []json.RawMessage {
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		out[i] = it.JSON()
	}
	return out
}

// resolved is a verb's RunE that finds the object *ref names with resolve
// (e.g. (*directory.Client).ResolveGroup) and runs run on it.
func resolved[T any](ref *string, resolve func(*directory.Client, context.Context, string) (T, error),
	run func(ctx context.Context, cmd *cobra.Command, g *graph, obj T) error) func(*cobra.Command, []string) error {
	return withGraph(func(ctx context.Context, cmd *cobra.Command, g *graph) error {
		obj, err := resolve(g.dir, ctx, *ref)
		if err != nil {
			return err
		}
		return run(ctx, cmd, g, obj)
	})
}

// ---- service principals ----

func adSPCommand() *cobra.Command {
	sp := &cobra.Command{Use: "sp", Short: "Manage service principals"}

	var name, role string
	var scopes []string
	var years int
	var sdkAuth bool
	create := &cobra.Command{
		Use:   "create-for-rbac",
		Short: "Create an application, its service principal and a secret, and assign it a role at scopes",
		Long: `Creates (or, when one with this display name exists, reuses) an application,
replaces its secrets with a new one, creates its service principal and assigns
--role at each of --scopes. Prints appId, displayName, password and tenant, or
with --sdk-auth the credentials file of the Azure SDKs' auth-file format.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (role == "") != (len(scopes) == 0) {
				return errors.New("usage error: to create role assignments, specify both --role and --scopes")
			}
			g, err := newGraph()
			if err != nil {
				return err
			}
			return g.createForRBAC(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), name, role, scopes, years, sdkAuth)
		},
	}
	create.Flags().StringVarP(&name, "name", "n", "", "display name of the application (default azure-cli-<time>)")
	create.Flags().StringVar(&role, "role", "", "role to assign, by name or id")
	create.Flags().StringSliceVar(&scopes, "scopes", nil, "scopes the role is assigned at (space or comma separated)")
	create.Flags().IntVar(&years, "years", 1, "years the secret is valid")
	create.Flags().BoolVar(&sdkAuth, "sdk-auth", false, "print the Azure SDK auth file (clientId, clientSecret, subscriptionId, tenantId, endpoints)")

	var all bool
	show, list, del := noun[directory.ServicePrincipal]{
		ref:     objectFlag{name: "id", usage: "app id, service principal name or object id"},
		resolve: (*directory.Client).ResolveServicePrincipal,
		list: func(d *directory.Client, ctx context.Context, filter string) ([]directory.ServicePrincipal, error) {
			max := 100
			if all || filter != "" {
				max = 0
			}
			return d.ListServicePrincipals(ctx, filter, max)
		},
		filters: []listFilter{
			displayNamePrefix,
			{"spn", "service principal name (app id or identifier URI)", "servicePrincipalNames", directory.AnyEq},
		},
		remove:      (*directory.Client).DeleteServicePrincipal,
		idOf:        func(sp directory.ServicePrincipal) string { return sp.ID },
		showShort:   "Show a service principal by app id, identifier URI or object id",
		listShort:   "List service principals (the first 100 unless --all or a filter is given)",
		deleteShort: "Delete a service principal",
	}.verbs()
	list.Flags().BoolVar(&all, "all", false, "list all, not only the first 100")

	sp.AddCommand(create, show, list, del, credentialCommand("service principal", (*directory.Client).ResolveServicePrincipal,
		func(sp directory.ServicePrincipal) credentialTarget {
			return credentialTarget{objectID: sp.ID, appID: sp.AppID, passwords: sp.PasswordCredentials}
		}, (*directory.Client).AddServicePrincipalPassword, (*directory.Client).RemoveServicePrincipalPassword))
	return sp
}

// rbacCredentials is what create-for-rbac and credential reset print.
type rbacCredentials struct {
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName,omitempty"`
	Password    string `json:"password"`
	Tenant      string `json:"tenant"`
}

// sdkAuthFile is the --sdk-auth output (the Azure SDKs' auth file).
type sdkAuthFile struct {
	ClientID                       string  `json:"clientId"`
	ClientSecret                   string  `json:"clientSecret"`
	SubscriptionID                 string  `json:"subscriptionId"`
	TenantID                       string  `json:"tenantId"`
	ActiveDirectoryEndpointURL     string  `json:"activeDirectoryEndpointUrl"`
	ResourceManagerEndpointURL     string  `json:"resourceManagerEndpointUrl"`
	ActiveDirectoryGraphResourceID string  `json:"activeDirectoryGraphResourceId"`
	SQLManagementEndpointURL       *string `json:"sqlManagementEndpointUrl"`
	GalleryEndpointURL             string  `json:"galleryEndpointUrl"`
	ManagementEndpointURL          string  `json:"managementEndpointUrl"`
}

func (g *graph) createForRBAC(ctx context.Context, out, errOut io.Writer, name, role string, scopes []string, years int, sdkAuth bool) error {
	if name == "" {
		name = "azure-cli-" + time.Now().UTC().Format("2006-01-02-15-04-05")
	}
	if years < 1 {
		return errors.New("--years must be at least 1")
	}
	apps, err := g.dir.ListApplications(ctx, directory.Eq("displayName", name))
	if err != nil {
		return err
	}
	var app directory.Application
	switch len(apps) {
	case 0:
		if app, err = g.dir.CreateApplication(ctx, map[string]any{"displayName": name}); err != nil {
			return err
		}
	case 1:
		app = apps[0]
		fmt.Fprintf(errOut, "Found an existing application instance: (id) %s. Its secrets are replaced.\n", app.ID)
		for _, p := range app.PasswordCredentials {
			if err := g.dir.RemoveApplicationPassword(ctx, app.ID, p.KeyID); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("more than one application is named %q", name)
	}
	pw, err := g.dir.AddApplicationPassword(ctx, app.ID, directory.NewPassword("rbac", time.Duration(years)*365*24*time.Hour))
	if err != nil {
		return err
	}
	sps, err := g.dir.ListServicePrincipals(ctx, directory.Eq("appId", app.AppID), 0)
	if err != nil {
		return err
	}
	var sp directory.ServicePrincipal
	if len(sps) > 0 {
		sp = sps[0]
	} else if sp, err = g.dir.CreateServicePrincipal(ctx, app.AppID); err != nil {
		return err
	}
	for _, scope := range scopes {
		fmt.Fprintf(errOut, "Creating '%s' role assignment under scope '%s'\n", role, scope)
		if err := g.assignServicePrincipal(ctx, errOut, role, scope, sp.ID); err != nil {
			return err
		}
	}
	tenant, err := g.tenant(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(errOut, "The output includes credentials that you must protect.")
	if !sdkAuth {
		return printJSON(out, rbacCredentials{AppID: app.AppID, DisplayName: name, Password: pw.SecretText, Tenant: tenant})
	}
	sub := subscriptionOf(scopes)
	if sub == "" {
		if sub, err = g.defaultSubscription(ctx); err != nil {
			return err
		}
	}
	base := g.cfg.URL
	return printJSON(out, sdkAuthFile{
		ClientID: app.AppID, ClientSecret: pw.SecretText, SubscriptionID: sub, TenantID: tenant,
		ActiveDirectoryEndpointURL: base + "/adfs", ResourceManagerEndpointURL: base + "/",
		ActiveDirectoryGraphResourceID: base + "/graph/", GalleryEndpointURL: base + "/gallery/", ManagementEndpointURL: base + "/",
	})
}

// assignServicePrincipal assigns role at scope; an existing identical
// assignment is success, as for az.
func (g *graph) assignServicePrincipal(ctx context.Context, errOut io.Writer, role, scope, principalID string) error {
	def, err := g.findRole(ctx, scope, role)
	if err != nil {
		return err
	}
	client, err := armauthorization.NewRoleAssignmentsClient("", g.cred, g.armOptions())
	if err != nil {
		return err
	}
	props := &armauthorization.RoleAssignmentProperties{RoleDefinitionID: def.ID, PrincipalID: to.Ptr(principalID),
		PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal)}
	_, err = client.Create(ctx, armScope(scope), uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{Properties: props}, nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.ErrorCode == "RoleAssignmentExists" {
		fmt.Fprintln(errOut, "  Role assignment already exists.")
		return nil
	}
	return err
}

// subscriptionOf is the subscription id of the first scope under one.
func subscriptionOf(scopes []string) string {
	for _, s := range scopes {
		parts := strings.Split(strings.Trim(s, "/"), "/")
		if len(parts) >= 2 && strings.EqualFold(parts[0], "subscriptions") {
			return parts[1]
		}
	}
	return ""
}

// defaultSubscription is the first enabled subscription the caller sees.
func (g *graph) defaultSubscription(ctx context.Context) (string, error) {
	client, err := arm.NewClient("tessera-cli", "v1.0.0", g.cred, g.armOptions())
	if err != nil {
		return "", err
	}
	req, err := runtime.NewRequest(ctx, http.MethodGet, runtime.JoinPaths(client.Endpoint(), "subscriptions")+"?api-version=2019-11-01")
	if err != nil {
		return "", err
	}
	resp, err := client.Pipeline().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", runtime.NewResponseError(resp)
	}
	var body struct {
		Value []struct{ SubscriptionID, State string } `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	for _, s := range body.Value {
		if s.State == "Enabled" {
			return s.SubscriptionID, nil
		}
	}
	return "", errors.New("no enabled subscription is visible to the caller")
}

// credentialTarget is an application or service principal whose secrets
// `credential reset` replaces.
type credentialTarget struct {
	objectID, appID string
	passwords       []directory.PasswordCredential
}

// credentialCommand is `credential reset` for applications and service
// principals: resolve finds the object --id names, target reads its secrets,
// add and remove change them by object id.
func credentialCommand[T any](what string, resolve func(*directory.Client, context.Context, string) (T, error),
	target func(T) credentialTarget,
	add func(*directory.Client, context.Context, string, map[string]any) (directory.PasswordCredential, error),
	remove func(*directory.Client, context.Context, string, string) error) *cobra.Command {
	cred := &cobra.Command{Use: "credential", Short: "Manage the " + what + "'s secrets"}
	var id, displayName string
	var years int
	var appendSecret bool
	reset := &cobra.Command{
		Use:   "reset",
		Short: "Replace the " + what + "'s secrets with a new one (or add one with --append)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if years < 1 {
				return errors.New("--years must be at least 1")
			}
			ctx := cmd.Context()
			g, err := newGraph()
			if err != nil {
				return err
			}
			obj, err := resolve(g.dir, ctx, id)
			if err != nil {
				return err
			}
			t := target(obj)
			if !appendSecret {
				for _, p := range t.passwords {
					if err := remove(g.dir, ctx, t.objectID, p.KeyID); err != nil {
						return err
					}
				}
			}
			pw, err := add(g.dir, ctx, t.objectID, directory.NewPassword(displayName, time.Duration(years)*365*24*time.Hour))
			if err != nil {
				return err
			}
			tenant, err := g.tenant(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "The output includes credentials that you must protect.")
			return printResult(cmd, rbacCredentials{AppID: t.appID, Password: pw.SecretText, Tenant: tenant})
		},
	}
	reset.Flags().StringVar(&id, "id", "", "app id, identifier URI or object id")
	reset.Flags().StringVar(&displayName, "display-name", "", "display name of the new secret")
	reset.Flags().IntVar(&years, "years", 1, "years the secret is valid")
	reset.Flags().BoolVar(&appendSecret, "append", false, "keep the existing secrets")
	_ = reset.MarkFlagRequired("id")
	cred.AddCommand(reset)
	return cred
}

// ---- applications ----

func adAppCommand() *cobra.Command {
	app := &cobra.Command{Use: "app", Short: "Manage application registrations"}

	var displayName, signInAudience string
	var identifierURIs, webRedirects, publicRedirects []string
	var fallbackPublic bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Register an application (an existing one with the same display name is updated)",
		RunE: withGraph(func(ctx context.Context, cmd *cobra.Command, g *graph) error {
			body := map[string]any{"displayName": displayName}
			if len(identifierURIs) > 0 {
				body["identifierUris"] = identifierURIs
			}
			if len(webRedirects) > 0 {
				body["web"] = map[string]any{"redirectUris": webRedirects}
			}
			if len(publicRedirects) > 0 {
				body["publicClient"] = map[string]any{"redirectUris": publicRedirects}
			}
			if cmd.Flags().Changed("is-fallback-public-client") {
				body["isFallbackPublicClient"] = fallbackPublic
			}
			if signInAudience != "" {
				body["signInAudience"] = signInAudience
			}
			existing, err := g.dir.ListApplications(ctx, directory.Eq("displayName", displayName))
			if err != nil {
				return err
			}
			var a directory.Application
			switch len(existing) {
			case 0:
				a, err = g.dir.CreateApplication(ctx, body)
			case 1:
				fmt.Fprintf(cmd.ErrOrStderr(), "Found an existing application instance: (id) %s. We will patch it.\n", existing[0].ID)
				if err = g.dir.UpdateApplication(ctx, existing[0].ID, body); err == nil {
					a, err = g.dir.GetApplication(ctx, existing[0].ID)
				}
			default:
				err = fmt.Errorf("more than one application is named %q", displayName)
			}
			if err != nil {
				return err
			}
			return printResult(cmd, a.JSON())
		}),
	}
	create.Flags().StringVar(&displayName, "display-name", "", "display name")
	create.Flags().StringSliceVar(&identifierURIs, "identifier-uris", nil, "identifier URIs (application id URIs)")
	create.Flags().StringSliceVar(&webRedirects, "web-redirect-uris", nil, "web redirect URIs")
	create.Flags().StringSliceVar(&publicRedirects, "public-client-redirect-uris", nil, "public client (mobile and desktop) redirect URIs")
	create.Flags().BoolVar(&fallbackPublic, "is-fallback-public-client", false, "treat the application as a public client")
	create.Flags().StringVar(&signInAudience, "sign-in-audience", "", "AzureADMyOrg (default), AzureADMultipleOrgs, ...")
	_ = create.MarkFlagRequired("display-name")

	show, list, del := noun[directory.Application]{
		ref:     objectFlag{name: "id", usage: "app id, identifier URI or object id"},
		resolve: (*directory.Client).ResolveApplication,
		list:    (*directory.Client).ListApplications,
		filters: []listFilter{
			displayNamePrefix,
			{"app-id", "application (client) id", "appId", directory.Eq},
			{"identifier-uri", "identifier URI", "identifierUris", directory.AnyEq},
		},
		remove:      (*directory.Client).DeleteApplication,
		idOf:        func(a directory.Application) string { return a.ID },
		showShort:   "Show an application by app id, identifier URI or object id",
		listShort:   "List applications",
		deleteShort: "Delete an application with its service principal, secrets and role assignments",
	}.verbs()

	app.AddCommand(create, list, show, del, credentialCommand("application", (*directory.Client).ResolveApplication,
		func(a directory.Application) credentialTarget {
			return credentialTarget{objectID: a.ID, appID: a.AppID, passwords: a.PasswordCredentials}
		}, (*directory.Client).AddApplicationPassword, (*directory.Client).RemoveApplicationPassword),
		federatedCredentialCommand())
	return app
}

// federatedCredentialCommand is `app federated-credential`: the
// application's federated identity credentials (workload identity federation).
func federatedCredentialCommand() *cobra.Command {
	fc := &cobra.Command{Use: "federated-credential", Short: "Manage the application's federated identity credentials"}
	var id, parameters, credentialID string
	withApp := func(run func(ctx context.Context, cmd *cobra.Command, g *graph, a directory.Application) error) func(*cobra.Command, []string) error {
		return resolved(&id, (*directory.Client).ResolveApplication, run)
	}
	create := &cobra.Command{
		Use:   "create",
		Short: "Add a federated identity credential to an application",
		Long: `--parameters is the credential as Graph takes it, inline JSON, @file or - (stdin):
{"name": "...", "issuer": "https://...", "subject": "...", "audiences": ["api://AzureADTokenExchange"], "description": "..."}.
Prints the credential Graph created.`,
		RunE: withApp(func(ctx context.Context, cmd *cobra.Command, g *graph, a directory.Application) error {
			body, err := readBody(parameters, cmd.InOrStdin())
			if err != nil {
				return fmt.Errorf("--parameters: %w", err)
			}
			f, err := g.dir.CreateFederatedCredential(ctx, a.ID, body)
			if err != nil {
				return err
			}
			return printResult(cmd, f.JSON())
		}),
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List an application's federated identity credentials",
		RunE: withApp(func(ctx context.Context, cmd *cobra.Command, g *graph, a directory.Application) error {
			creds, err := g.dir.ListFederatedCredentials(ctx, a.ID)
			if err != nil {
				return err
			}
			return printResult(cmd, rawList(creds))
		}),
	}
	del := &cobra.Command{
		Use:   "delete",
		Short: "Delete a federated identity credential by id or name",
		RunE: withApp(func(ctx context.Context, _ *cobra.Command, g *graph, a directory.Application) error {
			return g.dir.DeleteFederatedCredential(ctx, a.ID, credentialID)
		}),
	}
	for _, c := range []*cobra.Command{create, list, del} {
		c.Flags().StringVar(&id, "id", "", "app id, identifier URI or object id of the application")
		_ = c.MarkFlagRequired("id")
	}
	create.Flags().StringVar(&parameters, "parameters", "", "the credential: JSON, @file or - (stdin)")
	_ = create.MarkFlagRequired("parameters")
	del.Flags().StringVar(&credentialID, "federated-credential-id", "", "id or name of the federated identity credential")
	_ = del.MarkFlagRequired("federated-credential-id")
	fc.AddCommand(create, list, del)
	return fc
}

// ---- users ----

func adUserCommand() *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Manage users"}

	var displayName, upn, password, mailNickname string
	var forceChange bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a user",
		RunE: withGraph(func(ctx context.Context, cmd *cobra.Command, g *graph) error {
			if mailNickname == "" {
				mailNickname, _, _ = strings.Cut(upn, "@")
			}
			u, err := g.dir.CreateUser(ctx, map[string]any{
				"userPrincipalName": upn, "displayName": displayName, "mailNickname": mailNickname, "accountEnabled": true,
				"passwordProfile": map[string]any{"password": password, "forceChangePasswordNextSignIn": forceChange},
			})
			if err != nil {
				return err
			}
			return printResult(cmd, u.JSON())
		}),
	}
	create.Flags().StringVar(&displayName, "display-name", "", "display name")
	create.Flags().StringVar(&upn, "user-principal-name", "", "user principal name, e.g. someone@contoso.tessera.local")
	create.Flags().StringVar(&password, "password", "", "initial password")
	create.Flags().StringVar(&mailNickname, "mail-nickname", "", "mail alias (default: the UPN before @)")
	create.Flags().BoolVar(&forceChange, "force-change-password-next-sign-in", false, "require a new password at the next sign-in")
	for _, f := range []string{"display-name", "user-principal-name", "password"} {
		_ = create.MarkFlagRequired(f)
	}

	show, list, del := noun[directory.User]{
		ref:     objectFlag{name: "id", usage: "object id or user principal name"},
		resolve: (*directory.Client).GetUser,
		list:    (*directory.Client).ListUsers,
		filters: []listFilter{
			{"upn", "user principal name", "userPrincipalName", directory.Eq},
			displayNamePrefix,
		},
		remove:      (*directory.Client).DeleteUser,
		showShort:   "Show a user by object id or user principal name",
		listShort:   "List users",
		deleteShort: "Delete a user",
	}.verbs()

	var id string
	var enabled, forceNext string
	update := &cobra.Command{
		Use:   "update",
		Short: "Change a user's display name, mail nickname, password, or whether it may sign in",
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := map[string]any{}
			if cmd.Flags().Changed("display-name") {
				body["displayName"] = displayName
			}
			if cmd.Flags().Changed("mail-nickname") {
				body["mailNickname"] = mailNickname
			}
			if cmd.Flags().Changed("account-enabled") {
				v, err := parseBoolFlag("account-enabled", enabled)
				if err != nil {
					return err
				}
				body["accountEnabled"] = v
			}
			// passwordProfile is one value in Graph: a new password without
			// the flag means forceChangePasswordNextSignIn false.
			var profile map[string]any
			if cmd.Flags().Changed("password") {
				profile = map[string]any{"password": password}
			}
			if cmd.Flags().Changed("force-change-password-next-sign-in") {
				v, err := parseBoolFlag("force-change-password-next-sign-in", forceNext)
				if err != nil {
					return err
				}
				if profile == nil {
					profile = map[string]any{}
				}
				profile["forceChangePasswordNextSignIn"] = v
			}
			if profile != nil {
				body["passwordProfile"] = profile
			}
			if len(body) == 0 {
				return errors.New("usage error: give at least one of --display-name, --mail-nickname, --account-enabled, --password, --force-change-password-next-sign-in")
			}
			g, err := newGraph()
			if err != nil {
				return err
			}
			return g.dir.UpdateUser(cmd.Context(), id, body)
		},
	}
	update.Flags().StringVar(&id, "id", "", "object id or user principal name")
	update.Flags().StringVar(&displayName, "display-name", "", "display name")
	update.Flags().StringVar(&mailNickname, "mail-nickname", "", "mail alias")
	update.Flags().StringVar(&enabled, "account-enabled", "", "true or false: whether the user may sign in")
	update.Flags().StringVar(&password, "password", "", "new password")
	update.Flags().StringVar(&forceNext, "force-change-password-next-sign-in", "", "true or false: whether the user must change the password at the next sign-in")
	_ = update.MarkFlagRequired("id")

	user.AddCommand(create, show, list, update, del)
	return user
}

// parseBoolFlag reads the value of a true|false flag such as az's
// --account-enabled (a flag that takes its value as the next word).
func parseBoolFlag(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("usage error: --%s takes true or false, not %q", name, v)
}

// ---- groups ----

func adGroupCommand() *cobra.Command {
	group := &cobra.Command{Use: "group", Short: "Manage security groups and their members"}

	var displayName, mailNickname, description string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a security group (an existing one with the same name and nickname is shown)",
		RunE: withGraph(func(ctx context.Context, cmd *cobra.Command, g *graph) error {
			existing, err := g.dir.ListGroups(ctx, directory.Eq("displayName", displayName)+" and "+directory.Eq("mailNickname", mailNickname))
			if err != nil {
				return err
			}
			if len(existing) > 0 {
				return printResult(cmd, existing[0].JSON())
			}
			grp, err := g.dir.CreateGroup(ctx, displayName, mailNickname, description)
			if err != nil {
				return err
			}
			return printResult(cmd, grp.JSON())
		}),
	}
	create.Flags().StringVar(&displayName, "display-name", "", "display name")
	create.Flags().StringVar(&mailNickname, "mail-nickname", "", "mail nickname")
	create.Flags().StringVar(&description, "description", "", "description")
	_ = create.MarkFlagRequired("display-name")
	_ = create.MarkFlagRequired("mail-nickname")

	show, list, del := noun[directory.Group]{
		ref:     objectFlag{name: "group", shorthand: "g", usage: "object id or display name"},
		resolve: (*directory.Client).ResolveGroup,
		list:    (*directory.Client).ListGroups,
		filters: []listFilter{
			{"filter", "OData filter, e.g. \"mailNickname eq 'ml-team'\"", "", rawFilter},
			displayNamePrefix,
		},
		remove:      (*directory.Client).DeleteGroup,
		idOf:        func(grp directory.Group) string { return grp.ID },
		showShort:   "Show a group by object id or display name",
		listShort:   "List groups",
		deleteShort: "Delete a group by object id or display name",
	}.verbs()

	group.AddCommand(create, show, list, del, adGroupMemberCommand())
	return group
}

func adGroupMemberCommand() *cobra.Command {
	member := &cobra.Command{Use: "member", Short: "Manage group members"}
	var groupID, memberID string
	withGroup := func(run func(ctx context.Context, cmd *cobra.Command, g *graph, grp directory.Group) error) func(*cobra.Command, []string) error {
		return resolved(&groupID, (*directory.Client).ResolveGroup, run)
	}
	add := &cobra.Command{
		Use:   "add",
		Short: "Add a user, group or service principal (by object id) to a group",
		RunE: withGroup(func(ctx context.Context, _ *cobra.Command, g *graph, grp directory.Group) error {
			return g.dir.AddMember(ctx, grp.ID, memberID)
		}),
	}
	remove := &cobra.Command{
		Use:   "remove",
		Short: "Remove a direct member from a group",
		RunE: withGroup(func(ctx context.Context, _ *cobra.Command, g *graph, grp directory.Group) error {
			return g.dir.RemoveMember(ctx, grp.ID, memberID)
		}),
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List a group's direct members",
		RunE: withGroup(func(ctx context.Context, cmd *cobra.Command, g *graph, grp directory.Group) error {
			members, err := g.dir.ListMembers(ctx, grp.ID)
			if err != nil {
				return err
			}
			return printResult(cmd, rawList(members))
		}),
	}
	check := &cobra.Command{
		Use:   "check",
		Short: "Say whether an object is a member of a group, directly or through nested groups",
		RunE: withGroup(func(ctx context.Context, cmd *cobra.Command, g *graph, grp directory.Group) error {
			ids, err := g.dir.CheckMemberGroups(ctx, memberID, []string{grp.ID})
			if err != nil {
				return err
			}
			return printResult(cmd, map[string]bool{"value": len(ids) > 0})
		}),
	}
	for _, c := range []*cobra.Command{add, remove, list, check} {
		c.Flags().StringVarP(&groupID, "group", "g", "", "group object id or display name")
		_ = c.MarkFlagRequired("group")
		if c != list {
			c.Flags().StringVar(&memberID, "member-id", "", "object id of the member")
			_ = c.MarkFlagRequired("member-id")
		}
	}
	member.AddCommand(add, remove, list, check)
	return member
}
