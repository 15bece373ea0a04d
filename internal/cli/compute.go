package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/sdk/compute"
	"github.com/tessera-id/tessera/sdk/workspace"
)

// ExitError carries the exit status of the command `tessera compute run`
// ran, so that tessera exits with it.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("command exited with status %d", e.Code) }

// strippedEnv are variables a job on a compute does not inherit from the
// person who started it: credentials the SDKs would prefer to the compute's
// identity (EnvironmentCredential comes first in DefaultAzureCredential),
// and any managed-identity or workload-identity setup, which the run sets
// itself.
var strippedEnv = []string{
	"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
	"AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE",
	"MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT",
	"DEFAULT_IDENTITY_CLIENT_ID", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "APPSETTING_WEBSITE_SITE_NAME",
}

// nodeFlags select the compute a node belongs to.
type nodeFlags struct {
	workspace, resourceGroup, subscription, compute string
	identity, nodeName                              string
	workloadIdentity                                bool
	audience                                        string
	ttl                                             time.Duration
}

func (f *nodeFlags) bind(cmd *cobra.Command, ttl time.Duration) {
	fl := cmd.Flags()
	fl.StringVar(&f.workspace, "workspace", "", "workspace name or full ARM id (default: the workspace of the config.json found from the working directory)")
	fl.StringVarP(&f.resourceGroup, "resource-group", "g", "", "resource group of the workspace (needed when several workspaces share its name)")
	fl.StringVar(&f.subscription, "subscription", "", "subscription of the workspace (default: search the ones you can see)")
	fl.StringVar(&f.compute, "compute", "", "compute name")
	fl.StringVar(&f.identity, "identity", "", "client id of the identity to use by default (a user-assigned identity attached to the compute; with --workload-identity, the application or user-assigned identity whose federated credential trusts the compute)")
	fl.StringVar(&f.nodeName, "node-name", "", "name of the node registration (default: host name and process id)")
	fl.BoolVar(&f.workloadIdentity, "workload-identity", false, "give the workload a federated token file (AZURE_FEDERATED_TOKEN_FILE) instead of a managed-identity endpoint")
	fl.StringVar(&f.audience, "audience", "api://AzureADTokenExchange", "audience of the workload identity token")
	fl.DurationVar(&f.ttl, "node-ttl", ttl, "how long the node registration lasts if it is not revoked (0: until revoked)")
	_ = cmd.MarkFlagRequired("compute")
}

// nodeRun is a registered node with what serves it.
type nodeRun struct {
	client    *compute.Client
	reg       compute.Registration
	node      *compute.Node
	endpoint  *compute.Endpoint
	tokenDir  string
	tokenFile string
	url       string
	stop      context.CancelFunc
	stderr    io.Writer
}

// startNode registers a node on the compute f names and starts what its
// workloads need: the loopback managed-identity endpoint or, with
// --workload-identity, a token file kept fresh.
func startNode(ctx context.Context, f *nodeFlags, listen string, stderr io.Writer) (*nodeRun, error) {
	if f.workloadIdentity && f.identity == "" {
		return nil, errors.New("--workload-identity needs --identity: the client id of the application or user-assigned identity whose federated credential trusts this compute")
	}
	s, err := newSession()
	if err != nil {
		return nil, err
	}
	client := compute.NewClient(s.cfg, s.cred)
	if f.workspace == "" {
		c, err := workspace.FindConfig("", "")
		if err != nil {
			return nil, usageErrorf("give --workspace, or run where a config.json names the workspace (%v)", err)
		}
		f.workspace = "/subscriptions/" + c.SubscriptionID + "/resourceGroups/" + c.ResourceGroup + "/providers/" + compute.WorkspaceType + "/" + c.WorkspaceName
	}
	ws, err := client.FindWorkspace(ctx, f.workspace, f.subscription, f.resourceGroup)
	if err != nil {
		return nil, err
	}
	if !f.workloadIdentity {
		if err := checkIdentity(ctx, client, ws+"/computes/"+f.compute, f.compute, f.identity); err != nil {
			return nil, err
		}
	}
	name := f.nodeName
	if name == "" {
		host, _ := os.Hostname()
		name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	reg, err := client.Register(ctx, ws+"/computes/"+f.compute, name, f.ttl)
	if err != nil {
		return nil, fmt.Errorf("register a node on compute %s: %w", f.compute, err)
	}
	var doer compute.Doer = http.DefaultClient
	if s.cfg.ClientOptions.Transport != nil {
		doer = s.cfg.ClientOptions.Transport
	}
	bg, stop := context.WithCancel(context.Background())
	n := &nodeRun{client: client, reg: reg, node: compute.NewNode(s.cfg.URL, doer, reg), url: s.cfg.URL, stop: stop, stderr: stderr}
	if f.workloadIdentity {
		if n.tokenDir, err = os.MkdirTemp("", "tessera-workload-"); err == nil {
			n.tokenFile = filepath.Join(n.tokenDir, "azure-identity-token")
			_, err = n.node.WriteWorkloadToken(ctx, n.tokenFile, f.audience)
		}
		if err != nil {
			n.close()
			return nil, fmt.Errorf("workload identity token: %w", err)
		}
		go n.node.KeepWorkloadToken(bg, n.tokenFile, f.audience, func(err error) {
			fmt.Fprintln(stderr, "tessera: refresh workload identity token:", err)
		})
		return n, nil
	}
	if n.endpoint, err = n.node.Serve(compute.EndpointOptions{Listen: listen, DefaultClientID: f.identity}); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// env is the environment of the node's workloads, on top of base.
func (n *nodeRun) env(f *nodeFlags, base []string) []string {
	drop := map[string]bool{}
	for _, k := range strippedEnv {
		drop[k] = true
	}
	set := map[string]string{
		"AZURE_AUTHORITY_HOST": n.url,
		"AZUREML_DEV_URL_MFE":  n.url,
		"TESSERA_URL":          n.url,
		"TESSERA_COMPUTE_ID":   n.reg.ComputeID,
		"TESSERA_NODE_ID":      n.reg.NodeID,
	}
	if ca := os.Getenv("TESSERA_CA_FILE"); ca != "" {
		for _, k := range []string{"REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "TESSERA_CA_FILE"} {
			set[k] = ca
		}
	}
	if n.endpoint != nil {
		for _, kv := range n.endpoint.Env() {
			k, v, _ := strings.Cut(kv, "=")
			set[k] = v
		}
	}
	if n.tokenFile != "" {
		// Python's azure-identity 1.13 does the token exchange inside
		// ManagedIdentityCredential only when no managed-identity endpoint
		// is set, as in a workload-identity pod: so the run sets none.
		set["AZURE_FEDERATED_TOKEN_FILE"] = n.tokenFile
		set["AZURE_CLIENT_ID"] = f.identity
		set["AZURE_TENANT_ID"] = n.reg.TenantID
	}
	out := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, over := set[k]; !drop[k] && !over {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+set[k])
	}
	return out
}

// close stops serving and revokes the registration, so the node secret is
// useless from now on, whatever happened to the workload.
func (n *nodeRun) close() {
	n.stop()
	if n.endpoint != nil {
		_ = n.endpoint.Close()
	}
	if n.tokenDir != "" {
		_ = os.RemoveAll(n.tokenDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.client.Revoke(ctx, n.reg.ComputeID, n.reg.NodeID); err != nil {
		fmt.Fprintf(n.stderr, "tessera: could not revoke node %s of %s (revoke it with `tessera node revoke`): %v\n", n.reg.NodeID, n.reg.ComputeID, err)
	}
}

func computeCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "compute", Short: "Work as a node of an ML compute"}
	var f nodeFlags
	run := &cobra.Command{
		Use:   "run --workspace W --compute C [--identity CLIENT_ID] [--workload-identity] -- CMD [ARGS...]",
		Short: "Run a command the way a job on a compute runs: with the compute's identity, and no secret in the code",
		Long: `Registers this machine as a node of the compute for the run's lifetime and runs CMD with the
environment the Azure SDKs read on a compute: a managed-identity endpoint on loopback
(MSI_ENDPOINT + MSI_SECRET, IDENTITY_ENDPOINT + IDENTITY_HEADER, and DEFAULT_IDENTITY_CLIENT_ID
with --identity), the CA bundle variables, AZURE_AUTHORITY_HOST and AZUREML_DEV_URL_MFE, so that
DefaultAzureCredential() with no arguments gets the compute's identity. With --workload-identity the
run gets instead a short-lived token signed by Tessera for the compute (AZURE_FEDERATED_TOKEN_FILE,
AZURE_CLIENT_ID, AZURE_TENANT_ID) for a federated identity credential to trust.

Your own credentials (AZURE_CLIENT_SECRET, ...) are not passed on. When CMD ends, the node
registration is revoked and tessera exits with CMD's status.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer cancel()
			n, err := startNode(ctx, &f, "", cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer n.close()
			child := exec.Command(args[0], args[1:]...)
			child.Env = n.env(&f, os.Environ())
			child.Stdin, child.Stdout, child.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			if err := child.Start(); err != nil {
				return fmt.Errorf("start %s: %w", args[0], err)
			}
			// Signals go on to the command; tessera waits for it to end and
			// then revokes the node.
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sigs)
			done := make(chan error, 1)
			go func() { done <- child.Wait() }()
			for {
				select {
				case sig := <-sigs:
					_ = child.Process.Signal(sig)
				case err := <-done:
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						code := ee.ExitCode()
						if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
							code = 128 + int(ws.Signal()) // as a shell reports it
						}
						return &ExitError{Code: code}
					}
					return err
				}
			}
		},
	}
	f.bind(run, 24*time.Hour)
	cmd.AddCommand(run)
	return cmd
}

func nodeCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "Join a machine to an ML compute, and manage a compute's nodes"}
	var f nodeFlags
	var listen, envFile, tokenFile string
	agent := &cobra.Command{
		Use:   "agent --workspace W --compute C [--listen ADDR] [--env-file PATH]",
		Short: "Serve the compute's managed-identity endpoint on this machine until stopped",
		Long: `Registers this machine as a node of the compute and serves the managed-identity endpoint on
a loopback address for the workloads that run here. It prints the environment those workloads
need (also written to --env-file, mode 0600). With --workload-identity it keeps a federated token
file fresh instead (--federated-token-file). On SIGINT or SIGTERM it revokes the node.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer cancel()
			n, err := startNode(ctx, &f, listen, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer n.close()
			if tokenFile != "" && n.tokenFile != "" {
				// Point a fixed path at the refreshed file.
				_ = os.Remove(tokenFile)
				if err := os.Symlink(n.tokenFile, tokenFile); err != nil {
					return fmt.Errorf("link %s: %w", tokenFile, err)
				}
				defer os.Remove(tokenFile)
				n.tokenFile = tokenFile
			}
			var lines []string
			for _, kv := range n.env(&f, nil) {
				k, v, _ := strings.Cut(kv, "=")
				lines = append(lines, "export "+k+"="+shellQuote(v))
			}
			text := strings.Join(lines, "\n") + "\n"
			if envFile != "" {
				if err := os.WriteFile(envFile, []byte(text), 0o600); err != nil {
					return err
				}
				defer os.Remove(envFile)
			}
			fmt.Fprint(cmd.OutOrStdout(), text)
			fmt.Fprintf(cmd.ErrOrStderr(), "tessera: node %s of %s is serving; stop with Ctrl-C to revoke it.\n", n.reg.NodeID, n.reg.ComputeID)
			<-ctx.Done()
			return nil
		},
	}
	f.bind(agent, 0)
	agent.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "loopback address of the managed-identity endpoint")
	agent.Flags().StringVar(&envFile, "env-file", "", "also write the workload environment to this file (removed on exit)")
	agent.Flags().StringVar(&tokenFile, "federated-token-file", "", "with --workload-identity, a fixed path for the token file")

	var lf nodeFlags
	list := &cobra.Command{
		Use:   "list --workspace W --compute C",
		Short: "List the nodes registered on a compute",
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, computeID, err := lf.computeID(cmd.Context())
			if err != nil {
				return err
			}
			nodes, err := client.List(cmd.Context(), computeID)
			if err != nil {
				return err
			}
			return printResult(cmd, nodes)
		},
	}
	lf.bindCompute(list)
	var rf nodeFlags
	var nodeID string
	revoke := &cobra.Command{
		Use:   "revoke --workspace W --compute C --node NODE_ID",
		Short: "Revoke a node: its secret stops working at once",
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, computeID, err := rf.computeID(cmd.Context())
			if err != nil {
				return err
			}
			if err := client.Revoke(cmd.Context(), computeID, nodeID); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Revoked node %s of %s.\n", nodeID, computeID)
			return nil
		},
	}
	rf.bindCompute(revoke)
	revoke.Flags().StringVar(&nodeID, "node", "", "node id")
	_ = revoke.MarkFlagRequired("node")
	cmd.AddCommand(agent, list, revoke)
	return cmd
}

// bindCompute binds only the flags that name a compute.
func (f *nodeFlags) bindCompute(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.workspace, "workspace", "", "workspace name or full ARM id")
	fl.StringVarP(&f.resourceGroup, "resource-group", "g", "", "resource group of the workspace")
	fl.StringVar(&f.subscription, "subscription", "", "subscription of the workspace")
	fl.StringVar(&f.compute, "compute", "", "compute name")
	_ = cmd.MarkFlagRequired("workspace")
	_ = cmd.MarkFlagRequired("compute")
}

func (f *nodeFlags) computeID(ctx context.Context) (*compute.Client, string, error) {
	s, err := newSession()
	if err != nil {
		return nil, "", err
	}
	client := compute.NewClient(s.cfg, s.cred)
	ws, err := client.FindWorkspace(ctx, f.workspace, f.subscription, f.resourceGroup)
	if err != nil {
		return nil, "", err
	}
	return client, ws + "/computes/" + f.compute, nil
}

// checkIdentity refuses, before anything runs, a compute whose identity
// cannot serve the run: without one, every token request of the workload
// would fail with "Identity not found".
func checkIdentity(ctx context.Context, client *compute.Client, computeID, name, clientID string) error {
	ids, err := client.Identities(ctx, computeID)
	if err != nil {
		return fmt.Errorf("read compute %s: %w", name, err)
	}
	if ids.SystemAssigned == "" && len(ids.UserAssigned) == 0 {
		return fmt.Errorf("compute %s has no managed identity, so the run could get no token: give it one (identity type SystemAssigned, or a user-assigned identity) or use --workload-identity", name)
	}
	if clientID == "" {
		if ids.SystemAssigned == "" && len(ids.UserAssigned) > 1 {
			return fmt.Errorf("compute %s has %d user-assigned identities and no system-assigned one: choose one with --identity CLIENT_ID (%s)", name, len(ids.UserAssigned), strings.Join(ids.UserAssigned, ", "))
		}
		return nil
	}
	for _, id := range ids.UserAssigned {
		if strings.EqualFold(id, clientID) {
			return nil
		}
	}
	return fmt.Errorf("--identity %s is not a user-assigned identity of compute %s (it has: %s)", clientID, name, strings.Join(ids.UserAssigned, ", "))
}
