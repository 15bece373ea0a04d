//go:build cgo && linux

package rsasign

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"
)

// libcryptoNames are tried in order: OpenSSL 3 first, then 1.1.
var libcryptoNames = []string{"libcrypto.so.3", "libcrypto.so.1.1"}

var loadLibcrypto = sync.OnceValues(func() (string, error) {
	var errs []error
	for _, name := range libcryptoNames {
		if ok, _ := openssl.CheckVersion(name); !ok {
			errs = append(errs, fmt.Errorf("%s not found", name))
			continue
		}
		// Only the first Init takes effect, so stop at the first library
		// that loads, whatever its outcome.
		if err := openssl.Init(name); err != nil {
			return "", fmt.Errorf("load %s: %w", name, err)
		}
		return openssl.VersionText(), nil
	}
	return "", errors.Join(errs...)
})

type opensslKey struct{ key *openssl.PrivateKeyRSA }

func loadNative(key *rsa.PrivateKey) (nativeKey, string, error) {
	version, err := loadLibcrypto()
	if err != nil {
		return nil, "", err
	}
	if len(key.Primes) != 2 {
		return nil, "", errors.New("multi-prime RSA keys are not supported")
	}
	pre := key.Precomputed
	k, err := openssl.NewPrivateKeyRSA(bbig.Enc(key.N), bbig.Enc(big.NewInt(int64(key.E))), bbig.Enc(key.D),
		bbig.Enc(key.Primes[0]), bbig.Enc(key.Primes[1]), bbig.Enc(pre.Dp), bbig.Enc(pre.Dq), bbig.Enc(pre.Qinv))
	if err != nil {
		return nil, "", fmt.Errorf("import key into OpenSSL: %w", err)
	}
	return opensslKey{k}, version, nil
}

func (k opensslKey) signSHA256(digest []byte) ([]byte, error) {
	return openssl.SignRSAPKCS1v15(k.key, crypto.SHA256, digest)
}
