package sts

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tessera-id/tessera/internal/token"
)

func TestReadTokenForm(t *testing.T) {
	cases := []struct {
		name, body, ctype string
		basicID, basicPw  string
		wantCode          int
		want              map[string]string
	}{
		{"plain", "grant_type=client_credentials&client_id=a&client_secret=b%2Bc", "application/x-www-form-urlencoded", "", "", 0,
			map[string]string{"grant_type": "client_credentials", "client_id": "a", "client_secret": "b+c"}},
		{"charset param", "grant_type=x", "application/x-www-form-urlencoded; charset=utf-8", "", "", 0, map[string]string{"grant_type": "x"}},
		{"json body", `{"grant_type":"x"}`, "application/json", "", "", 900144, nil},
		{"duplicate", "scope=a&scope=b", "application/x-www-form-urlencoded", "", "", 90015, nil},
		{"bad escape", "scope=%zz", "application/x-www-form-urlencoded", "", "", 90014, nil},
		{"basic", "grant_type=client_credentials", "application/x-www-form-urlencoded", "app%3A1", "s%26cret", 0,
			map[string]string{"grant_type": "client_credentials", "client_id": "app:1", "client_secret": "s&cret"}},
		{"basic and body id differ", "client_id=other", "application/x-www-form-urlencoded", "app", "s", 700021, nil},
		{"basic and body secret", "client_secret=x", "application/x-www-form-urlencoded", "app", "s", 90014, nil},
		{"too large", "a=" + strings.Repeat("x", maxFormBytes), "application/x-www-form-urlencoded", "", "", 90014, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/t/oauth2/v2.0/token", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.ctype)
			if tc.basicID != "" {
				r.SetBasicAuth(tc.basicID, tc.basicPw)
			}
			got, err := readTokenForm(httptest.NewRecorder(), r)
			if tc.wantCode != 0 {
				te, ok := token.AsError(err)
				if !ok || te.Number != tc.wantCode {
					t.Fatalf("err = %v, want AADSTS%d", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// FuzzReadTokenForm: any body and Basic header yields a form or a typed
// protocol error, never a panic or an untyped error.
func FuzzReadTokenForm(f *testing.F) {
	f.Add("grant_type=client_credentials&client_id=a&client_secret=b&scope=x%2F.default", "")
	f.Add("a=1&a=2", "Basic YTpi")
	f.Add("%zz", "Basic !!!")
	f.Add("client_id=x", "Basic eDp5")
	f.Fuzz(func(t *testing.T, body, auth string) {
		r := httptest.NewRequest("POST", "/t/oauth2/v2.0/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		form, err := readTokenForm(httptest.NewRecorder(), r)
		if err != nil {
			if _, ok := token.AsError(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if form == nil {
			t.Fatal("nil form without error")
		}
	})
}
