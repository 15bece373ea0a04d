package directory

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

func TestCheckClientSecret(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	secret, hash, err := NewClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	other, otherHash, _ := NewClientSecret()
	live := domain.PasswordCredential{SecretHash: hash, StartDateTime: now.Add(-time.Hour), EndDateTime: now.Add(time.Hour)}
	expired := domain.PasswordCredential{SecretHash: hash, StartDateTime: now.Add(-2 * time.Hour), EndDateTime: now.Add(-time.Hour)}
	future := domain.PasswordCredential{SecretHash: hash, StartDateTime: now.Add(time.Hour), EndDateTime: now.Add(2 * time.Hour)}
	otherLive := domain.PasswordCredential{SecretHash: otherHash, EndDateTime: now.Add(time.Hour)}
	cases := []struct {
		name   string
		creds  []domain.PasswordCredential
		secret string
		want   error
	}{
		{"match", []domain.PasswordCredential{live}, secret, nil},
		{"match among several", []domain.PasswordCredential{otherLive, live}, secret, nil},
		{"other secret of the app", []domain.PasswordCredential{otherLive, live}, other, nil},
		{"wrong", []domain.PasswordCredential{live}, "nope", ErrSecretInvalid},
		{"expired", []domain.PasswordCredential{expired}, secret, ErrSecretExpired},
		{"not yet valid", []domain.PasswordCredential{future}, secret, ErrSecretExpired},
		{"no credentials", nil, secret, ErrSecretInvalid},
		{"empty secret", []domain.PasswordCredential{live}, "", ErrSecretInvalid},
		{"unbounded dates", []domain.PasswordCredential{{SecretHash: hash}}, secret, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckClientSecret(tc.creds, tc.secret, now); !errors.Is(err, tc.want) {
				t.Fatalf("CheckClientSecret = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewClientSecretIsHighEntropyAndFormSafe(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		s, h, err := NewClientSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) < 40 || seen[s] || len(h) != 32 {
			t.Fatalf("weak or repeated secret %q", s)
		}
		if strings.ContainsAny(s, "+/=& ") {
			t.Fatalf("secret %q needs escaping in a form", s)
		}
		seen[s] = true
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q is not argon2id PHC", h)
	}
	if err := VerifyPassword(h, "correct horse"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := VerifyPassword(h, "wrong horse"); !errors.Is(err, ErrPasswordMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "plain"} {
		if err := VerifyPassword(bad, "x"); err == nil {
			t.Errorf("VerifyPassword(%q) accepted a malformed hash", bad)
		}
	}
}

func TestValidateRedirectURI(t *testing.T) {
	cases := map[string]bool{
		"https://app.example.com/callback": true,
		"http://localhost:8400":            true,
		"http://127.0.0.1/cb":              true,
		"http://app.example.com/callback":  false,
		"https://app.example.com/#frag":    false,
		"https://*.example.com/cb":         false,
		"not a uri":                        false,
		"ms-app://s-1-15-2":                true,
	}
	for uri, ok := range cases {
		if err := validateRedirectURI(uri); (err == nil) != ok {
			t.Errorf("validateRedirectURI(%q) = %v, want ok=%v", uri, err, ok)
		}
	}
}

func TestNormalizeResource(t *testing.T) {
	for in, want := range map[string]string{
		"https://management.azure.com/":         "https://management.azure.com",
		"https://Management.Azure.com":          "https://management.azure.com",
		"https://management.core.windows.net//": "https://management.core.windows.net",
		"api://x":                               "api://x",
	} {
		if got := NormalizeResource(in); got != want {
			t.Errorf("NormalizeResource(%q) = %q, want %q", in, got, want)
		}
	}
}
