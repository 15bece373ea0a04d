package compat

import (
	"testing"

	"github.com/tessera-id/tessera/test/testserver"
)

// `az login --tenant` takes a tenant id, a verified domain or the ADFS
// alias; newcomers try all three.
func TestAzCLILoginTenantNames(t *testing.T) {
	az := findAz(t)
	s := testserver.Start(t, testserver.Options{})
	b := s.Bootstrap
	for _, tenant := range []string{b.Domain, "adfs", b.TenantID} {
		t.Run(tenant, func(t *testing.T) {
			a := newAzSession(t, az, s)
			var subs []azSubscription
			a.json(t, &subs, "login", "--service-principal", "-u", b.AdminServicePrincipal.AppID, "-p="+b.AdminServicePrincipal.Secret, "--tenant", tenant)
			if len(subs) != 1 || subs[0].ID != b.SubscriptionID || subs[0].TenantID != b.TenantID || !subs[0].IsDefault {
				t.Fatalf("az login --tenant %s printed %+v", tenant, subs)
			}
			var tok struct{ AccessToken, Tenant string }
			a.json(t, &tok, "account", "get-access-token")
			if tok.AccessToken == "" || tok.Tenant != b.TenantID {
				t.Fatalf("az account get-access-token after --tenant %s: %+v", tenant, tok)
			}
		})
	}
}
