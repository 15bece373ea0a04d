package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadLayers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tessera.json")
	if err := os.WriteFile(file, []byte(`{"listen":"127.0.0.1:9443","accessTokenLifetime":"30m","tenantName":"fromfile"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TESSERA_TENANT_NAME": "fromenv", "TESSERA_KEY_ROTATION_INTERVAL": "48h"}
	c, err := Load(file, func(k string) string { return env[k] }, func(c *Config) { c.DataDir = "/flag/dir" })
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9443" || c.AccessTokenLifetime.Duration != 30*time.Minute {
		t.Errorf("file values not applied: %+v", c)
	}
	if c.TenantName != "fromenv" || c.KeyRotationInterval.Duration != 48*time.Hour {
		t.Errorf("env did not override the file: %+v", c)
	}
	if c.DataDir != "/flag/dir" {
		t.Errorf("flag did not override: %q", c.DataDir)
	}
	if c.PublicURL != "https://localhost:9443" {
		t.Errorf("public URL %q, want https://localhost:9443", c.PublicURL)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
		wantURL string
	}{
		{"defaults", func(*Config) {}, "", "https://localhost:8443"},
		{"port 443 drops the port", func(c *Config) { c.Listen = "0.0.0.0:443" }, "", "https://localhost"},
		{"explicit public URL", func(c *Config) { c.PublicURL = "https://id.example.com/" }, "", "https://id.example.com"},
		{"http public URL", func(c *Config) { c.PublicURL = "http://id.example.com" }, "must be https", ""},
		{"public URL with path", func(c *Config) { c.PublicURL = "https://id.example.com/x" }, "must be https", ""},
		{"bad listen", func(c *Config) { c.Listen = "nonsense" }, "listen address", ""},
		{"bad store", func(c *Config) { c.Store = "mysql://x" }, "store", ""},
		{"postgres store", func(c *Config) { c.Store = "postgres://u:p@127.0.0.1/db" }, "", "https://localhost:8443"},
		{"half TLS", func(c *Config) { c.TLSCert = "cert.pem" }, "go together", ""},
		{"short token lifetime", func(c *Config) { c.AccessTokenLifetime.Duration = time.Minute }, "lifetime", ""},
		{"tenant name with dot", func(c *Config) { c.TenantName = "a.b" }, "DNS label", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if c.PublicURL != tc.wantURL {
					t.Errorf("public URL %q, want %q", c.PublicURL, tc.wantURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestLoadRejectsUnknownFileFields(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(file, []byte(`{"listne":"x"}`), 0o600)
	if _, err := Load(file, func(string) string { return "" }, nil); err == nil {
		t.Fatal("a misspelt field was accepted")
	}
}

func TestSizes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1048576", 1 << 20, true}, {"128MiB", 128 << 20, true}, {"1 GiB", 1 << 30, true},
		{"512KiB", 512 << 10, true}, {"-1", 0, false}, {"12MB", 0, false}, {"MiB", 0, false}, {"99999999999GiB", 0, false},
	} {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got.Bytes != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tc.in, got.Bytes, err, tc.want, tc.ok)
		}
	}
	env := map[string]string{"TESSERA_MEMORY_LIMIT": "256MiB", "TESSERA_PASSWORD_HASH_CONCURRENCY": "3", "TESSERA_FAILED_SIGNINS_PER_ADDRESS": "0"}
	c, err := Load("", func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.MemoryLimit.Bytes != 256<<20 || c.PasswordHashConcurrency != 3 || c.FailedSignInsPerAddress != 0 || c.PasswordHashMemory.Bytes != 128<<20 {
		t.Fatalf("loaded %+v", c)
	}
	env["TESSERA_MEMORY_LIMIT"] = "1MiB"
	if _, err := Load("", func(k string) string { return env[k] }, nil); err == nil {
		t.Fatal("a 1 MiB memory limit was accepted")
	}
}

// TestPublicCloudNames: off by default; on from the file, the variable or
// a flag, each overriding the one before; a variable that is not a boolean
// is refused.
func TestPublicCloudNames(t *testing.T) {
	none := func(string) string { return "" }
	if c, err := Load("", none, nil); err != nil || c.PublicCloudNames {
		t.Fatalf("default: %v %v", c.PublicCloudNames, err)
	}
	file := filepath.Join(t.TempDir(), "tessera.json")
	if err := os.WriteFile(file, []byte(`{"publicCloudNames":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(file, none, nil); err != nil || !c.PublicCloudNames {
		t.Fatalf("file: %v %v", c.PublicCloudNames, err)
	}
	env := map[string]string{"TESSERA_PUBLIC_CLOUD_NAMES": "false"}
	if c, err := Load(file, func(k string) string { return env[k] }, nil); err != nil || c.PublicCloudNames {
		t.Fatalf("env over file: %v %v", c.PublicCloudNames, err)
	}
	if c, err := Load(file, func(k string) string { return env[k] }, func(c *Config) { c.PublicCloudNames = true }); err != nil || !c.PublicCloudNames {
		t.Fatalf("flag over env: %v %v", c.PublicCloudNames, err)
	}
	env["TESSERA_PUBLIC_CLOUD_NAMES"] = "yes please"
	if _, err := Load("", func(k string) string { return env[k] }, nil); err == nil || !strings.Contains(err.Error(), "TESSERA_PUBLIC_CLOUD_NAMES") {
		t.Errorf("a non-boolean value: %v", err)
	}
}
