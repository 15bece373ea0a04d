package token

// Benchmarks of the signing floor of token issuance. They measure speed;
// nothing here asserts a time. The end-to-end figures (HTTPS, client
// authentication, audit) come from bench/ (see bench/README.md).
//
//	go test -run '^$' -bench 'RS256|KeyManagerSign|Mint' -cpu 1,2 ./internal/token/

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/sqlite"
	"github.com/tessera-id/tessera/internal/token/signing"
)

// benchClaims is a typical client-credentials (v1) access token payload.
func benchClaims() *AccessClaims {
	const tid = "5f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	return &AccessClaims{
		Aud: "https://management.azure.com/", Iss: "https://sts.windows.net/" + tid + "/",
		Iat: 1767225300, Nbf: 1767225300, Exp: 1767228900,
		AppID: "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", AppIDAcr: ClientAuthSecret,
		Idp: "https://sts.windows.net/" + tid + "/", Idtyp: IdentityTypeApp,
		Oid: "9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0", Sub: "9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0",
		Tid: tid, Uti: "AbCdEfGhIjKlMnOpQrStUv", Ver: "1.0",
	}
}

// benchKeyManager is the signing keys over the real SQLite store in a temporary
// directory, loaded with a fresh current and next key.
func benchKeyManager(b *testing.B) *signing.Keys {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "tessera.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	km := signing.NewKeys(st, func(ctx context.Context, fn func(store.Keys) error) error {
		return st.InTx(ctx, func(tx store.Tx) error { return fn(tx) })
	}, signing.Options{})
	if err := km.Load(ctx); err != nil {
		b.Fatal(err)
	}
	return km
}

// BenchmarkKeyManagerSign is signing.Keys.Sign of a typical claims payload:
// the go-jose signer (header, base64url, RS256) and compact serialisation.
func BenchmarkKeyManagerSign(b *testing.B) {
	km := benchKeyManager(b)
	payload, err := json.Marshal(benchClaims())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := km.Sign(payload); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkMint is Service.Mint: time and id claims, JSON encoding and
// KeyManager.Sign — everything of issuance after the client is known.
func BenchmarkMint(b *testing.B) {
	km := benchKeyManager(b)
	s := NewService(nil, km, nil, nil, nil, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, _, err := s.Mint(benchClaims(), time.Hour); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
