package app

import (
	"crypto/x509"
	"slices"
	"testing"
	"time"
)

// TestLocalTLSPublicCloudNames: the mode puts the public cloud's names in
// the server certificate, signed by the same CA; turning it off reissues
// the certificate without them; an unchanged setting keeps the certificate.
func TestLocalTLSPublicCloudNames(t *testing.T) {
	dir, now := t.TempDir(), time.Now()
	names := func(on bool) (*x509.Certificate, string) {
		t.Helper()
		pair, ca, err := ensureLocalTLS(dir, []string{"ml-id.example.com"}, on, now)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf, ca
	}
	off, ca := names(false)
	for _, n := range PublicCloudHosts() {
		if slices.Contains(off.DNSNames, n) {
			t.Errorf("without the mode the certificate names %s", n)
		}
	}
	on, ca2 := names(true)
	if ca2 != ca {
		t.Errorf("the CA moved: %s, then %s", ca, ca2)
	}
	for _, n := range append(PublicCloudHosts(), "localhost", "ml-id.example.com") {
		if err := on.VerifyHostname(n); err != nil {
			t.Errorf("with the mode: %v", err)
		}
	}
	if again, _ := names(true); again.SerialNumber.Cmp(on.SerialNumber) != 0 {
		t.Error("an unchanged setting reissued the certificate")
	}
	pair, _, _ := ensureLocalTLS(dir, nil, true, now)
	if missing := namesNotCovered(pair, PublicCloudHosts()); len(missing) != 0 {
		t.Errorf("namesNotCovered: %v", missing)
	}
	back, _ := names(false)
	pairOff, _, _ := ensureLocalTLS(dir, nil, false, now)
	if missing := namesNotCovered(pairOff, PublicCloudHosts()); len(missing) != len(PublicCloudHosts()) {
		t.Errorf("namesNotCovered without the names: %v", missing)
	}
	if back.SerialNumber.Cmp(on.SerialNumber) == 0 || back.VerifyHostname("login.microsoftonline.com") == nil {
		t.Error("turning the mode off kept the public cloud's names")
	}
}
