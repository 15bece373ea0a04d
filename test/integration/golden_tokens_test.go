package integration

import (
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// varying replaces values that change per run (GUIDs, times, trace ids) so
// claim sets and error bodies can be kept as golden files.
var (
	guidRE  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	stampRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z`)
)

func stable(t *testing.T, s *testserver.Server, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = normalize(b, s)
	b = guidRE.ReplaceAll(b, []byte("{guid}"))
	return stampRE.ReplaceAll(b, []byte("{timestamp}"))
}

func TestGoldenTokenShapes(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	app := s.CreateApp(t, "golden-app", nil)
	claims := verifyWithJWKS(t, s, s.AppToken(t, app.AppID, app.Secret, armScope))
	// Values that change per token become their JSON type; the set of claims and the fixed values stay.
	for _, k := range []string{"iat", "nbf", "exp"} {
		claims[k] = "{number}"
	}
	claims["uti"] = "{uti}"
	compareGolden(t, "claims_client_credentials_v1.json", stable(t, s, claims))

	r := s.PostForm(t, "/"+s.Bootstrap.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {app.AppID}, "client_secret": {"wrong"}, "scope": {armScope}})
	compareGolden(t, "error_wrong_secret.json", stable(t, s, r.Body))

	keys := make([]string, 0, len(claims))
	for k := range claims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("claims: %v", keys)
}
