package token

import "testing"

func TestResourceFromRequest(t *testing.T) {
	cases := []struct {
		name    string
		req     Request
		want    string
		wantErr int
	}{
		{"v2 default scope", Request{Version: 2, Scope: "https://management.azure.com/.default"}, "https://management.azure.com", 0},
		{"v2 az double slash", Request{Version: 2, Scope: "https://management.core.windows.net//.default"}, "https://management.core.windows.net/", 0},
		{"v2 with OIDC scopes", Request{Version: 2, Scope: "openid profile offline_access https://ml.azure.com/.default"}, "https://ml.azure.com", 0},
		{"v2 app id", Request{Version: 2, Scope: "797f4846-ba00-4fd7-ba43-dac1f8f63013/.default"}, "797f4846-ba00-4fd7-ba43-dac1f8f63013", 0},
		{"v2 missing", Request{Version: 2}, "", 900144},
		{"v2 blank", Request{Version: 2, Scope: "   "}, "", 900144},
		{"v2 delegated scope", Request{Version: 2, Scope: "https://management.azure.com/user_impersonation"}, "", 70011},
		{"v2 two resources", Request{Version: 2, Scope: "a/.default b/.default"}, "", 70011},
		{"v2 only openid", Request{Version: 2, Scope: "openid"}, "", 70011},
		{"v2 bare .default", Request{Version: 2, Scope: "/.default"}, "", 70011},
		{"v1 resource", Request{Version: 1, Resource: "https://management.core.windows.net/"}, "https://management.core.windows.net/", 0},
		{"v1 scope fallback", Request{Version: 1, Scope: "https://management.azure.com/.default"}, "https://management.azure.com", 0},
		{"v1 missing", Request{Version: 1}, "", 900144},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResourceFromRequest(&tc.req)
			if tc.wantErr != 0 {
				te, ok := AsError(err)
				if !ok || te.Number != tc.wantErr {
					t.Fatalf("err = %v, want AADSTS%d", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestAudienceChecker(t *testing.T) {
	s := &Service{}
	req := &Request{BaseURL: "https://localhost:8443", Segment: "adfs", EndpointURL: "https://localhost:8443/adfs/oauth2/token"}
	req.Tenant.ID = "11111111-2222-3333-4444-555555555555"
	req.Tenant.Domains = []string{"default.tessera.local"}
	ok := s.audienceChecker(req)
	for aud, want := range map[string]bool{
		"https://localhost:8443/adfs/oauth2/token":                                      true,
		"https://localhost:8443/adfs/oauth2/token/":                                     true,
		"https://LOCALHOST:8443/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token": true,
		"https://localhost:8443/default.tessera.local/oauth2/token":                     true,
		"https://localhost:8443/11111111-2222-3333-4444-555555555555/v2.0":              true,
		"https://localhost:8443/99999999-2222-3333-4444-555555555555/oauth2/v2.0/token": false,
		"https://evil.example.com/adfs/oauth2/token":                                    false,
		"https://localhost:9443/adfs/oauth2/token":                                      false,
		"": false,
	} {
		if got := ok(aud); got != want {
			t.Errorf("aud %q accepted=%v, want %v", aud, got, want)
		}
	}
}
