package sts

import (
	"testing"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/token"
)

func TestPermissionLines(t *testing.T) {
	ps := []domain.PermissionScope{
		{Value: "A.Read", Type: "User", UserConsentDisplayName: "Read your A", UserConsentDescription: "Yours.", AdminConsentDisplayName: "Read A", AdminConsentDescription: "All."},
		{Value: "A.Write", Type: "Admin", AdminConsentDisplayName: "Write A", AdminConsentDescription: "Writes."},
		{Value: "A.Bare", Type: "User"},
	}
	user := permissionLines(ps, false)
	if user[0].Name != "Read your A" || user[0].Description != "Yours." || user[1].Name != "Write A" || user[2].Name != "A.Bare" {
		t.Errorf("user lines %+v", user)
	}
	if admin := permissionLines(ps, true); admin[0].Name != "Read A" || admin[0].Description != "All." {
		t.Errorf("admin lines %+v", admin)
	}
	for _, tc := range []struct {
		missing []domain.PermissionScope
		want    bool
	}{{nil, false}, {ps[:1], false}, {ps[:2], true}, {[]domain.PermissionScope{{Value: "x", Type: "user"}}, false}} {
		if got := (token.ConsentRequest{Missing: tc.missing}).NeedsAdmin(); got != tc.want {
			t.Errorf("NeedsAdmin(%v) = %v", tc.missing, got)
		}
	}
}
