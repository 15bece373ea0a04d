package signing_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlite"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/token/signing"
)

func newKeys(t *testing.T) (*signing.Keys, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	km := signing.NewKeys(st, func(ctx context.Context, fn func(store.Keys) error) error {
		return st.InTx(ctx, func(tx store.Tx) error { return fn(tx) })
	}, signing.Options{})
	if err := km.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return km, st
}

func jwksKids(t *testing.T, km *signing.Keys) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(km.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func signClaims(t *testing.T, km *signing.Keys, tid string) string {
	t.Helper()
	now := time.Now()
	c := token.AccessClaims{Aud: "https://management.azure.com", Iss: "https://sts.windows.net/" + tid + "/", Tid: tid,
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(time.Hour).Unix(), Oid: "o", Sub: "o", Ver: "1.0"}
	b, _ := json.Marshal(c)
	tok, err := km.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestKeyRotationKeepsOldTokensValid(t *testing.T) {
	km, st := newKeys(t)
	ctx := context.Background()
	if kids := jwksKids(t, km); len(kids) != 2 {
		t.Fatalf("fresh JWKS has %d keys, want current and next", len(kids))
	}
	firstKid := km.CurrentKeyID()
	old := signClaims(t, km, "t1")
	next := jwksKids(t, km)
	if err := km.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if km.CurrentKeyID() == firstKid {
		t.Fatal("rotation did not change the current key")
	}
	var promoted bool
	for _, k := range next {
		promoted = promoted || k == km.CurrentKeyID()
	}
	if !promoted {
		t.Fatal("the published next key was not the one promoted: relying parties would not know it in advance")
	}
	if kids := jwksKids(t, km); len(kids) != 3 {
		t.Fatalf("after rotation the JWKS has %d keys, want next, current and previous", len(kids))
	}
	if _, err := token.NewVerifier(km).VerifyAccessToken(old, time.Now()); err != nil {
		t.Fatalf("a token signed before rotation no longer verifies: %v", err)
	}
	if _, err := token.NewVerifier(km).VerifyAccessToken(signClaims(t, km, "t1"), time.Now()); err != nil {
		t.Fatalf("a new token does not verify: %v", err)
	}
	// A second manager over the same store (another replica) sees the rotation.
	other := signing.NewKeys(st, func(ctx context.Context, fn func(store.Keys) error) error {
		return st.InTx(ctx, func(tx store.Tx) error { return fn(tx) })
	}, signing.Options{})
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if other.CurrentKeyID() != km.CurrentKeyID() {
		t.Fatalf("replica current key %s, want %s", other.CurrentKeyID(), km.CurrentKeyID())
	}
}

func TestVerifyAccessTokenRejects(t *testing.T) {
	km, _ := newKeys(t)
	other, _ := newKeys(t)
	good := signClaims(t, km, "t1")
	now := time.Now()
	cases := map[string]struct {
		raw string
		at  time.Time
	}{
		"foreign key":  {signClaims(t, other, "t1"), now},
		"expired":      {good, now.Add(2 * time.Hour)},
		"not yet":      {good, now.Add(-time.Hour)},
		"garbage":      {"a.b.c", now},
		"empty":        {"", now},
		"tampered sig": {good[:len(good)-4] + "AAAA", now},
	}
	for name, tc := range cases {
		if _, err := token.NewVerifier(km).VerifyAccessToken(tc.raw, tc.at); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := token.NewVerifier(km).VerifyAccessToken(good, now); err != nil {
		t.Fatalf("good token rejected: %v", err)
	}
}
