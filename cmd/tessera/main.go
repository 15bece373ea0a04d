// Command tessera is Tessera's single binary: `tessera serve` runs the
// server; every other verb is a client verb from internal/cli, except the
// operator verbs that work on a data directory directly (keys rotate).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/internal/app"
	"github.com/tessera-id/tessera/internal/cli"
	"github.com/tessera-id/tessera/internal/config"
	"github.com/tessera-id/tessera/internal/rsasign"
)

func main() {
	os.Exit(cli.Main(newRoot(), os.Args[1:], os.Stderr))
}

func newRoot() *cobra.Command {
	root := cli.Root()
	root.AddCommand(serveCommand(), keysCommand(), tenantCommand(), hostsCommand())
	root.Version = buildVersion()
	return root
}

// version is set by release builds (-ldflags "-X main.version=v1.2.3").
var version string

// buildVersion names what was built when no release set version: the
// module version `go install` records, else the commit a checkout was
// built from, so that a bug report from a source build still says which.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " (commit " + rev + modified + ")"
	}
	return v
}

// serverFlags binds the flags shared by server-side verbs.
type serverFlags struct {
	configFile, dataDir, listen, publicURL, store, tlsCert, tlsKey, logLevel, signingBackend, sqliteSynchronous string
	hostnames                                                                                                   []string
	// publicCloudNames is serve's alone.
	publicCloudNames bool
}

func (f *serverFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.configFile, "config", "", "JSON configuration file")
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory (default ./tessera-data)")
	fl.StringVar(&f.listen, "listen", "", "HTTPS listen address (default 127.0.0.1:8443)")
	fl.StringVar(&f.publicURL, "public-url", "", "base URL clients use (default derived from --listen)")
	fl.StringVar(&f.store, "store", "", `"sqlite" (default) or a postgres:// DSN`)
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate to serve instead of the local CA's")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM key of --tls-cert")
	fl.StringSliceVar(&f.hostnames, "hostname", nil, "extra DNS name or IP for the generated certificate (repeatable)")
	fl.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error")
	fl.StringVar(&f.sqliteSynchronous, "sqlite-synchronous", "", `how the embedded store commits: "full" (default: survives power loss) or "normal" (survives a crash of the process only)`)
	fl.StringVar(&f.signingBackend, "signing-backend", "", `RSA implementation that signs tokens: "auto" (default: the system's OpenSSL if it loads, else Go), "openssl" or "go"`)
}

func (f *serverFlags) load(cmd *cobra.Command) (config.Config, error) {
	return config.Load(f.configFile, os.Getenv, func(c *config.Config) {
		set := func(name string, dst *string, v string) {
			if cmd.Flags().Changed(name) {
				*dst = v
			}
		}
		set("data-dir", &c.DataDir, f.dataDir)
		set("listen", &c.Listen, f.listen)
		set("public-url", &c.PublicURL, f.publicURL)
		set("store", &c.Store, f.store)
		set("tls-cert", &c.TLSCert, f.tlsCert)
		set("tls-key", &c.TLSKey, f.tlsKey)
		set("log-level", &c.LogLevel, f.logLevel)
		set("signing-backend", &c.SigningBackend, f.signingBackend)
		set("sqlite-synchronous", &c.SQLiteSynchronous, f.sqliteSynchronous)
		if cmd.Flags().Changed("hostname") {
			c.Hostnames = f.hostnames
		}
		if cmd.Flags().Changed("public-cloud-names") {
			c.PublicCloudNames = f.publicCloudNames
		}
	})
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func serveCommand() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Tessera server (HTTPS)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load(cmd)
			if err != nil {
				return err
			}
			log := newLogger(cfg.LogLevel)
			// The server's live heap is a few megabytes, so Go's default GC
			// target collects several times a second under token load;
			// a larger target trades tens of megabytes for that CPU. GOGC
			// still overrides it.
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(400)
			}
			// A soft limit keeps that target from growing RSS past what
			// the operator budgets: near the limit the collector runs
			// more often instead. GOMEMLIMIT still overrides it.
			if os.Getenv("GOMEMLIMIT") == "" && cfg.MemoryLimit.Bytes > 0 {
				debug.SetMemoryLimit(cfg.MemoryLimit.Bytes)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := app.New(ctx, cfg, log)
			if err != nil {
				return err
			}
			// Start-up's garbage (the bootstrap's password hash, the
			// loaded change feed) would otherwise set the first heap goal
			// at several times its size; one collection here bases the
			// goal on what the server keeps.
			runtime.GC()
			if os.Getenv("GOMAXPROCS") == "" {
				procs := runtime.GOMAXPROCS(0)
				// A password check holds its P for the whole argon2 run
				// (about 24 ms), and Go's scheduler takes a P from a
				// running goroutine only every 10 ms; so with one P per
				// CPU, a flood of passwords makes every token request
				// wait behind hashes. A P for each check besides those
				// for the rest lets the kernel share the cores finely
				// instead: with 64 concurrent wrong passwords on 2 CPUs,
				// token p99 fell from 149 ms to 17 ms (bench/signinflood_test.go).
				procs += srv.PasswordHashSlots()
				if srv.SignsNatively() {
					// Likewise a goroutine in a native (cgo) signature holds
					// its P until the runtime hands the P off, so the Go
					// side of every request (reading it, answering, the
					// audit log) would wait behind signatures: on 2 CPUs at
					// 1,200 tokens/s, p99 fell from 47–83 ms to 11–15 ms.
					procs += rsasign.NativeSlots()
				}
				runtime.GOMAXPROCS(procs)
			}
			out := cmd.ErrOrStderr()
			if srv.FirstStart {
				fmt.Fprintf(out, "Tessera is bootstrapped. Administrator credentials (shown once) are in %s (mode 0600).\n", srv.BootstrapPath())
			} else {
				fmt.Fprintf(out, "Tessera data in %s; administrator credentials are in %s.\n", cfg.DataDir, srv.BootstrapPath())
			}
			if ca := srv.CAFile(); ca != "" {
				fmt.Fprintf(out, "Clients must trust %s. Point a shell here with:\n", ca)
				tessera, hint := tesseraCommand()
				envFlags := ""
				if cfg.PublicCloudNames {
					envFlags = " --public-cloud-names"
				}
				fmt.Fprintf(out, "  eval \"$(%s env%s --data-dir %s)\"\n", tessera, envFlags, shellWord(cfg.DataDir))
				if hint != "" {
					fmt.Fprintln(out, hint)
				}
				// A loopback URL is this machine's alone.
				if !strings.Contains(cfg.PublicURL, "://localhost") && !strings.Contains(cfg.PublicURL, "://127.") {
					fmt.Fprintf(out, "On another machine, with a copy of the CA file (it holds no secret): eval \"$(tessera env --url %s --ca-file ca.pem)\"\n", cfg.PublicURL)
				}
			}
			if cfg.PublicCloudNames {
				fmt.Fprintf(out, "Also answering for the public cloud's names (%s).\n", strings.Join(app.PublicCloudHosts(), ", "))
				if _, port, _ := net.SplitHostPort(cfg.Listen); port != "443" {
					fmt.Fprintf(out, "Clients reach those names on port 443, and this server listens on %s: use --listen <address>:443.\n", cfg.Listen)
				}
				host, _, _ := net.SplitHostPort(cfg.Listen)
				if host == "" || host == "0.0.0.0" || host == "::" {
					host = "<this machine's address>"
				}
				fmt.Fprintf(out, "Send the names here with `tessera hosts --apply --address %s` (as root); see docs/verbatim.md.\n", host)
			}
			fmt.Fprintf(out, "Serving %s\n", cfg.PublicURL)
			return srv.Run(ctx)
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&f.publicCloudNames, "public-cloud-names", false,
		"also answer for the public cloud's host names (login.microsoftonline.com, management.azure.com, graph.microsoft.com, ...) and put them in the generated certificate; see `tessera hosts`")
	return cmd
}

// tesseraCommand is how the person who started the server runs another
// verb: a banner that says `tessera` where none is on PATH (right after
// `go run`) would have them eval an empty string and think they are set.
// The hint, if any, says how to get `tessera` on PATH.
func tesseraCommand() (command, hint string) {
	if _, err := exec.LookPath("tessera"); err == nil {
		return "tessera", ""
	}
	const install = "(`go install ./cmd/tessera` puts `tessera` on PATH, in $(go env GOPATH)/bin.)"
	exe, err := os.Executable()
	if err != nil {
		return "tessera", install
	}
	// `go run` builds into a go-build directory it deletes on exit.
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		if _, err := os.Stat(filepath.Join("cmd", "tessera")); err == nil {
			return "go run ./cmd/tessera", install
		}
		return "tessera", install
	}
	return shellWord(exe), ""
}

// shellWord quotes s for a shell unless it needs none.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func keysCommand() *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "Manage token-signing keys"}
	var f serverFlags
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate the signing keys now: next becomes current, current stays published as previous",
		Long: `Rotates the signing keys in the data directory's store (or --store). Running servers pick the
rotation up through the change feed within a second; tokens signed by the previous key keep verifying until they
expire.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := app.OpenStore(ctx, cfg, nil)
			if err != nil {
				return err
			}
			defer st.Close()
			km := app.NewSigningKeys(st, cfg)
			if err := km.Load(ctx); err != nil {
				return err
			}
			before := km.CurrentKeyID()
			if err := km.Rotate(ctx); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Rotated signing keys: current key %s (was %s).\n", km.CurrentKeyID(), before)
			return nil
		},
	}
	f.bind(rotate)
	keys.AddCommand(rotate)
	return keys
}
