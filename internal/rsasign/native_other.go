//go:build !(cgo && linux)

package rsasign

import (
	"crypto/rsa"
	"errors"
)

func loadNative(*rsa.PrivateKey) (nativeKey, string, error) {
	return nil, "", errors.New("this build has no OpenSSL binding (it needs cgo on Linux)")
}
