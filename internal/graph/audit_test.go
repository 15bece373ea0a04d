package graph

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

// TestAuditLogsGraphShapes: auditLogs/signIns and directoryAudits answer
// microsoft.graph.signIn and microsoft.graph.directoryAudit, filter as Graph
// documents, and read one event by id.
func TestAuditLogsGraphShapes(t *testing.T) {
	h := newHarness(t)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	const (
		client = "11111111-1111-1111-1111-111111111111"
		graph  = "00000003-0000-0000-c000-000000000000"
		miOID  = "22222222-2222-2222-2222-222222222222"
		userID = "33333333-3333-3333-3333-333333333333"
	)
	ca := `[{"id":"p1","displayName":"Require MFA","result":"success","enforcedGrantControls":["mfa"]}]`
	events := []domain.AuditEvent{
		{ID: "si-page", Time: at(0), Kind: domain.AuditSignIn, ActorID: userID, ActorName: "alice@t.tessera.local",
			Action: "authorize.interactive", Target: graph, Result: "success", ClientIP: "10.0.0.1", CorrelationID: "c1",
			Details: map[string]string{"clientId": client, "flow": "authorize", "principalType": "User", "amr": "pwd mfa",
				"conditionalAccessStatus": "success", "appliedConditionalAccessPolicies": ca}},
		{ID: "si-ropc", Time: at(1), Kind: domain.AuditSignIn, ActorID: client, ActorName: "bob@t.tessera.local",
			Action: "token.password", Result: "failure", Reason: "AADSTS50126: Error validating credentials due to invalid username or password.",
			Details: map[string]string{"clientId": client, "principalType": "User", "endpoint": "v2"}},
		{ID: "si-cc", Time: at(2), Kind: domain.AuditSignIn, ActorID: client, Action: "token.client_credentials", Result: "failure",
			Reason: "AADSTS7000215: Invalid client secret provided.", Details: map[string]string{"clientId": client, "endpoint": "v2"}},
		{ID: "si-mi", Time: at(3), Kind: domain.AuditSignIn, ActorID: miOID, ActorName: "ua-1", Action: "token.managed_identity",
			Target: graph, Result: "success", Details: map[string]string{"clientId": client, "nodeId": "n1", "computeId": "/subscriptions/s/vm1",
				"principalId": miOID, "identityResourceId": "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ua-1", "resource": "https://graph.microsoft.com"}},
		{ID: "si-mi-refused", Time: at(4), Kind: domain.AuditSignIn, ActorID: "n1", ActorName: "node-1", Action: "token.managed_identity",
			Target: "/subscriptions/s/vm1", Result: "failure", Reason: "identity not attached",
			Details: map[string]string{"nodeId": "n1", "computeId": "/subscriptions/s/vm1"}},
		{ID: "da-user", Time: at(5), Kind: domain.AuditChange, ActorID: h.admin.ID, ActorName: "admin@t.tessera.local",
			Action: "user.create", Target: "carol@t.tessera.local", Result: "success", ClientIP: "10.0.0.2", CorrelationID: "c2",
			Details: map[string]string{"id": userID}},
		{ID: "da-app", Time: at(6), Kind: domain.AuditChange, ActorID: h.app.ID, ActorName: "deployer", Action: "application.create",
			Result: "failure", Reason: "insufficient privileges"},
		{ID: "da-role", Time: at(7), Kind: domain.AuditChange, ActorID: h.admin.ID, ActorName: "admin@t.tessera.local",
			Action: "directoryRole.assign", Target: userID, Result: "success"},
		{ID: "da-arm", Time: at(8), Kind: domain.AuditChange, ActorID: h.admin.ID, ActorName: "admin@t.tessera.local",
			Action: "Microsoft.Authorization/roleAssignments/write", Target: "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/x",
			Result: "success"},
	}
	for i := range events {
		events[i].TenantID = h.tenant.ID
	}
	if err := h.st.AppendAudit(h.ctx, events...); err != nil {
		t.Fatal(err)
	}
	tok := h.adminTok()

	t.Run("filters", func(t *testing.T) {
		cases := []struct {
			path, filter string
			want         []string // ids, newest first; nil = a 400
		}{
			{"signIns", "", []string{"si-mi-refused", "si-mi", "si-cc", "si-ropc", "si-page"}},
			{"signIns", "userId eq '" + userID + "'", []string{"si-page"}},
			{"signIns", "userPrincipalName eq 'BOB@t.tessera.local'", []string{"si-ropc"}},
			{"signIns", "appId eq '" + client + "'", []string{"si-mi", "si-cc", "si-ropc", "si-page"}},
			{"signIns", "status/errorCode eq 7000215", []string{"si-cc"}},
			{"signIns", "status/errorCode eq 0", []string{"si-mi", "si-page"}},
			{"signIns", "status/errorCode ne 0", []string{"si-mi-refused", "si-cc", "si-ropc"}},
			{"signIns", "authenticationRequirement eq 'multiFactorAuthentication'", []string{"si-page"}},
			{"signIns", "authenticationRequirement eq 'singleFactorAuthentication' and status/errorCode ne 0", []string{"si-mi-refused", "si-cc", "si-ropc"}},
			{"signIns", "createdDateTime ge 2026-03-01T10:01:00Z and createdDateTime le 2026-03-01T10:03:00Z", []string{"si-mi", "si-cc", "si-ropc"}},
			{"signIns", "createdDateTime gt 2026-03-01T11:03:00+01:00", []string{"si-mi-refused"}},
			{"signIns", "isInteractive eq true", []string{"si-ropc", "si-page"}},
			{"signIns", "servicePrincipalId eq '" + miOID + "'", []string{"si-mi"}},
			{"signIns", "conditionalAccessStatus eq 'success'", []string{"si-page"}},
			{"signIns", "status/errorCode eq '0'", nil},
			{"signIns", "userId ge 'a'", nil},
			{"signIns", "createdDateTime ge '2026-03-01'", nil},
			{"signIns", "nosuch eq 'x'", nil},
			{"directoryAudits", "", []string{"da-arm", "da-role", "da-app", "da-user"}},
			{"directoryAudits", "activityDisplayName eq 'Add user'", []string{"da-user"}},
			{"directoryAudits", "category eq 'ApplicationManagement'", []string{"da-app"}},
			{"directoryAudits", "initiatedBy/user/id eq '" + h.admin.ID + "'", []string{"da-arm", "da-role", "da-user"}},
			{"directoryAudits", "activityDateTime ge 2026-03-01T10:06:00Z and activityDateTime le 2026-03-01T10:07:00Z", []string{"da-role", "da-app"}},
			{"directoryAudits", "result eq 'failure'", []string{"da-app"}},
			{"directoryAudits", "startswith(initiatedBy/user/userPrincipalName,'ADMIN@') and startswith(activityDisplayName,'Add')", []string{"da-role", "da-user"}},
			{"signIns", "status/errorCode ne 'x'", nil},
			{"signIns", "userId ne 0", nil},
			{"directoryAudits", "initiatedBy/nosuch/id eq 'x'", nil},
			// Parts the store selects on (narrowAuditRead); the rest still applies.
			{"signIns", "id eq 'si-cc'", []string{"si-cc"}},
			{"signIns", "id eq 'si-cc' and status/errorCode eq 0", []string{}},
			{"signIns", "id eq 'da-user'", []string{}},
			{"directoryAudits", "id eq 'da-user'", []string{"da-user"}},
			{"signIns", "createdDateTime ge 2026-03-01T10:01:00Z and createdDateTime gt 2026-03-01T10:03:00Z", []string{"si-mi-refused"}},
			{"signIns", "createdDateTime gt 2026-03-01T10:03:00Z and createdDateTime ge 2026-03-01T10:01:00Z", []string{"si-mi-refused"}},
			{"signIns", "userId in ('" + userID + "', 'x') and createdDateTime le 2026-03-01T10:03:00Z", []string{"si-page"}},
		}
		for _, c := range cases {
			path := "/auditLogs/" + c.path
			if c.filter != "" {
				path += "?$filter=" + url.QueryEscape(c.filter)
			}
			r := h.do(tok, "GET", path, nil)
			if c.want == nil {
				if r.status != 400 {
					t.Errorf("%s %q: %d %s, want 400", c.path, c.filter, r.status, r.raw)
				}
				continue
			}
			if r.status != 200 {
				t.Errorf("%s %q: %d %s", c.path, c.filter, r.status, r.raw)
				continue
			}
			var got []string
			for _, v := range r.values() {
				got = append(got, v["id"].(string))
			}
			if (len(got) > 0 || len(c.want) > 0) && !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s %q = %v, want %v", c.path, c.filter, got, c.want)
			}
		}
		if r := h.do(tok, "GET", "/auditLogs/signIns?$top=2&$filter="+url.QueryEscape("appId eq '"+client+"'"), nil); len(r.values()) != 2 {
			t.Errorf("$top with $filter: %s", r.raw)
		}
	})

	t.Run("mapping", func(t *testing.T) {
		cases := []struct {
			path string
			want map[string]any // JSON paths a/b → value
		}{
			{"signIns/si-page", map[string]any{
				"id": "si-page", "createdDateTime": "2026-03-01T10:00:00Z", "userId": userID, "userPrincipalName": "alice@t.tessera.local",
				"appId": client, "ipAddress": "10.0.0.1", "correlationId": "c1", "clientAppUsed": "Browser", "isInteractive": true,
				"conditionalAccessStatus": "success", "resourceId": graph, "status/errorCode": 0.0,
				"appliedConditionalAccessPolicies": []any{map[string]any{"id": "p1", "displayName": "Require MFA", "result": "success",
					"enforcedGrantControls": []any{"mfa"}}},
			}},
			{"signIns/si-ropc", map[string]any{
				"userId": "", "userPrincipalName": "bob@t.tessera.local", "appId": client, "isInteractive": true,
				"clientAppUsed": "Mobile Apps and Desktop clients", "conditionalAccessStatus": "notApplied",
				"status/errorCode": 50126.0, "status/failureReason": "Error validating credentials due to invalid username or password.",
			}},
			{"signIns/si-cc", map[string]any{
				"appId": client, "userPrincipalName": "", "servicePrincipalId": "", "isInteractive": false, "status/errorCode": 7000215.0,
			}},
			{"signIns/si-mi", map[string]any{
				"appId": client, "appDisplayName": "ua-1", "servicePrincipalId": miOID, "servicePrincipalName": "ua-1",
				"resourceId": graph, "resourceDisplayName": "https://graph.microsoft.com", "isInteractive": false,
				"managedServiceIdentity/msiType": "userAssigned", "managedServiceIdentity/associatedResourceId": "/subscriptions/s/vm1",
				"status/errorCode": 0.0,
			}},
			{"signIns/si-mi-refused", map[string]any{
				"resourceId": "", "status/errorCode": -1.0, "status/failureReason": "identity not attached",
				"managedServiceIdentity/msiType": "none",
			}},
			{"directoryAudits/da-user", map[string]any{
				"id": "da-user", "activityDateTime": "2026-03-01T10:05:00Z", "activityDisplayName": "Add user", "category": "UserManagement",
				"correlationId": "c2", "loggedByService": "Core Directory", "operationType": "Add", "result": "success", "resultReason": "",
				"initiatedBy/user/id": h.admin.ID, "initiatedBy/user/userPrincipalName": "admin@t.tessera.local",
				"initiatedBy/user/ipAddress": "10.0.0.2", "initiatedBy/app": nil,
				"targetResources": []any{map[string]any{"id": userID, "displayName": "", "type": "User",
					"userPrincipalName": "carol@t.tessera.local", "modifiedProperties": []any{}}},
			}},
			{"directoryAudits/da-app", map[string]any{
				"activityDisplayName": "Add application", "category": "ApplicationManagement", "operationType": "Add",
				"result": "failure", "resultReason": "insufficient privileges", "initiatedBy/user": nil,
				"initiatedBy/app/servicePrincipalId": h.app.ID, "initiatedBy/app/displayName": "deployer", "targetResources": []any{},
			}},
			{"directoryAudits/da-role", map[string]any{
				"activityDisplayName": "Add member to role", "category": "RoleManagement", "operationType": "Assign",
			}},
			{"directoryAudits/da-arm", map[string]any{
				"activityDisplayName": "Microsoft.Authorization/roleAssignments/write", "loggedByService": "Azure Resource Manager",
				"operationType": "Update",
			}},
		}
		for _, c := range cases {
			r := h.do(tok, "GET", "/auditLogs/"+c.path, nil)
			if r.status != 200 {
				t.Errorf("%s: %d %s", c.path, r.status, r.raw)
				continue
			}
			if ctx, _ := r.body["@odata.context"].(string); !strings.HasSuffix(ctx, "/$entity") {
				t.Errorf("%s: @odata.context %q", c.path, ctx)
			}
			for p, want := range c.want {
				var got any = r.body
				for _, seg := range strings.Split(p, "/") {
					m, _ := got.(map[string]any)
					got = m[seg]
				}
				if !reflect.DeepEqual(got, want) {
					gj, _ := json.Marshal(got)
					wj, _ := json.Marshal(want)
					t.Errorf("%s: %s = %s, want %s", c.path, p, gj, wj)
				}
			}
		}
	})

	t.Run("by id", func(t *testing.T) {
		for _, p := range []string{"/auditLogs/signIns/da-user", "/auditLogs/directoryAudits/si-page", "/auditLogs/signIns/nosuch"} {
			if r := h.do(tok, "GET", p, nil); r.status != 404 || r.errorField("code") != "Request_ResourceNotFound" {
				t.Errorf("%s: %d %s", p, r.status, r.raw)
			}
		}
		if r := h.do(h.plainTok(), "GET", "/auditLogs/signIns/si-page", nil); r.status != 403 {
			t.Errorf("plain user reads a sign-in: %d %s", r.status, r.raw)
		}
	})

	// An event behind more than auditScan newer ones is still found by its
	// id, directly and through $filter; a filter on other properties alone
	// looks at the newest auditScan events only.
	t.Run("older than the filter window", func(t *testing.T) {
		newer := make([]domain.AuditEvent, auditScan+1)
		for i := range newer {
			newer[i] = domain.AuditEvent{ID: "si-new-" + strconv.Itoa(i), Time: at(60 + i), TenantID: h.tenant.ID,
				Kind: domain.AuditSignIn, ActorID: client, Action: "token.client_credentials", Result: "success"}
		}
		if err := h.st.AppendAudit(h.ctx, newer...); err != nil {
			t.Fatal(err)
		}
		if r := h.do(tok, "GET", "/auditLogs/signIns/si-cc", nil); r.status != 200 || r.body["id"] != "si-cc" {
			t.Errorf("GET an old sign-in by id: %d %s", r.status, r.raw)
		}
		r := h.do(tok, "GET", "/auditLogs/signIns?$filter="+url.QueryEscape("id eq 'si-cc'"), nil)
		if v := r.values(); len(v) != 1 || v[0]["id"] != "si-cc" {
			t.Errorf("$filter id eq an old sign-in: %s", r.raw)
		}
		r = h.do(tok, "GET", "/auditLogs/signIns?$filter="+url.QueryEscape("status/errorCode eq 7000215"), nil)
		if v := r.values(); len(v) != 0 {
			t.Errorf("a filter without id or time reached past the newest %d events: %s", auditScan, r.raw)
		}
		r = h.do(tok, "GET", "/auditLogs/signIns?$filter="+url.QueryEscape("status/errorCode eq 7000215 and createdDateTime le 2026-03-01T10:05:00Z"), nil)
		if v := r.values(); len(v) != 1 || v[0]["id"] != "si-cc" {
			t.Errorf("a time window before the newer events: %s", r.raw)
		}
	})
}
