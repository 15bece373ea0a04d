package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/pkg/browser"
	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/sdk/credential"
	"github.com/tessera-id/tessera/sdk/directory"
)

// The sign-in verbs: tessera login, account show|get-access-token, logout.
// They keep one account in the token cache (sdk/credential), which every
// later verb and Go program using credential.NewDefault reads.

func loginCommand() *cobra.Command {
	var (
		o                   credential.LoginOptions
		deviceCode, sp      bool
		username, password  string
		noBrowser           bool
		tenantFlag, urlFlag string
	)
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in to Tessera and keep the account in the token cache",
		Long: `Signs in and writes the token cache ($TESSERA_CONFIG_DIR/tokens.json, mode 0600).

  tessera login                         browser sign-in (authorization code + PKCE, loopback redirect);
                                        a device code where there is no browser (no DISPLAY on Linux)
  tessera login --use-device-code       device code: open the printed URL anywhere and enter the code
  tessera login -u user@domain -p ...   password (only where the tenant allows it)
  tessera login --service-principal -u APPID -p SECRET --tenant TENANT`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.URL = firstNonEmpty(urlFlag, os.Getenv("TESSERA_URL"), os.Getenv("AZURE_AUTHORITY_HOST"))
			o.Tenant = firstNonEmpty(tenantFlag, os.Getenv("TESSERA_TENANT_ID"))
			if o.CAFile == "" {
				o.CAFile = os.Getenv("TESSERA_CA_FILE")
			}
			ctx := cmd.Context()
			var (
				c   *credential.Cache
				err error
			)
			errOut := cmd.ErrOrStderr()
			why := noBrowserHere()
			switch {
			case sp:
				if username == "" || password == "" {
					return errors.New("--service-principal needs -u APPID and -p SECRET")
				}
				c, err = credential.LoginServicePrincipal(ctx, o, username, password)
			case username != "" || password != "":
				if username == "" || password == "" {
					return errors.New("-u and -p go together")
				}
				c, err = credential.LoginPassword(ctx, o, username, password)
			case deviceCode:
				c, err = credential.LoginDeviceCode(ctx, o, func(msg string) { fmt.Fprintln(errOut, msg) })
			case !noBrowser && why != "":
				fmt.Fprintf(errOut, "No browser here: %s. Signing in with a device code instead (--use-device-code; --no-browser keeps the browser sign-in and prints its URL).\n", why)
				c, err = credential.LoginDeviceCode(ctx, o, func(msg string) { fmt.Fprintln(errOut, msg) })
			default:
				c, err = credential.LoginBrowser(ctx, o, func(u string) error {
					fmt.Fprintf(errOut, "Opening a browser to sign in. If none opens, open this URL (or stop and run `tessera login --use-device-code`):\n%s\n", u)
					if !noBrowser {
						browser.Stdout, browser.Stderr = io.Discard, io.Discard
						_ = browser.OpenURL(u) // the URL is printed either way
					}
					return nil
				})
			}
			if err != nil {
				return err
			}
			path, err := credential.CachePath()
			if err != nil {
				return err
			}
			if err := c.Save(path); err != nil {
				return fmt.Errorf("write the token cache: %w", err)
			}
			return printResult(cmd, accountView(c))
		},
	}
	f := cmd.Flags()
	f.StringVar(&urlFlag, "url", "", "Tessera base URL (default $TESSERA_URL)")
	f.StringVarP(&tenantFlag, "tenant", "t", "", `tenant id, domain, "organizations" or "adfs" (default organizations)`)
	f.StringVar(&o.CAFile, "ca-file", "", "PEM bundle to trust (default $TESSERA_CA_FILE)")
	f.BoolVar(&deviceCode, "use-device-code", false, "sign in with a device code instead of a local browser")
	f.BoolVar(&sp, "service-principal", false, "sign in as a service principal (-u APPID -p SECRET)")
	f.StringVarP(&username, "username", "u", "", "user principal name, or the app id with --service-principal")
	f.StringVarP(&password, "password", "p", "", "password, or the client secret with --service-principal")
	f.BoolVar(&noBrowser, "no-browser", false, "print the sign-in URL without opening a browser")
	f.StringVar(&o.Scope, "scope", "", "scope of the first token (default the resource manager)")
	return cmd
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// accountView is what `login` and `account show` print.
func accountView(c *credential.Cache) map[string]any {
	return map[string]any{
		"url": c.URL, "tenantId": c.Account.TenantID, "authority": c.Authority, "clientId": c.ClientID,
		"user": map[string]string{"name": c.Account.Name, "type": c.Account.Type, "objectId": c.Account.ObjectID},
	}
}

func loadCache() (*credential.Cache, string, error) {
	path, err := credential.CachePath()
	if err != nil {
		return nil, "", err
	}
	c, err := credential.LoadCache(path)
	return c, path, err
}

func logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the signed-in account (delete the token cache)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, path, err := loadCache()
			if errors.Is(err, credential.ErrNotLoggedIn) {
				fmt.Fprintln(cmd.ErrOrStderr(), "Not logged in.")
				return nil
			}
			if err != nil && path == "" {
				return err
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			_ = os.Remove(path + ".lock")
			return nil
		},
	}
}

func accountCommand() *cobra.Command {
	account := &cobra.Command{Use: "account", Short: "Show, list and choose subscriptions, and get the signed-in account's tokens"}
	account.AddCommand(accountListCommand(), accountShowCommand(), accountSetCommand())
	var resource, scope string
	get := &cobra.Command{
		Use:   "get-access-token",
		Short: "Print an access token of the signed-in account (refreshing it when needed)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if resource != "" && scope != "" {
				return errors.New("use --resource or --scope, not both")
			}
			switch {
			case scope != "":
			case resource != "":
				scope = resource + "/.default"
				if strings.HasSuffix(resource, "/") {
					scope = resource + ".default"
				}
			default:
				scope = credential.ManagementAudience + ".default"
			}
			c, _, err := loadCache()
			if err != nil {
				return err
			}
			cc, err := credential.NewCacheCredential("", nil)
			if err != nil {
				return err
			}
			tok, err := cc.GetToken(cmd.Context(), policy.TokenRequestOptions{Scopes: []string{scope}})
			if err != nil {
				return err
			}
			return printResult(cmd, map[string]any{
				"accessToken": tok.Token, "expiresOn": tok.ExpiresOn.Local().Format("2006-01-02 15:04:05.000000"),
				"expires_on": tok.ExpiresOn.Unix(), "tenant": c.Account.TenantID, "tokenType": "Bearer",
			})
		},
	}
	get.Flags().StringVar(&resource, "resource", "", "resource the token is for (e.g. https://management.core.windows.net/)")
	get.Flags().StringVar(&scope, "scope", "", "scope the token is for (e.g. https://ml.azure.com/.default)")
	account.AddCommand(get)
	return account
}

// graphClient is a Graph client acting as the signed-in account (or the
// environment's credential).
func graphClient() (*directory.Client, error) {
	s, err := newSession()
	if err != nil {
		return nil, err
	}
	return directory.New(s.cfg.URL, s.cred, s.cfg.ClientOptions), nil
}

// readBody reads a JSON body from an argument: inline JSON, @file or - (stdin).
func readBody(arg string, stdin io.Reader) (map[string]any, error) {
	var b []byte
	var err error
	switch {
	case arg == "-":
		b, err = io.ReadAll(stdin)
	case strings.HasPrefix(arg, "@"):
		b, err = os.ReadFile(arg[1:])
	default:
		b = []byte(arg)
	}
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("the body is not a JSON object: %w", err)
	}
	return m, nil
}

func caCommand() *cobra.Command {
	ca := &cobra.Command{Use: "ca", Short: "Manage Conditional Access policies and named locations"}
	for _, kind := range []struct{ use, path, short string }{
		{"policy", "/identity/conditionalAccess/policies", "Conditional Access policies (Graph conditionalAccessPolicy)"},
		{"location", "/identity/conditionalAccess/namedLocations", "named locations (Graph ipNamedLocation)"},
	} {
		c := &cobra.Command{Use: kind.use, Short: "Manage " + kind.short}
		path := kind.path
		c.AddCommand(&cobra.Command{Use: "list", Short: "List them", RunE: func(cmd *cobra.Command, _ []string) error {
			return graphPrint(cmd, "GET", path, nil)
		}})
		c.AddCommand(&cobra.Command{Use: "show ID", Short: "Show one", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return graphPrint(cmd, "GET", path+"/"+url.PathEscape(args[0]), nil)
		}})
		c.AddCommand(&cobra.Command{Use: "create JSON|@file|-", Short: "Create one from its Graph JSON", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				body, err := readBody(args[0], cmd.InOrStdin())
				if err != nil {
					return err
				}
				return graphPrint(cmd, "POST", path, body)
			}})
		c.AddCommand(&cobra.Command{Use: "update ID JSON|@file|-", Short: "Change properties (PATCH)", Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				body, err := readBody(args[1], cmd.InOrStdin())
				if err != nil {
					return err
				}
				return graphPrint(cmd, "PATCH", path+"/"+url.PathEscape(args[0]), body)
			}})
		c.AddCommand(&cobra.Command{Use: "delete ID", Short: "Delete one", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return graphPrint(cmd, "DELETE", path+"/"+url.PathEscape(args[0]), nil)
		}})
		ca.AddCommand(c)
	}
	// Shortcuts for the policy states.
	for _, st := range []struct{ verb, state string }{{"enable", "enabled"}, {"disable", "disabled"}, {"report-only", "enabledForReportingButNotEnforced"}} {
		state := st.state
		ca.AddCommand(&cobra.Command{Use: st.verb + " POLICY-ID", Short: "Set a policy's state to " + state, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return graphPrint(cmd, "PATCH", "/identity/conditionalAccess/policies/"+url.PathEscape(args[0]), map[string]any{"state": state})
			}})
	}
	return ca
}

func graphPrint(cmd *cobra.Command, method, path string, body any) error {
	g, err := graphClient()
	if err != nil {
		return err
	}
	var out any
	if err := g.Do(cmd.Context(), method, path, body, &out); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return printResult(cmd, out)
}

func signinsCommand() *cobra.Command {
	signins := &cobra.Command{Use: "signins", Short: "Read the sign-in log"}
	var top int
	var failures bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List sign-ins, newest first, with their Conditional Access results",
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := graphClient()
			if err != nil {
				return err
			}
			var out struct {
				Value []map[string]any `json:"value"`
			}
			if err := g.Do(cmd.Context(), "GET", "/auditLogs/signIns?$top="+strconv.Itoa(top), nil, &out); err != nil {
				return err
			}
			kept := out.Value[:0]
			for _, e := range out.Value {
				// Graph's signIn: status.errorCode is 0 for a success.
				status, _ := e["status"].(map[string]any)
				if code, _ := status["errorCode"].(float64); failures && code == 0 {
					continue
				}
				kept = append(kept, e)
			}
			return printResult(cmd, kept)
		},
	}
	list.Flags().IntVar(&top, "top", 50, "how many sign-ins to read (1-1000)")
	list.Flags().BoolVar(&failures, "failures", false, "only failed sign-ins")
	signins.AddCommand(list)
	return signins
}
