package sts

import "testing"

func TestTenantUnderADFS(t *testing.T) {
	for _, tc := range []struct {
		path, tenant string
		ok           bool
	}{
		{"/adfs/contoso.tessera.local/.well-known/openid-configuration", "contoso.tessera.local", true},
		{"/ADFS/adfs/.well-known/openid-configuration", "adfs", true},
		{"/adfs/.well-known/openid-configuration", "", false},
		{"/adfs//.well-known/openid-configuration", "", false},
		{"/adfs/a/b/.well-known/openid-configuration", "", false},
		{"/adfs/a/v2.0/.well-known/openid-configuration", "", false},
		{"/common/a/.well-known/openid-configuration", "", false},
		{"/adfs/a/.well-known/openid-configuration/x", "", false},
		{"/adf", "", false},
	} {
		tenant, ok := TenantUnderADFS(tc.path)
		if tenant != tc.tenant || ok != tc.ok {
			t.Errorf("TenantUnderADFS(%q) = %q, %v; want %q, %v", tc.path, tenant, ok, tc.tenant, tc.ok)
		}
	}
}
