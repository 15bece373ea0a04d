package assertion

// Client assertions: JWTs a client sends to the token endpoint as
// client_assertion with client_assertion_type
// urn:ietf:params:oauth:client-assertion-type:jwt-bearer (RFC 7523).
//
// Two kinds reach this package:
//
//   - certificate assertions (private_key_jwt): iss == sub == client_id, signed
//     with the private key of a certificate registered on the application and
//     naming that certificate in the JOSE header (x5t, x5t#S256 or x5c). They are
//     verified by VerifyCertificate.
//   - federated assertions (workload identity federation): tokens minted by an
//     external OpenID Connect issuer (GitHub Actions, Kubernetes, another
//     tenant...) that the application trusts through a
//     FederatedIdentityCredential. They are verified by FederatedVerifier.
//
// Inspect parses either kind without verifying it, so the caller can
// tell them apart and route. All JWS parsing and signature checking is done by
// github.com/go-jose/go-jose/v4; this file only decodes the claims, because
// MSAL Python sends fractional NumericDates ("exp": 1795659666.5999951) that
// go-jose's jwt package rejects.

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // x5t is defined by RFC 7515 as a SHA-1 thumbprint; it identifies, it does not protect.
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tessera-id/tessera/internal/token/tokenerr"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tessera-id/tessera/internal/domain"
)

// DefaultAssertionClockSkew is the clock skew tolerated on exp and nbf when
// the caller does not choose one.
const DefaultAssertionClockSkew = 5 * time.Minute

// MaxClientAssertionLifetime bounds how long a certificate assertion may be
// valid: its exp may lie at most this far (plus the clock skew) after the time
// of the request, and at most this far after its nbf (or, without nbf, its
// iat).
//
// MSAL (Python, Go, Node, .NET) mints assertions that live 10 minutes, and
// Azure SDK assertion callbacks use similar lifetimes, so an hour leaves ample
// room for slow clocks and custom signers. The bound matters because the
// replay store must remember every jti until its assertion expires: an
// unbounded exp would let one client grow that store without limit and would
// turn a leaked assertion into a long-lived credential.
const MaxClientAssertionLifetime = time.Hour

// maxAssertionBytes bounds the compact JWS accepted at all. A certificate
// assertion carrying a three-certificate x5c chain is well under 10 KiB.
const maxAssertionBytes = 64 << 10

// assertionAlgorithms are the JWS algorithms accepted in client assertions:
// RSASSA-PKCS1-v1_5, RSASSA-PSS and ECDSA. "none", HMAC and EdDSA are refused
// by go-jose at parse time because they are not in this list.
var assertionAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.PS256, jose.ES256,
	jose.RS384, jose.PS384, jose.ES384,
	jose.RS512, jose.PS512, jose.ES512,
}

// Inspected is what Inspect reads from an assertion it has not
// verified. None of it may be trusted beyond routing the request.
type Inspected struct {
	Issuer    string
	Subject   string
	Audiences []string
	// X5t and X5tS256 are the header thumbprints exactly as sent (padding and
	// alphabet not normalised); empty when absent.
	X5t     string
	X5tS256 string
	// HasX5c reports an x5c certificate chain in the header.
	HasX5c bool
	// Alg is the JWS algorithm, one of RS256/384/512, PS256/384/512, ES256/384/512.
	Alg string
	// KeyID is the kid header, empty when absent.
	KeyID string
}

// IsCertificateAssertion reports whether iss == sub == clientID, the shape of
// a private_key_jwt assertion; any other assertion is a federated one.
func (in Inspected) IsCertificateAssertion(clientID string) bool {
	return clientID != "" && in.Issuer == clientID && in.Subject == clientID
}

// Inspect parses a compact JWS client assertion WITHOUT verifying its
// signature and returns its routing data. It fails with AADSTS50027
// (invalid_request) when the input is not a compact JWS, a part is not
// base64url, the header or claims are not JSON of the expected types, the
// header is marked critical, or the algorithm is not RS/PS/ES 256/384/512.
func Inspect(raw string) (Inspected, error) {
	pa, err := parseAssertion(raw)
	if err != nil {
		return Inspected{}, err
	}
	return pa.info, nil
}

// CertificateParams is what VerifyCertificate checks an
// assertion against.
type CertificateParams struct {
	// ClientID is the client_id of the request; iss and sub must equal it.
	ClientID string
	// Certificates are the application's key credentials; Key holds the DER
	// certificate. Credentials whose Type is neither empty nor
	// AsymmetricX509Cert, or whose Usage is neither empty nor Verify, are ignored.
	Certificates []domain.KeyCredential
	// AudienceOK accepts an aud value (normally the token endpoint URL of the
	// tenant). A nil AudienceOK rejects every assertion.
	AudienceOK func(aud string) bool
	// Now is the time of the request; zero means time.Now().
	Now time.Time
	// ClockSkew is tolerated on exp and nbf; zero or negative means
	// DefaultAssertionClockSkew.
	ClockSkew time.Duration
}

// Result is a verified certificate assertion.
type Result struct {
	// JTI and Expiry are for the caller's replay store.
	JTI    string
	Expiry time.Time
	// KeyID is the KeyID of the matched KeyCredential.
	KeyID string
	// Thumbprint is the SHA-1 thumbprint of the certificate, upper-case hex
	// (the form the Azure portal shows).
	Thumbprint string
}

// VerifyCertificate verifies a private_key_jwt client assertion as
// MSAL Python, MSAL Go, msal-node and MSAL.NET send it.
//
// The signing certificate is identified by the header: x5t (base64url SHA-1
// of the DER certificate; '=' padding and the standard +/ alphabet are
// tolerated, as MSAL Python and MSAL Go send them), x5t#S256 (SHA-256, same
// tolerance) or, when neither is present, x5c whose first element must be one
// of the registered certificates byte for byte. When both thumbprints are
// present both must identify the same certificate. The certificate must be a
// registered key credential valid at Now (zero Start/End dates are
// unbounded); its public key checks the signature (RS256/PS256 and the other
// RSA/ECDSA algorithms of Inspect; ES* only with an EC certificate of
// the matching curve). Then iss and sub must equal ClientID, one aud value
// must satisfy AudienceOK, exp must be present and not passed (with
// ClockSkew), nbf if present must not lie ahead (with ClockSkew), the
// lifetime must not exceed MaxClientAssertionLifetime, and jti must be present.
// Numeric dates may be integers or fractions.
//
// REPLAY IS NOT CHECKED HERE: the caller must record Result.JTI until
// Result.Expiry (plus the clock skew) in its replay store and refuse a
// jti it has seen.
//
// Every error is a *tokenerr.Error. Malformed input fails as Inspect does
// (AADSTS50027, invalid_request, HTTP 400); every other failure is
// invalid_client (HTTP 401):
//
//	700027  no certificate identifier in the header, bad thumbprint encoding,
//	        certificate not registered, credential expired / not yet valid,
//	        signature invalid, jti missing
//	700021  iss or sub differs from ClientID
//	700023  no aud value accepted by AudienceOK
//	700024  exp missing or passed, nbf ahead, lifetime too long
//
// Descriptions name the certificate by its public thumbprint only. Keys
// offered by the header itself (jwk, jku, x5u, or an x5c that is not
// registered) are never used.
func VerifyCertificate(raw string, p CertificateParams) (Result, error) {
	pa, err := parseAssertion(raw)
	if err != nil {
		return Result{}, err
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	skew := p.ClockSkew
	if skew <= 0 {
		skew = DefaultAssertionClockSkew
	}

	kc, cert, terr := findAssertionCertificate(pa, p, now)
	if terr != nil {
		return Result{}, terr
	}
	thumb := assertionSHA1Hex(kc.Key)

	payload, verr := pa.jws.Verify(cert.PublicKey)
	if verr != nil {
		return Result{}, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700027,
			"Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s']",
			thumb, assertionDate(kc.StartDateTime), assertionDate(kc.EndDateTime)).WithCause(verr)
	}
	// Decode the claims again from the bytes go-jose verified.
	claims, cerr := decodeAssertionClaims(payload)
	if cerr != nil {
		return Result{}, errAssertionMalformed(cerr)
	}

	if p.ClientID == "" || claims.Issuer != p.ClientID || claims.Subject != p.ClientID {
		which := "iss"
		if claims.Issuer == p.ClientID && p.ClientID != "" {
			which = "sub"
		}
		return Result{}, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700021,
			"Client assertion application identifier doesn't match 'client_id' parameter. [Reason - The '%s' claim must equal the client_id.]", which)
	}

	if !assertionAudienceAccepted(claims.Audience, p.AudienceOK) {
		return Result{}, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700023,
			"Client assertion audience claim does not match Realm issuer. [Reason - The 'aud' claim must be the token endpoint of the tenant.]")
	}

	if terr := checkAssertionTimes(claims, now, skew, MaxClientAssertionLifetime); terr != nil {
		return Result{}, terr
	}

	if claims.JTI == "" {
		return Result{}, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700027,
			"Client assertion failed validation. [Reason - The client assertion has no 'jti' claim; a unique 'jti' is required so the assertion cannot be replayed.]")
	}

	return Result{
		JTI:        claims.JTI,
		Expiry:     claims.Expiry.Time,
		KeyID:      kc.KeyID,
		Thumbprint: thumb,
	}, nil
}

// findAssertionCertificate picks the registered key credential the header
// names and checks that it is currently valid.
func findAssertionCertificate(pa *parsedAssertion, p CertificateParams, now time.Time) (*domain.KeyCredential, *x509.Certificate, *tokenerr.Error) {
	var want1, want256 []byte
	if pa.info.X5t != "" {
		b, err := decodeAssertionThumbprint(pa.info.X5t, sha1.Size)
		if err != nil {
			return nil, nil, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700027,
				"Client assertion failed signature validation. [Reason - The 'x5t' header is not a base64url-encoded SHA-1 certificate thumbprint.]").WithCause(err)
		}
		want1 = b
	}
	if pa.info.X5tS256 != "" {
		b, err := decodeAssertionThumbprint(pa.info.X5tS256, sha256.Size)
		if err != nil {
			return nil, nil, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700027,
				"Client assertion failed signature validation. [Reason - The 'x5t#S256' header is not a base64url-encoded SHA-256 certificate thumbprint.]").WithCause(err)
		}
		want256 = b
	}
	if want1 == nil && want256 == nil && !pa.info.HasX5c {
		return nil, nil, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700027,
			"Client assertion failed signature validation. [Reason - The client assertion header names no certificate: one of 'x5t', 'x5t#S256' or 'x5c' is required.]")
	}

	// The thumbprint shown in descriptions: what the client named, in the
	// portal's upper-case hex form.
	shown := ""
	switch {
	case want1 != nil:
		shown = strings.ToUpper(hex.EncodeToString(want1))
	case want256 != nil:
		shown = strings.ToUpper(hex.EncodeToString(want256))
	}

	var (
		matched  *domain.KeyCredential
		matchedC *x509.Certificate
		inactive *domain.KeyCredential // a match outside its validity window
	)
	for i := range p.Certificates {
		kc := &p.Certificates[i]
		if !usableKeyCredential(kc) {
			continue
		}
		if want1 != nil {
			sum := sha1.Sum(kc.Key) //nolint:gosec // certificate identification (x5t), see import
			if !bytes.Equal(sum[:], want1) {
				continue
			}
		}
		if want256 != nil {
			sum := sha256.Sum256(kc.Key)
			if !bytes.Equal(sum[:], want256) {
				continue
			}
		}
		cert, err := x509.ParseCertificate(kc.Key)
		if err != nil {
			continue // an unparsable registration can authenticate nothing
		}
		if want1 == nil && want256 == nil && !x5cLeafIs(pa.header, cert) {
			continue
		}
		if !keyCredentialActive(kc, now) {
			if inactive == nil {
				inactive = kc
			}
			continue
		}
		matched, matchedC = kc, cert
		break
	}
	if matched != nil {
		return matched, matchedC, nil
	}
	if inactive != nil {
		if shown == "" {
			shown = assertionSHA1Hex(inactive.Key)
		}
		reason, state := "The key used is expired.", "expired"
		if !inactive.StartDateTime.IsZero() && now.Before(inactive.StartDateTime) {
			reason, state = "The key used is not yet valid.", "not yet valid"
		}
		return nil, nil, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700027,
			"Client assertion failed signature validation. The certificate with identifier used to sign the client assertion is %s on application. [Reason - %s, Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]",
			state, reason, shown, assertionDate(inactive.StartDateTime), assertionDate(inactive.EndDateTime), assertionPrintable(p.ClientID))
	}
	used := "Certificate used by client: the first 'x5c' certificate"
	if shown != "" {
		used = "Thumbprint of key used by client: '" + shown + "'"
	}
	return nil, nil, tokenerr.Errorf(tokenerr.ErrInvalidClient, 700027,
		"Client assertion failed signature validation. The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., %s, Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]",
		used, assertionPrintable(p.ClientID))
}

// x5cLeafIs reports whether the x5c header's first certificate is cert, byte
// for byte. go-jose keeps the parsed chain private and only hands it out
// through Header.Certificates, which verifies a chain: with cert as the only
// root and no intermediates, a leaf equal to cert verifies as the one-element
// chain {cert}. CurrentTime is pinned inside cert's own validity window because
// the registration dates, not the certificate's, govern client authentication
// (exactly as for x5t).
func x5cLeafIs(h jose.Header, cert *x509.Certificate) bool {
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	chains, err := h.Certificates(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   cert.NotBefore,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil || len(chains) == 0 || len(chains[0]) == 0 {
		return false
	}
	return bytes.Equal(chains[0][0].Raw, cert.Raw)
}

func usableKeyCredential(kc *domain.KeyCredential) bool {
	if len(kc.Key) == 0 {
		return false
	}
	if kc.Type != "" && !strings.EqualFold(kc.Type, "AsymmetricX509Cert") {
		return false
	}
	if kc.Usage != "" && !strings.EqualFold(kc.Usage, "Verify") {
		return false
	}
	return true
}

func keyCredentialActive(kc *domain.KeyCredential, now time.Time) bool {
	if !kc.StartDateTime.IsZero() && now.Before(kc.StartDateTime) {
		return false
	}
	if !kc.EndDateTime.IsZero() && now.After(kc.EndDateTime) {
		return false
	}
	return true
}

// decodeAssertionThumbprint decodes a certificate thumbprint sent in base64url
// with or without '=' padding, or in the standard alphabet (MSAL Python and
// MSAL Go use base64.StdEncoding with padding), and checks its length.
func decodeAssertionThumbprint(s string, size int) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) != size {
		return nil, fmt.Errorf("thumbprint is %d bytes, want %d", len(b), size)
	}
	return b, nil
}

func assertionSHA1Hex(der []byte) string {
	sum := sha1.Sum(der) //nolint:gosec // certificate thumbprint, see import
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func assertionAudienceAccepted(auds []string, ok func(string) bool) bool {
	if ok == nil {
		return false
	}
	for _, a := range auds {
		if a != "" && ok(a) {
			return true
		}
	}
	return false
}

// checkAssertionTimes checks exp (required), nbf (optional) and, when
// maxLifetime > 0, the assertion's lifetime. All failures are AADSTS700024.
func checkAssertionTimes(c *assertionClaims, now time.Time, skew, maxLifetime time.Duration) *tokenerr.Error {
	if c.Expiry == nil {
		return tokenerr.Errorf(tokenerr.ErrInvalidClient, 700024,
			"Client assertion is not within its valid time range. [Reason - The 'exp' claim is required.]")
	}
	exp := c.Expiry.Time
	if !now.Before(exp.Add(skew)) {
		return tokenerr.Errorf(tokenerr.ErrInvalidClient, 700024,
			"Client assertion is not within its valid time range. Current time: %s, expiry time of assertion %s.",
			assertionDate(now), assertionDate(exp))
	}
	if c.NotBefore != nil {
		nbf := c.NotBefore.Time
		if now.Add(skew).Before(nbf) {
			return tokenerr.Errorf(tokenerr.ErrInvalidClient, 700024,
				"Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s.",
				assertionDate(now), assertionDate(nbf), assertionDate(exp))
		}
		if !nbf.Before(exp) {
			return tokenerr.Errorf(tokenerr.ErrInvalidClient, 700024,
				"Client assertion is not within its valid time range. [Reason - 'nbf' (%s) is not before 'exp' (%s).]",
				assertionDate(nbf), assertionDate(exp))
		}
	}
	if maxLifetime > 0 {
		start := (*assertionNumericDate)(nil)
		switch {
		case c.NotBefore != nil:
			start = c.NotBefore
		case c.IssuedAt != nil:
			start = c.IssuedAt
		}
		if exp.Sub(now) > maxLifetime+skew || (start != nil && exp.Sub(start.Time) > maxLifetime) {
			return tokenerr.Errorf(tokenerr.ErrInvalidClient, 700024,
				"Client assertion is not within its valid time range. [Reason - The assertion lifetime exceeds the maximum of %s. Current time: %s, expiry time of assertion %s.]",
				maxLifetime, assertionDate(now), assertionDate(exp))
		}
	}
	return nil
}

// assertionDate formats a time as Entra does in its descriptions.
func assertionDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

// assertionPrintable makes an untrusted value safe to echo in a description:
// control and invalid characters are replaced and the length is capped.
func assertionPrintable(s string) string {
	const maxRunes = 256
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxRunes {
			b.WriteString("...")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func errAssertionMalformed(cause error) *tokenerr.Error {
	return tokenerr.Errorf(tokenerr.ErrInvalidRequest, 50027, "JWT token is invalid or malformed.").WithCause(cause)
}

// parsedAssertion is a client assertion parsed by go-jose, not yet verified.
type parsedAssertion struct {
	jws    *jose.JSONWebSignature
	header jose.Header
	claims *assertionClaims
	info   Inspected
}

func parseAssertion(raw string) (*parsedAssertion, *tokenerr.Error) {
	if raw == "" {
		return nil, errAssertionMalformed(errors.New("empty assertion"))
	}
	if len(raw) > maxAssertionBytes {
		return nil, errAssertionMalformed(fmt.Errorf("assertion is %d bytes, more than %d", len(raw), maxAssertionBytes))
	}
	if strings.Count(raw, ".") != 2 {
		return nil, errAssertionMalformed(errors.New("not a compact JWS: want three dot-separated parts"))
	}
	jws, err := jose.ParseSignedCompact(raw, assertionAlgorithms)
	if err != nil {
		return nil, errAssertionMalformed(err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errAssertionMalformed(errors.New("want exactly one signature"))
	}
	h := jws.Signatures[0].Header
	pa := &parsedAssertion{jws: jws, header: h}
	pa.info.Alg = h.Algorithm
	pa.info.KeyID = h.KeyID
	for k := range h.ExtraHeaders {
		switch k {
		case "crit", "b64":
			// No extension is understood here; an unencoded payload (b64) is
			// not a JWT.
			return nil, errAssertionMalformed(fmt.Errorf("unsupported %q header", string(k)))
		}
	}
	if pa.info.X5t, err = assertionHeaderString(h, "x5t"); err != nil {
		return nil, errAssertionMalformed(err)
	}
	if pa.info.X5tS256, err = assertionHeaderString(h, "x5t#S256"); err != nil {
		return nil, errAssertionMalformed(err)
	}
	// go-jose has already parsed x5c (a bad chain fails ParseSignedCompact);
	// the chain itself is only reachable through Certificates, which reports
	// ErrMissingX5cHeader when there is none. Empty pools make the chain
	// verification it also performs fail fast, without chain building.
	_, x5cErr := h.Certificates(x509.VerifyOptions{Roots: x509.NewCertPool(), Intermediates: x509.NewCertPool()})
	pa.info.HasX5c = !errors.Is(x5cErr, jose.ErrMissingX5cHeader)

	claims, err := decodeAssertionClaims(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		return nil, errAssertionMalformed(err)
	}
	pa.claims = claims
	pa.info.Issuer = claims.Issuer
	pa.info.Subject = claims.Subject
	pa.info.Audiences = []string(claims.Audience)
	return pa, nil
}

func assertionHeaderString(h jose.Header, name jose.HeaderKey) (string, error) {
	v, ok := h.ExtraHeaders[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("header %q is not a string", string(name))
	}
	return s, nil
}

// assertionClaims are the registered claims a client assertion is checked on.
type assertionClaims struct {
	Issuer    string                `json:"iss"`
	Subject   string                `json:"sub"`
	Audience  assertionAudience     `json:"aud"`
	Expiry    *assertionNumericDate `json:"exp"`
	NotBefore *assertionNumericDate `json:"nbf"`
	IssuedAt  *assertionNumericDate `json:"iat"`
	JTI       string                `json:"jti"`
}

func decodeAssertionClaims(payload []byte) (*assertionClaims, error) {
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("claims are not a JSON object")
	}
	var c assertionClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	return &c, nil
}

// assertionAudience is the aud claim: a string or an array of strings.
type assertionAudience []string

func (a *assertionAudience) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*a = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = assertionAudience{s}
		return nil
	case len(b) > 0 && b[0] == '[':
		var ss []string
		if err := json.Unmarshal(b, &ss); err != nil {
			return errors.New("aud array must hold strings only")
		}
		*a = assertionAudience(ss)
		return nil
	}
	return errors.New("aud must be a string or an array of strings")
}

// assertionNumericDate is a JWT NumericDate (RFC 7519 §2): seconds since the
// epoch, an integer or - as MSAL Python sends - a fraction. Strings, negative
// values and dates past year 9999 are refused.
type assertionNumericDate struct {
	time.Time
}

// maxNumericDate is 9999-12-31T23:59:59Z.
const maxNumericDate = 253402300799

func (d *assertionNumericDate) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return fmt.Errorf("NumericDate must be a JSON number, not %.20s", s)
	}
	if !strings.ContainsAny(s, ".eE") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > maxNumericDate {
			return fmt.Errorf("NumericDate %.30s out of range", s)
		}
		d.Time = time.Unix(n, 0).UTC()
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > maxNumericDate {
		return fmt.Errorf("NumericDate %.30s out of range", s)
	}
	sec := math.Floor(f)
	nsec := math.Round((f - sec) * 1e9)
	d.Time = time.Unix(int64(sec), int64(nsec)).UTC()
	return nil
}
