package graph

// The audit log in Microsoft Graph's shapes: auditLogs/signIns as
// microsoft.graph.signIn and auditLogs/directoryAudits as
// microsoft.graph.directoryAudit (v1.0), derived from domain.AuditEvent.
//
// Beyond v1.0's properties a sign-in carries authenticationRequirement (from
// Graph's beta signIn) and, as Graph's beta
// service-principal and managed-identity sign-ins do, servicePrincipalId,
// servicePrincipalName and managedServiceIdentity, and one Tessera
// extension: additionalDetails, directoryAudit's [{key,value}] list of what
// the producer recorded (the activity, grant, node, credential, ...).
// docs/operations.md ("The audit log through Graph") describes the mapping.

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/graph/odata"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/wire"
)

const (
	signInType         = "microsoft.graph.signIn"
	directoryAuditType = "microsoft.graph.directoryAudit"
	// auditScan bounds the store read behind a $filter: the store selects
	// by tenant, kind, id and time bounds (narrowAuditRead), and the
	// rest of a $filter is applied here in Go over the newest auditScan
	// events that those select.
	auditScan = 5000
)

// Filterable properties, as Graph documents them for these logs.
var signInSchema = odata.Declare(map[string]odata.Kind{
	"id": odata.KindString, "createdDateTime": odata.KindDateTime,
	"userId": odata.KindString, "userPrincipalName": odata.KindString,
	"userDisplayName": odata.KindString, "appId": odata.KindString,
	"appDisplayName": odata.KindString, "ipAddress": odata.KindString,
	"correlationId": odata.KindString, "conditionalAccessStatus": odata.KindString,
	"clientAppUsed": odata.KindString, "isInteractive": odata.KindBool,
	"resourceId": odata.KindString, "resourceDisplayName": odata.KindString,
	"servicePrincipalId": odata.KindString, "servicePrincipalName": odata.KindString,
	"status/errorCode": odata.KindNumber, "authenticationRequirement": odata.KindString,
})

var directoryAuditSchema = odata.Declare(map[string]odata.Kind{
	"id": odata.KindString, "activityDateTime": odata.KindDateTime,
	"activityDisplayName": odata.KindString, "category": odata.KindString,
	"correlationId": odata.KindString, "loggedByService": odata.KindString,
	"operationType": odata.KindString, "result": odata.KindString,
	"initiatedBy/user/id": odata.KindString, "initiatedBy/user/userPrincipalName": odata.KindString,
	"initiatedBy/app/appId": odata.KindString, "initiatedBy/app/displayName": odata.KindString,
})

// auditLogType is one of the two logs: the schema its filters bind to, the
// time property the store can bound, and the JSON form of an event.
type auditLogType struct {
	schema       odata.Schema
	typeName     string
	timeProperty string // the event's time, which the store can bound
	shape        func(domain.AuditEvent) map[string]any
}

var (
	signInLog         = auditLogType{signInSchema, signInType, "createdDateTime", signInJSON}
	directoryAuditLog = auditLogType{directoryAuditSchema, directoryAuditType, "activityDateTime", directoryAuditJSON}
)

func auditLogOf(kind string) auditLogType {
	if kind == domain.AuditSignIn {
		return signInLog
	}
	return directoryAuditLog
}

// auditList serves auditLogs/signIns and auditLogs/directoryAudits, newest
// first, with $top (1..1000, default 100) and $filter.
func (h *Handler) auditList(kind string) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		if !h.authorize(w, r, c, directory.OpReadAuditLogs, "", "auditLogs.read") {
			return
		}
		logType := auditLogOf(kind)
		q := r.URL.Query()
		limit := 100
		if v := q.Get("$top"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Invalid value for $top: must be 1..1000.")
				return
			}
			limit = n
		}
		var filter *odata.Filter
		if f, ok := q["$filter"]; ok {
			var qerr *odata.Error
			if filter, qerr = odata.ParseFilter(f[0], logType.schema, logType.typeName); qerr != nil {
				h.writeError(w, r, http.StatusBadRequest, qerr.Code, qerr.Message)
				return
			}
		}
		sel := store.AuditFilter{TenantID: c.TenantID, Kind: kind, Limit: limit}
		if filter != nil {
			sel.Limit = auditScan
			narrowAuditRead(&sel, filter, logType.timeProperty)
		}
		events, err := h.store.ListAudit(r.Context(), sel)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		out := make([]map[string]any, 0, min(len(events), limit))
		for _, e := range events {
			obj := logType.shape(e)
			if !filter.Match(obj) {
				continue
			}
			if out = append(out, obj); len(out) == limit {
				break
			}
		}
		wire.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": h.metadata(r) + "auditLogs/" + auditSet(kind), "value": out})
	}
}

// narrowAuditRead hands the store the parts of a bound $filter it can
// select on: an id (id eq '…') and bounds on the event's time
// (createdDateTime or activityDateTime ge|gt|le|lt …), when every result must
// satisfy them, i.e. at the top level or in a top-level "and". The whole
// filter is still applied to what the store returns.
func narrowAuditRead(sel *store.AuditFilter, f *odata.Filter, timeProperty string) {
	if id, ok := f.RequiredEqual("id"); ok {
		sel.ID = id
	}
	sel.Since, sel.Until = f.RequiredTimeRange(timeProperty)
}

// auditGet serves auditLogs/signIns/{id} and auditLogs/directoryAudits/{id}:
// the store reads the event by its id, within the caller's tenant and the
// log's kind.
func (h *Handler) auditGet(kind string) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		if !h.authorize(w, r, c, directory.OpReadAuditLogs, "", "auditLogs.read") {
			return
		}
		id := r.PathValue("id")
		events, err := h.store.ListAudit(r.Context(), store.AuditFilter{TenantID: c.TenantID, Kind: kind, ID: id, Limit: 1})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if len(events) == 0 {
			h.writeError(w, r, http.StatusNotFound, wire.GraphResourceNotFound, wire.GraphNotFoundMessage(displayRef(id)))
			return
		}
		obj := auditLogOf(kind).shape(events[0])
		obj["@odata.context"] = h.metadata(r) + "auditLogs/" + auditSet(kind) + "/$entity"
		wire.WriteJSON(w, http.StatusOK, obj)
	}
}

func auditSet(kind string) string {
	if kind == domain.AuditSignIn {
		return "signIns"
	}
	return "directoryAudits"
}

var aadsts = regexp.MustCompile(`^AADSTS(\d+):?\s*`)

// signInStatus is Graph's signInStatus: errorCode 0 on success, else the
// AADSTS number of Reason. A failure without an AADSTS number (a
// managed-identity refusal, a server error) has errorCode -1: Entra has no
// code for it, and 0 would read as success.
func signInStatus(e domain.AuditEvent) map[string]any {
	if e.Result != "failure" {
		return map[string]any{"errorCode": 0, "failureReason": "", "additionalDetails": ""}
	}
	code, reason := -1, e.Reason
	if m := aadsts.FindStringSubmatch(e.Reason); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			code, reason = n, e.Reason[len(m[0]):]
		}
	}
	return map[string]any{"errorCode": code, "failureReason": reason, "additionalDetails": e.Reason}
}

// signInJSON maps a sign-in event to microsoft.graph.signIn. Producers:
// internal/token signInEvent (Action token.<grant>; ActorID is the client id
// until the principal is known), internal/sts pages (Action <flow>.<step>,
// devicecode.decision: interactive user sign-ins), managed-identity refusals
// and refresh-family revocation failures.
func signInJSON(e domain.AuditEvent) map[string]any {
	d := e.Details
	grant, isToken := strings.CutPrefix(e.Action, "token.")
	clientID := d["clientId"]
	obj := map[string]any{
		"id": e.ID, "createdDateTime": graphTime(e.Time), "appId": clientID, "appDisplayName": "",
		"ipAddress": e.ClientIP, "correlationId": e.CorrelationID, "isInteractive": !isToken || grant == "password",
		"resourceId": e.Target, "resourceDisplayName": d["resource"],
		"userId": "", "userPrincipalName": "", "userDisplayName": "", "clientAppUsed": "",
		"conditionalAccessStatus": "notApplied", "status": signInStatus(e),
		"appliedConditionalAccessPolicies": appliedPolicies(d["appliedConditionalAccessPolicies"]),
	}
	if s := d["conditionalAccessStatus"]; s != "" {
		obj["conditionalAccessStatus"] = s
	}
	// authenticationRequirement (Graph beta's signIn) is the strongest
	// authentication the sign-in carried: multiFactorAuthentication once a
	// second factor was verified (amr holds mfa), as the producers record.
	obj["authenticationRequirement"] = "singleFactorAuthentication"
	if slices.Contains(strings.Fields(d["amr"]), "mfa") {
		obj["authenticationRequirement"] = "multiFactorAuthentication"
	}
	known := e.ActorID != "" && e.ActorID != clientID // the principal, not yet the client id
	switch grant {
	case "client_credentials", grantManagedIdentity, grantWorkloadIdentity:
		obj["appDisplayName"], obj["servicePrincipalName"] = e.ActorName, e.ActorName
		obj["servicePrincipalId"] = ""
		if known {
			obj["servicePrincipalId"] = e.ActorID
		}
		if grant != "client_credentials" {
			msi := map[string]any{"msiType": "none", "associatedResourceId": d["computeId"], "federatedTokenId": "", "federatedTokenIssuer": ""}
			if grant == grantManagedIdentity {
				// identityResourceId is the user-assigned identity resource, or
				// the compute for a system-assigned identity.
				switch {
				case strings.Contains(strings.ToLower(d["identityResourceId"]), "/providers/microsoft.managedidentity/userassignedidentities/"):
					msi["msiType"] = "userAssigned"
				case d["principalId"] != "":
					msi["msiType"] = "systemAssigned"
				}
				obj["servicePrincipalId"] = d["principalId"]
				if e.Result != "success" {
					obj["resourceId"] = "" // Target is the compute, not a resource
				}
			} else {
				msi["federatedTokenId"], msi["federatedTokenIssuer"] = e.Target, d["issuer"]
				obj["resourceId"], obj["resourceDisplayName"] = "", d["audience"]
			}
			obj["managedServiceIdentity"] = msi
		}
	default: // a person's sign-in
		if known {
			obj["userId"] = e.ActorID
		}
		obj["userPrincipalName"], obj["userDisplayName"] = e.ActorName, e.ActorName
		if isToken {
			obj["clientAppUsed"] = "Mobile Apps and Desktop clients"
		} else if e.Action != "refresh.revoke" {
			obj["clientAppUsed"] = "Browser"
		}
	}
	obj["additionalDetails"] = keyValues(d, "action", e.Action)
	return obj
}

// Grants (token.<grant>) whose sign-ins are a managed identity's or a
// node's (internal/token's GrantManagedIdentity, GrantWorkloadIdentity).
const (
	grantManagedIdentity  = "managed_identity"
	grantWorkloadIdentity = "workload_identity"
)

// appliedPolicies is Graph's appliedConditionalAccessPolicy list from the
// JSON the policy engine records.
func appliedPolicies(s string) []any {
	out := []any{}
	if s == "" || s == "null" {
		return out
	}
	var list []map[string]any
	if json.Unmarshal([]byte(s), &list) != nil {
		return out
	}
	for _, p := range list {
		out = append(out, p)
	}
	return out
}

// keyValues is Graph's keyValue list of details, sorted by key, with extra
// key/value pairs first.
func keyValues(d map[string]string, extra ...string) []any {
	out := []any{}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			out = append(out, map[string]any{"key": extra[i], "value": extra[i+1]})
		}
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		if k != "appliedConditionalAccessPolicies" { // a property of its own
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, map[string]any{"key": k, "value": d[k]})
	}
	return out
}

// auditObject describes the object type an Action's first segment names.
type auditObject struct{ category, typ, display string }

var auditObjects = map[string]auditObject{
	"user":                    {"UserManagement", "User", "user"},
	"group":                   {"GroupManagement", "Group", "group"},
	"application":             {"ApplicationManagement", "Application", "application"},
	"servicePrincipal":        {"ApplicationManagement", "ServicePrincipal", "service principal"},
	"directoryRole":           {"RoleManagement", "Role", "member to role"},
	"conditionalAccessPolicy": {"Policy", "Policy", "conditional access policy"},
	"namedLocation":           {"Policy", "Policy", "named location"},
	"auditLogs":               {"DirectoryManagement", "Directory", "audit logs"},
	"signingKey":              {"KeyManagement", "Other", "signing keys"},
}

// operationType is Graph's operationType for an Action's last segment.
func operationType(verb string) string {
	v := strings.ToLower(verb)
	switch {
	case v == "assign":
		return "Assign"
	case v == "revoke" || strings.HasPrefix(v, "unassign"):
		return "Unassign"
	case v == "create" || strings.HasPrefix(v, "add"):
		return "Add"
	case v == "delete" || strings.HasPrefix(v, "remove"):
		return "Delete"
	case strings.HasPrefix(v, "update") || strings.HasPrefix(v, "change") || strings.HasPrefix(v, "set") || v == "write":
		return "Update"
	}
	return "Other"
}

// activityName is a Graph-like activityDisplayName for an Action:
// "user.create" → "Add user", "application.addPassword" → "Add password to
// application" (Entra's wording where it has one), else the words of the
// action ("auditLogs.read" → "Read audit logs").
func activityName(action string, obj auditObject, known bool) string {
	parts := strings.Split(action, ".")
	noun := obj.display
	if !known {
		noun = words(parts[0])
	}
	verb := parts[len(parts)-1]
	if len(parts) == 3 { // group.member.add, servicePrincipal.appRoleAssignment.create
		sub := words(parts[1])
		switch operationType(verb) {
		case "Add":
			return "Add " + sub + " to " + noun
		case "Delete":
			return "Remove " + sub + " from " + noun
		}
		return upperFirst(words(verb)) + " " + sub + " of " + noun
	}
	switch verb {
	case "create":
		return "Add " + noun
	case "update":
		return "Update " + noun
	case "delete":
		return "Delete " + noun
	case "assign":
		return "Add " + noun
	case "revoke":
		return "Remove " + strings.Replace(noun, " to ", " from ", 1)
	case "changePassword":
		return "Change password (self-service)"
	case "resetPassword":
		return "Reset " + noun + " password"
	case "disable":
		return "Disable account"
	case "enable":
		return "Enable account"
	}
	w := strings.SplitN(words(verb), " ", 2)
	if len(w) == 2 { // addPassword → "Add password to application"
		prep := " of "
		switch operationType(verb) {
		case "Add":
			prep = " to "
		case "Delete":
			prep = " from "
		}
		return upperFirst(w[0]) + " " + w[1] + prep + noun
	}
	return upperFirst(words(verb)) + " " + noun
}

// words splits a lowerCamel name into lower-case words.
func words(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte(' ')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// directoryAuditJSON maps a change event to microsoft.graph.directoryAudit.
// Producers: the Graph handlers' recordChange (Details from its key/value
// pairs: id, displayName, state, owner, ...), the ARM handlers, and the
// self-service password change of the sign-in pages. The initiator is a
// user when its name is a user principal name (has an '@'), else an app:
// the event does not record which.
func directoryAuditJSON(e domain.AuditEvent) map[string]any {
	prefix, _, _ := strings.Cut(e.Action, ".")
	parts := strings.Split(e.Action, ".")
	obj, known := auditObjects[prefix]
	if !known {
		obj = auditObject{category: "Other", typ: "Other", display: words(prefix)}
	}
	activity, service := "", "Core Directory"
	if strings.Contains(e.Action, "/") {
		// An ARM operation (Microsoft.Authorization/roleAssignments/write):
		// its name is its display name, as in Azure's activity log.
		obj, known = auditObject{category: "ResourceManagement", typ: "AzureResource"}, true
		parts = strings.Split(e.Action, "/")
		activity, service = e.Action, "Azure Resource Manager"
	} else {
		activity = activityName(e.Action, obj, known)
	}
	if e.Action == "user.changePassword" {
		service = "Self-service Password Management"
	}
	result := e.Result
	if result == "" {
		result = "success"
	}
	var initiatedBy map[string]any
	if strings.Contains(e.ActorName, "@") {
		initiatedBy = map[string]any{"user": map[string]any{"id": e.ActorID, "userPrincipalName": e.ActorName,
			"displayName": nil, "ipAddress": e.ClientIP}, "app": nil}
	} else {
		initiatedBy = map[string]any{"user": nil, "app": map[string]any{"appId": nil, "servicePrincipalId": e.ActorID,
			"displayName": e.ActorName, "servicePrincipalName": nil}}
	}
	var targets []any
	if e.Target != "" || e.Details["id"] != "" {
		t := map[string]any{"id": e.Target, "displayName": e.Details["displayName"], "type": obj.typ, "modifiedProperties": []any{}}
		if id := e.Details["id"]; id != "" { // Target is then the name (a user's UPN)
			t["id"] = id
			if obj.typ == "User" {
				t["userPrincipalName"] = e.Target
			} else if t["displayName"] == "" {
				t["displayName"] = e.Target
			}
		}
		targets = append(targets, t)
	}
	if targets == nil {
		targets = []any{}
	}
	return map[string]any{
		"id": e.ID, "activityDateTime": graphTime(e.Time), "activityDisplayName": activity,
		"category": obj.category, "correlationId": e.CorrelationID, "initiatedBy": initiatedBy,
		"loggedByService": service, "operationType": operationType(parts[len(parts)-1]), "result": result,
		"resultReason": e.Reason, "targetResources": targets, "additionalDetails": keyValues(e.Details, "action", e.Action),
	}
}
