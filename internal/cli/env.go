package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/sdk/credential"
)

// envTarget is the server `tessera env` points a shell at, and where that
// came from (for error messages).
type envTarget struct {
	URL, CAFile, TenantID, from string
}

func envCommand() *cobra.Command {
	var dataDir, spFile, urlFlag, caFile, azDir string
	var az, publicCloud bool
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print the shell lines that point the Azure SDKs and CLI at this Tessera",
		Long: `Prints export lines for the CA bundle variables (REQUESTS_CA_BUNDLE, SSL_CERT_FILE,
NODE_EXTRA_CA_CERTS), AZURE_AUTHORITY_HOST, AZURE_TENANT_ID and TESSERA_URL. Use it as:
eval "$(tessera env)".

The server is, in order: --url (with --ca-file); --data-dir's bootstrap.json; $TESSERA_URL (with
$TESSERA_CA_FILE); ./tessera-data/bootstrap.json (or $TESSERA_DATA_DIR's); the server of
` + "`tessera login`" + `. Away from the server's machine, --url and --ca-file (the server's CA
certificate, which is public) are all it needs.

Everything is checked first (the server answers over TLS with that CA, the credentials file
holds credentials, az registers the cloud): on any error nothing is printed and the exit status
is non-zero, so eval "$(tessera env ...)" fails instead of half-configuring the shell.

Your active az cloud is left alone. --az registers Tessera as a cloud and selects it in an
az configuration directory of its own (--az-config-dir), and exports AZURE_CONFIG_DIR for it.

--public-cloud-names is for a server started with ` + "`tessera serve --public-cloud-names`" + ` whose names this
machine resolves to it (` + "`tessera hosts --apply`" + `): clients then need no Tessera-specific setting, so only
the CA trust variables are printed (REQUESTS_CA_BUNDLE, which az and the Python SDKs read, SSL_CERT_FILE
and NODE_EXTRA_CA_CERTS). A warning goes to stderr when login.microsoftonline.com does not answer as this
Tessera.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := envTargetFor(cmd, urlFlag, caFile, dataDir)
			if err != nil {
				return err
			}
			if t.CAFile != "" {
				// The exports must hold wherever the shell goes next.
				if t.CAFile, err = filepath.Abs(t.CAFile); err != nil {
					return err
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
			defer cancel()
			tenant, err := checkEnvServer(ctx, t)
			if err != nil {
				return err
			}
			if t.TenantID == "" {
				t.TenantID = tenant
			}
			// The whole output is built first: eval must get all of it or
			// nothing.
			var out bytes.Buffer
			if publicCloud {
				if spFile != "" || az {
					return errors.New("--public-cloud-names prints the CA trust variables only: drop --service-principal and --az")
				}
				writeTrustEnv(&out, t)
				if err := checkPublicCloudNames(ctx, t, tenant); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "tessera env: warning: %v\n", err)
				}
				_, err = cmd.OutOrStdout().Write(out.Bytes())
				return err
			}
			writeEnv(&out, t)
			if spFile != "" {
				if err := writeSPEnv(&out, spFile); err != nil {
					return err
				}
			}
			if az {
				dir, err := registerAzCloud(ctx, t, azDir)
				if err != nil {
					return err
				}
				fmt.Fprintln(&out, "export AZURE_CONFIG_DIR="+shellQuote(dir))
				fmt.Fprintf(cmd.ErrOrStderr(), "tessera env: az uses %s, where Tessera is registered and is the active cloud; your own az configuration is unchanged.\n", dir)
			}
			_, err = cmd.OutOrStdout().Write(out.Bytes())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&urlFlag, "url", "", "Tessera base URL (default $TESSERA_URL)")
	f.StringVar(&caFile, "ca-file", "", "PEM file of the CA that signed the server's certificate (default $TESSERA_CA_FILE)")
	f.StringVar(&dataDir, "data-dir", "", "Tessera data directory holding bootstrap.json (default $TESSERA_DATA_DIR, then ./tessera-data)")
	f.BoolVar(&az, "az", false, "also register and select Tessera as the cloud of an az configuration directory of its own")
	f.StringVar(&azDir, "az-config-dir", "", "the az configuration directory --az uses and exports as AZURE_CONFIG_DIR (default $TESSERA_CONFIG_DIR/azure)")
	f.BoolVar(&publicCloud, "public-cloud-names", false, "print only the CA trust variables, for a server that answers for the public cloud's host names (see `tessera hosts`)")
	f.StringVar(&spFile, "service-principal", "", "also sign the SDKs in as the service principal of this credentials file (the output of `tessera ad sp create-for-rbac`)")
	return cmd
}

// envTargetFor picks the server: what the person named on the command line,
// then what their shell already points at, then a local server's data
// directory, then the server they signed in to.
func envTargetFor(cmd *cobra.Command, urlFlag, caFile, dataDir string) (envTarget, error) {
	if caFile == "" {
		caFile = os.Getenv("TESSERA_CA_FILE")
	}
	switch {
	case urlFlag != "" && dataDir != "":
		return envTarget{}, errors.New("--url and --data-dir name two servers; give one")
	case urlFlag != "":
		return envTarget{URL: urlFlag, CAFile: caFile, from: "--url"}, nil
	case dataDir != "":
		return bootstrapTarget(dataDir)
	case os.Getenv("TESSERA_URL") != "":
		return envTarget{URL: os.Getenv("TESSERA_URL"), CAFile: caFile, from: "$TESSERA_URL"}, nil
	}
	if cmd.Flags().Changed("ca-file") {
		return envTarget{}, errors.New("--ca-file goes with --url (or $TESSERA_URL)")
	}
	dataDir = envOr("TESSERA_DATA_DIR", "./tessera-data")
	if _, err := os.Stat(filepath.Join(dataDir, "bootstrap.json")); err == nil {
		return bootstrapTarget(dataDir)
	}
	if path, err := credential.CachePath(); err == nil {
		if c, err := credential.LoadCache(path); err == nil && c.URL != "" {
			return envTarget{URL: c.URL, CAFile: c.CAFile, from: "the server of `tessera login` (" + path + ")"}, nil
		}
	}
	return envTarget{}, fmt.Errorf("which Tessera? %s has no bootstrap.json; pass --url and --ca-file (or set TESSERA_URL and TESSERA_CA_FILE), --data-dir, or run `tessera login` first", dataDir)
}

func bootstrapTarget(dataDir string) (envTarget, error) {
	b, err := readBootstrap(dataDir)
	if err != nil {
		return envTarget{}, err
	}
	return envTarget{URL: b.URL, CAFile: b.CAFile, TenantID: b.TenantID, from: filepath.Join(dataDir, "bootstrap.json")}, nil
}

// checkEnvServer asks the server for its home tenant's discovery document,
// through the CA the shell will trust: a typo in the URL or the wrong CA file
// fails here, not later in whichever client the person runs next. It returns
// the home tenant's id.
func checkEnvServer(ctx context.Context, t envTarget) (string, error) {
	u, err := url.Parse(t.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("Tessera URL %q (from %s) is not an https:// URL", t.URL, t.from)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return "", fmt.Errorf("read the CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return "", fmt.Errorf("CA file %s holds no PEM certificate", t.CAFile)
		}
	}
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Proxy: http.ProxyFromEnvironment,
	}}
	base := strings.TrimRight(t.URL, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/adfs/v2.0/.well-known/openid-configuration", nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		var unknownCA x509.UnknownAuthorityError
		if errors.As(err, &unknownCA) {
			trusted := "a CA this machine trusts"
			if t.CAFile != "" {
				trusted = "the CA in " + t.CAFile
			}
			return "", fmt.Errorf("%s (from %s) has a certificate not signed by %s: pass the server's CA file (its data directory's ca.pem) with --ca-file or TESSERA_CA_FILE: %w", base, t.from, trusted, err)
		}
		return "", fmt.Errorf("reach Tessera at %s (from %s; is `tessera serve` running there?): %w", base, t.from, err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s (from %s) does not answer as Tessera: %s for its discovery document", base, t.from, resp.Status)
	}
	// The issuer is {base}/{tenant id}/v2.0.
	tenant, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(doc.Issuer, base), "/"), "/")
	if tenant == "" {
		return "", fmt.Errorf("%s (from %s): the discovery document's issuer %q names no tenant", base, t.from, doc.Issuer)
	}
	return tenant, nil
}

// registerAzCloud registers Tessera as an az cloud and selects it in dir
// (default $TESSERA_CONFIG_DIR/azure), never in the person's own az
// configuration: selecting a cloud there would move their everyday az off
// Azure without them noticing.
func registerAzCloud(ctx context.Context, t envTarget, dir string) (string, error) {
	az, err := exec.LookPath("az")
	if err != nil {
		return "", errors.New("--az needs the Azure CLI (az) on PATH")
	}
	if dir == "" {
		conf, err := credential.ConfigDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(conf, "azure")
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("--az: %w", err)
	}
	base := strings.TrimRight(t.URL, "/")
	cloud := fmt.Sprintf(`{"endpoints":{"resourceManager":"%s/","microsoftGraphResourceId":"%s/graph/"}}`, base, base)
	run := func(args ...string) error {
		c := exec.CommandContext(ctx, az, args...)
		c.Env = append(os.Environ(), "AZURE_CONFIG_DIR="+dir, "AZURE_CORE_COLLECT_TELEMETRY=no")
		if t.CAFile != "" {
			// register reads the server's /metadata/endpoints, through
			// requests and through urllib.
			c.Env = append(c.Env, "REQUESTS_CA_BUNDLE="+t.CAFile, "SSL_CERT_FILE="+t.CAFile)
		}
		out, err := c.CombinedOutput()
		if err != nil {
			return fmt.Errorf("az %s (AZURE_CONFIG_DIR=%s): %w: %s", strings.Join(args[:2], " "), dir, err, bytes.TrimSpace(out))
		}
		return nil
	}
	// register fails once the cloud exists; update then refreshes its
	// endpoints, in case the server moved.
	if err := run("cloud", "register", "-n", "Tessera", "--cloud-config", cloud, "--output", "none"); err != nil {
		if err := run("cloud", "update", "-n", "Tessera", "--cloud-config", cloud, "--output", "none"); err != nil {
			return "", err
		}
	}
	if err := run("cloud", "set", "-n", "Tessera", "--output", "none"); err != nil {
		return "", err
	}
	return dir, nil
}

// writeTrustEnv prints the variables that make the clients trust the
// server's CA, and nothing else.
func writeTrustEnv(w io.Writer, t envTarget) {
	if t.CAFile == "" {
		fmt.Fprintln(w, "# The server's certificate is from a CA this machine already trusts: nothing to set.")
		return
	}
	ca := shellQuote(t.CAFile)
	fmt.Fprintln(w, strings.Join([]string{
		"export REQUESTS_CA_BUNDLE=" + ca,
		"export SSL_CERT_FILE=" + ca,
		"export NODE_EXTRA_CA_CERTS=" + ca,
	}, "\n"))
}

// checkPublicCloudNames asks login.microsoftonline.com for the tenant's
// discovery document, trusting the server's CA: it must be this Tessera
// answering (the hosts file sends the name here, the server serves it).
func checkPublicCloudNames(ctx context.Context, t envTarget, tenant string) error {
	const name = "login.microsoftonline.com"
	probe := envTarget{URL: "https://" + name, CAFile: t.CAFile, from: "the public cloud's name"}
	got, err := checkEnvServer(ctx, probe)
	switch {
	case err != nil:
		return fmt.Errorf("%s does not answer as this Tessera (start it with `tessera serve --public-cloud-names` on port 443, and run `tessera hosts --apply`): %v", name, err)
	case got != tenant:
		return fmt.Errorf("%s answers for tenant %s, not this Tessera's %s", name, got, tenant)
	}
	return nil
}

func writeEnv(w io.Writer, t envTarget) {
	var lines []string
	if t.CAFile != "" {
		ca := shellQuote(t.CAFile)
		lines = append(lines,
			"export REQUESTS_CA_BUNDLE="+ca,
			"export SSL_CERT_FILE="+ca,
			"export NODE_EXTRA_CA_CERTS="+ca,
			"export TESSERA_CA_FILE="+ca,
		)
	}
	base := strings.TrimRight(t.URL, "/")
	lines = append(lines,
		"export AZURE_AUTHORITY_HOST="+shellQuote(base),
		"# MSAL-based clients skip instance discovery for the ADFS-style tenant alias.",
		"export AZURE_TENANT_ID=adfs",
		"export TESSERA_URL="+shellQuote(base),
		"export TESSERA_TENANT_ID="+shellQuote(t.TenantID),
		"export AZUREML_DEV_URL_MFE="+shellQuote(base),
	)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
