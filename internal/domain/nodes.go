package domain

import (
	"strings"
	"time"
)

// ComputeNode is a machine acting as a node of an ML compute: a real machine
// running `tessera node agent`, or one `tessera compute run`. It proves it is
// that node with a secret Tessera issued, and may then obtain tokens for the
// managed identities attached to its compute.
type ComputeNode struct {
	// ID is a GUID; it is also the first part of the node's secret, so that a
	// presented secret finds its record without a search.
	ID       string
	TenantID string
	// ComputeID is the ARM id of the compute, in the casing the compute was
	// created with.
	ComputeID string
	Name      string
	// SecretHash is the SHA-256 of the node secret. The secret itself is
	// shown once, when issued, and never stored.
	SecretHash []byte
	CreatedBy  string
	CreatedAt  time.Time
	// RotatedAt is when SecretHash last changed; zero when never rotated.
	RotatedAt time.Time
	// ExpiresAt ends the registration; zero means it lasts until revoked.
	ExpiresAt time.Time
}

// ManagedIdentityResourceID is the ARM id of the resource a managed
// identity's service principal belongs to (the resource of a system-assigned
// identity, or the user-assigned identity itself), kept among its service
// principal names; "" for any other principal.
func ManagedIdentityResourceID(sp ServicePrincipal) string {
	if sp.ServicePrincipalType != ServicePrincipalTypeManagedIdentity {
		return ""
	}
	for _, n := range sp.ServicePrincipalNames {
		if len(n) > len("/subscriptions/") && strings.EqualFold(n[:len("/subscriptions/")], "/subscriptions/") {
			return n
		}
	}
	return ""
}
