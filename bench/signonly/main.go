// Command signonly is the reference point of the token benchmark: an HTTPS
// server that answers every POST with a freshly signed access token and
// does nothing else. It has no directory, no client authentication, no
// audit log and no metrics; it reads the form, builds claims of the size
// Tessera issues, signs them with internal/rsasign through go-jose, and
// writes an Entra-shaped token response over net/http, with the runtime
// settings `tessera serve` uses (GOMAXPROCS, GC target).
//
// What tokenload measures against it is the share of the RS256 floor that
// Go's HTTPS stack plus one signature per request leaves on this machine:
// the ceiling of any token service built on them here. bench/run.sh runs it
// after the Tessera runs, on the same certificate. It only listens on
// loopback addresses.
//
//	signonly -listen 127.0.0.1:9443 -cert DATA/server.pem -key DATA/server-key.pem
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/rsasign"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9443", "loopback address to listen on")
	certFile := flag.String("cert", "", "server certificate (PEM), e.g. a Tessera data directory's server.pem")
	keyFile := flag.String("key", "", "server key (PEM), e.g. a Tessera data directory's server-key.pem")
	backendName := flag.String("signing-backend", "auto", `RSA implementation, as tessera serve --signing-backend: "auto", "openssl" or "go"`)
	flag.Parse()
	if err := run(*listen, *certFile, *keyFile, *backendName); err != nil {
		fmt.Fprintln(os.Stderr, "signonly:", err)
		os.Exit(1)
	}
}

func run(listen, certFile, keyFile, backendName string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback address", listen)
	}
	if certFile == "" || keyFile == "" {
		return errors.New("-cert and -key are required")
	}
	backend, err := rsasign.ParseBackend(backendName)
	if err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	public := &jose.JSONWebKey{Key: &key.PublicKey, KeyID: rand.Text(), Algorithm: string(jose.RS256), Use: "sig"}
	signer, err := rsasign.New(key, public, backend)
	if err != nil {
		return err
	}
	jws, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: signer},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", public.KeyID))
	if err != nil {
		return fmt.Errorf("JWS signer: %w", err)
	}
	// The same settings as `tessera serve` (cmd/tessera), so that the
	// difference between the two runs is what Tessera does per request.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if signer.Native() && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + rsasign.NativeSlots())
	}
	slog.Info("signonly listening", "address", listen, "backend", signer.Backend(), "gomaxprocs", runtime.GOMAXPROCS(0))
	srv := &http.Server{
		Addr:              listen,
		Handler:           tokenHandler(jws),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return srv.ListenAndServeTLS(certFile, keyFile)
}

// tokenHandler answers a POST with a signed app-only access token shaped like
// Tessera's v1 token for the resource manager.
func tokenHandler(jws jose.Signer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST a token request", http.StatusMethodNotAllowed)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		now := time.Now()
		clientID := r.PostForm.Get("client_id")
		claims, err := json.Marshal(map[string]any{
			"aud": "https://management.azure.com/", "iss": "https://sts.localhost/" + clientID + "/",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"aio": rand.Text(), "appid": clientID, "appidacr": "1", "idp": "https://sts.localhost/",
			"idtyp": "app", "oid": clientID, "rh": rand.Text(), "sub": clientID, "tid": clientID,
			"uti": rand.Text(), "ver": "1.0", "xms_tcdt": now.Unix(),
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		signed, err := jws.Sign(claims)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		token, err := signed.CompactSerialize()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":%q}`, token)
	})
}
