// Package config holds Tessera's typed configuration and where it comes from:
// defaults, then an optional JSON file, then TESSERA_* environment variables,
// then command-line flags, each overriding the one before.
package config

import (
	"github.com/tessera-id/tessera/internal/rsasign"

	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the server configuration.
type Config struct {
	// DataDir holds the embedded database, keys, certificates and bootstrap.json.
	DataDir string `json:"dataDir"`
	// Listen is the HTTPS listen address.
	Listen string `json:"listen"`
	// PublicURL is the base URL clients use; derived from Listen when empty.
	PublicURL string `json:"publicUrl"`
	// Store is "sqlite" (default, in DataDir) or a postgres:// DSN.
	Store string `json:"store"`
	// TLSCert and TLSKey name a PEM certificate and key to serve instead of
	// the generated local CA's certificate.
	TLSCert string `json:"tlsCert"`
	TLSKey  string `json:"tlsKey"`
	// Hostnames are extra DNS names or IPs for the generated server certificate.
	Hostnames []string `json:"hostnames"`
	// TenantName names the first tenant (domain <name>.tessera.local).
	TenantName string `json:"tenantName"`
	// AccessTokenLifetime of issued access tokens.
	AccessTokenLifetime Duration `json:"accessTokenLifetime"`
	// KeyRotationInterval between automatic signing key rotations (0 disables).
	KeyRotationInterval Duration `json:"keyRotationInterval"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"logLevel"`
	// SigningBackend is the RSA implementation that signs tokens: "auto"
	// (the system's OpenSSL when it loads, else Go), "openssl" or "go".
	SigningBackend string `json:"signingBackend"`
	// SQLiteSynchronous is how the embedded store commits: "full" (default)
	// survives power loss; "normal" survives a crash of the process only.
	SQLiteSynchronous string `json:"sqliteSynchronous"`
	// PasswordHashConcurrency bounds the argon2id password checks running
	// at once (0: the CPUs, fewer if PasswordHashMemory cannot hold them).
	PasswordHashConcurrency int `json:"passwordHashConcurrency"`
	// PasswordHashMemory bounds the memory of the password checks running
	// at once (default 128 MiB; each check of a current hash takes 19 MiB).
	PasswordHashMemory Size `json:"passwordHashMemory"`
	// FailedSignInsPerAddress is how many failed sign-ins and client
	// authentications from one source address within five minutes block
	// that address for a while (default 100; 0 disables).
	FailedSignInsPerAddress int `json:"failedSignInsPerAddress"`
	// MemoryLimit is the Go runtime's soft memory limit (default 384 MiB;
	// 0 disables); the GOMEMLIMIT variable, when set, wins.
	MemoryLimit Size `json:"memoryLimit"`
	// PublicCloudNames makes the server also answer for the public cloud's
	// host names (login.microsoftonline.com, management.azure.com,
	// graph.microsoft.com, ...), each name for its own surface, and puts
	// them in the generated certificate: unmodified clients reach Tessera
	// once name resolution and trust point at it (docs/verbatim.md).
	PublicCloudNames bool `json:"publicCloudNames"`
}

// Size is a number of bytes that reads "128MiB", "1GiB", "512KiB" or a
// plain number from JSON and env.
type Size struct{ Bytes int64 }

// ParseSize reads a size: digits with an optional KiB, MiB or GiB suffix.
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return Size{}, fmt.Errorf("size %q must be a number of bytes, optionally with KiB, MiB or GiB", s)
	}
	return Size{n * mult}, nil
}

// String writes the size in the largest unit that divides it.
func (z Size) String() string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if z.Bytes != 0 && z.Bytes%u.mult == 0 {
			return strconv.FormatInt(z.Bytes/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(z.Bytes, 10)
}

// UnmarshalJSON accepts a size string or a number of bytes.
func (z *Size) UnmarshalJSON(b []byte) error {
	var n int64
	if err := json.Unmarshal(b, &n); err == nil {
		if n < 0 {
			return fmt.Errorf("size %d must not be negative", n)
		}
		z.Bytes = n
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("size must be a string like \"128MiB\" or a number of bytes: %w", err)
	}
	v, err := ParseSize(s)
	if err != nil {
		return err
	}
	*z = v
	return nil
}

// MarshalJSON writes the size as a string.
func (z Size) MarshalJSON() ([]byte, error) { return json.Marshal(z.String()) }

// Duration is a time.Duration that reads "1h30m" from JSON and env.
type Duration struct{ time.Duration }

// UnmarshalJSON accepts a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"1h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// Default returns the configuration of a first run with no settings.
func Default() Config {
	return Config{
		DataDir:                 "./tessera-data",
		Listen:                  "127.0.0.1:8443",
		Store:                   "sqlite",
		TenantName:              "default",
		AccessTokenLifetime:     Duration{time.Hour},
		KeyRotationInterval:     Duration{30 * 24 * time.Hour},
		LogLevel:                "info",
		SQLiteSynchronous:       "full",
		PasswordHashMemory:      Size{128 << 20},
		FailedSignInsPerAddress: 100,
		MemoryLimit:             Size{384 << 20},
	}
}

// Load builds the configuration: defaults, the JSON file at path (if not
// empty), the TESSERA_* variables read through getenv, then flags.
func Load(path string, getenv func(string) string, flags func(*Config)) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config file: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("parse config file %s: %w", path, err)
		}
	}
	if err := applyEnv(&c, getenv); err != nil {
		return c, err
	}
	if flags != nil {
		flags(&c)
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

func applyEnv(c *Config, getenv func(string) string) error {
	str := map[string]*string{
		"TESSERA_DATA_DIR": &c.DataDir, "TESSERA_LISTEN": &c.Listen, "TESSERA_PUBLIC_URL": &c.PublicURL,
		"TESSERA_STORE": &c.Store, "TESSERA_TLS_CERT": &c.TLSCert, "TESSERA_TLS_KEY": &c.TLSKey,
		"TESSERA_TENANT_NAME": &c.TenantName, "TESSERA_LOG_LEVEL": &c.LogLevel,
		"TESSERA_SIGNING_BACKEND": &c.SigningBackend, "TESSERA_SQLITE_SYNCHRONOUS": &c.SQLiteSynchronous,
	}
	for k, p := range str {
		if v := getenv(k); v != "" {
			*p = v
		}
	}
	ints := map[string]*int{
		"TESSERA_PASSWORD_HASH_CONCURRENCY": &c.PasswordHashConcurrency, "TESSERA_FAILED_SIGNINS_PER_ADDRESS": &c.FailedSignInsPerAddress,
	}
	for k, p := range ints {
		if v := getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a whole number", k, v)
			}
			*p = n
		}
	}
	sizes := map[string]*Size{"TESSERA_PASSWORD_HASH_MEMORY": &c.PasswordHashMemory, "TESSERA_MEMORY_LIMIT": &c.MemoryLimit}
	for k, p := range sizes {
		if v := getenv(k); v != "" {
			z, err := ParseSize(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			*p = z
		}
	}
	if v := getenv("TESSERA_PUBLIC_CLOUD_NAMES"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("TESSERA_PUBLIC_CLOUD_NAMES: %q is not true or false", v)
		}
		c.PublicCloudNames = b
	}
	if v := getenv("TESSERA_HOSTNAMES"); v != "" {
		c.Hostnames = strings.Split(v, ",")
	}
	durs := map[string]*Duration{
		"TESSERA_ACCESS_TOKEN_LIFETIME": &c.AccessTokenLifetime, "TESSERA_KEY_ROTATION_INTERVAL": &c.KeyRotationInterval,
	}
	for k, p := range durs {
		if v := getenv(k); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			p.Duration = d
		}
	}
	return nil
}

// Validate checks the configuration and fills derived values.
func (c *Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory must not be empty"))
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: %w", c.Listen, err))
	} else if _, err := strconv.Atoi(port); err != nil {
		errs = append(errs, fmt.Errorf("listen port %q is not a number", port))
	}
	if c.PublicURL == "" && err == nil {
		switch host {
		case "", "0.0.0.0", "::", "127.0.0.1", "::1":
			host = "localhost"
		}
		if port == "443" {
			c.PublicURL = "https://" + host
		} else {
			c.PublicURL = "https://" + net.JoinHostPort(host, port)
		}
	}
	if u, err := url.Parse(c.PublicURL); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		errs = append(errs, fmt.Errorf("public URL %q must be https://host[:port]", c.PublicURL))
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.Store != "sqlite" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		errs = append(errs, fmt.Errorf("store %q must be \"sqlite\" or a postgres:// URL", c.Store))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.AccessTokenLifetime.Duration < 5*time.Minute || c.AccessTokenLifetime.Duration > 24*time.Hour {
		errs = append(errs, fmt.Errorf("access token lifetime %s must be between 5m and 24h", c.AccessTokenLifetime))
	}
	if c.KeyRotationInterval.Duration < 0 {
		errs = append(errs, errors.New("key rotation interval must not be negative"))
	}
	if c.TenantName == "" || strings.ContainsAny(c.TenantName, " ./@") {
		errs = append(errs, fmt.Errorf("tenant name %q must be a single DNS label", c.TenantName))
	}
	if c.PasswordHashConcurrency < 0 {
		errs = append(errs, errors.New("password hash concurrency must not be negative"))
	}
	if c.PasswordHashMemory.Bytes < 32<<20 {
		errs = append(errs, fmt.Errorf("password hash memory %s must be at least 32MiB (one check takes 19MiB)", c.PasswordHashMemory))
	}
	if c.FailedSignInsPerAddress < 0 {
		errs = append(errs, errors.New("failed sign-ins per address must not be negative (0 disables the limit)"))
	}
	if c.MemoryLimit.Bytes != 0 && c.MemoryLimit.Bytes < 64<<20 {
		errs = append(errs, fmt.Errorf("memory limit %s must be 0 (none) or at least 64MiB", c.MemoryLimit))
	}
	if _, err := rsasign.ParseBackend(c.SigningBackend); err != nil {
		errs = append(errs, err)
	}
	if c.SQLiteSynchronous != "full" && c.SQLiteSynchronous != "normal" {
		errs = append(errs, fmt.Errorf("sqlite synchronous %q must be \"full\" or \"normal\"", c.SQLiteSynchronous))
	}
	return errors.Join(errs...)
}
