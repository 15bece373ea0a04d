package domain

import "time"

// Audit event kinds.
const (
	AuditSignIn = "signin"
	AuditChange = "change"
)

// AuditEvent is one append-only audit record: a sign-in or a change.
type AuditEvent struct {
	ID            string
	Time          time.Time
	TenantID      string
	Kind          string // signin | change
	ActorID       string // object id of who acted (or the client id for a failed sign-in)
	ActorName     string
	Action        string // e.g. "token.client_credentials", "application.create"
	Target        string // what was acted on (resource id, app id, ...)
	Result        string // success | failure
	Reason        string // error code or description on failure
	ClientIP      string
	CorrelationID string
	// Details holds extra fields as a JSON object (grant, resource, credential type, ...).
	Details map[string]string
}
