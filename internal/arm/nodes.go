package arm

// Nodes of a compute, managed by POST actions on the compute as ARM models
// actions (`.../computes/{c}/{action}`), each authorized as
// Microsoft.MachineLearningServices/workspaces/computes/{action}/action:
//
//	registerNode      {"name"?, "expiresInSeconds"?} → the node and its secret (shown once)
//	listNodes         → {"nodes": [...]}, never a secret
//	rotateNodeSecret  {"nodeId"} → a new secret; the old one stops working at once
//	revokeNode        {"nodeId"} → the registration is gone; its secret stops working at once
//
// Whoever may register a node on a compute may obtain tokens for the
// compute's identities, as whoever may run a job on it can in Azure; the
// AzureML Data Scientist role allows it (workspaces/*/action).

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/resources"
	"github.com/tessera-id/tessera/internal/token"
	"github.com/tessera-id/tessera/internal/wire"
)

const computeType = resources.ProviderML + "/workspaces/computes"

var nodeActions = map[string]bool{"registernode": true, "listnodes": true, "rotatenodesecret": true, "revokenode": true}

// maxNodeTTL bounds a registration's requested lifetime (a year); a node
// that should live longer is registered without expiry and rotated.
const maxNodeTTL = 366 * 24 * time.Hour

type nodeJSON struct {
	NodeID    string `json:"nodeId"`
	Name      string `json:"name"`
	ComputeID string `json:"computeId"`
	TenantID  string `json:"tenantId"`
	// NodeState is what azure-ai-ml's list_nodes shows.
	NodeState string `json:"nodeState"`
	CreatedAt string `json:"createdAt,omitempty"`
	CreatedBy string `json:"createdBy,omitempty"`
	RotatedAt string `json:"rotatedAt,omitempty"`
	ExpiresAt string `json:"expiresAt,omitempty"`
}

// nodeSecretJSON is a registration or rotation answer: the node, its new
// secret, and where to use it.
type nodeSecretJSON struct {
	nodeJSON
	Secret           string `json:"secret"`
	IdentityEndpoint string `json:"identityEndpoint"`
	IMDSEndpoint     string `json:"imdsEndpoint"`
	WorkloadToken    string `json:"workloadTokenEndpoint"`
	WorkloadIdentity struct {
		Issuer  string `json:"issuer"`
		Subject string `json:"subject"`
	} `json:"workloadIdentity"`
}

func timeJSON(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func nodeOf(n domain.ComputeNode) nodeJSON {
	return nodeJSON{NodeID: n.ID, Name: n.Name, ComputeID: n.ComputeID, TenantID: n.TenantID, NodeState: "idle", CreatedAt: timeJSON(n.CreatedAt),
		CreatedBy: n.CreatedBy, RotatedAt: timeJSON(n.RotatedAt), ExpiresAt: timeJSON(n.ExpiresAt)}
}

func (h *Handler) nodeSecretOf(r *http.Request, reg resources.NodeRegistration) nodeSecretJSON {
	base := h.base.For(r)
	out := nodeSecretJSON{nodeJSON: nodeOf(reg.Node), Secret: reg.Secret,
		IdentityEndpoint: base + "/msi/token", IMDSEndpoint: base, WorkloadToken: base + "/msi/workload-token"}
	out.WorkloadIdentity.Issuer = token.WorkloadIssuer(h.base.Public(), reg.Node.TenantID)
	out.WorkloadIdentity.Subject = reg.Node.ComputeID
	return out
}

// nodeAction serves the node actions on a compute; it reports false for any
// other action, which resourceAction then serves. The caller has authorized
// action on the compute.
func (h *Handler) nodeAction(w http.ResponseWriter, r *http.Request, c caller, target domain.ResourceID, resPath, actionName, action string) bool {
	name := strings.ToLower(actionName)
	if !strings.EqualFold(target.OperationType(), computeType) || !nodeActions[name] {
		return false
	}
	var body struct {
		Name             string `json:"name"`
		ExpiresInSeconds int64  `json:"expiresInSeconds"`
		NodeID           string `json:"nodeId"`
	}
	if !h.readJSON(w, r, &body) {
		return true
	}
	ctx := r.Context()
	var (
		out         any
		err         error
		auditTarget = resPath
	)
	switch name {
	case "registernode":
		ttl := time.Duration(body.ExpiresInSeconds) * time.Second
		if body.ExpiresInSeconds < 0 || ttl > maxNodeTTL {
			wire.WriteARMError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("expiresInSeconds must be between 0 (no expiry) and %d.", int64(maxNodeTTL.Seconds())))
			return true
		}
		var reg resources.NodeRegistration
		if reg, err = h.res.RegisterNode(ctx, actorOf(c), target, resPath, body.Name, ttl); err == nil {
			out, auditTarget = h.nodeSecretOf(r, reg), resPath+"/nodes/"+reg.Node.ID
		}
	case "listnodes":
		var nodes []domain.ComputeNode
		if nodes, err = h.res.Nodes(ctx, c.TenantID, target, resPath); err == nil {
			list := make([]nodeJSON, 0, len(nodes))
			for _, n := range nodes {
				list = append(list, nodeOf(n))
			}
			out = map[string]any{"nodes": list}
		}
	case "rotatenodesecret", "revokenode":
		if body.NodeID == "" {
			wire.WriteARMError(w, http.StatusBadRequest, "BadRequest", "The request body must name the node: {\"nodeId\": \"...\"}.")
			return true
		}
		auditTarget = resPath + "/nodes/" + body.NodeID
		if name == "rotatenodesecret" {
			var reg resources.NodeRegistration
			if reg, err = h.res.RotateNodeSecret(ctx, c.TenantID, target, resPath, body.NodeID); err == nil {
				out = h.nodeSecretOf(r, reg)
			}
		} else {
			var n domain.ComputeNode
			if n, err = h.res.RevokeNode(ctx, c.TenantID, target, resPath, body.NodeID); err == nil {
				out = nodeOf(n)
			}
		}
	}
	if name != "listnodes" {
		h.recordChange(r, c, action, auditTarget, err)
	}
	if err != nil {
		h.fail(w, r, err)
		return true
	}
	wire.WriteJSON(w, http.StatusOK, out)
	return true
}

// authorizeIdentityAssignment checks, as ARM does, that a caller attaching
// user-assigned identities to a resource may assign each of them
// (Microsoft.ManagedIdentity/userAssignedIdentities/assign/action on the
// identity): otherwise anyone allowed to write a compute could borrow any
// identity's access. It writes Azure's 403 LinkedAuthorizationFailed.
func (h *Handler) authorizeIdentityAssignment(w http.ResponseWriter, c caller, writeAction, scope string, body resources.Document) bool {
	idn, _ := body["identity"].(map[string]any)
	ua, _ := idn["userAssignedIdentities"].(map[string]any)
	const assign = resources.TypeUserAssignedIdentity + "/assign/action"
	for id, v := range ua {
		if v == nil {
			continue
		}
		if !h.rbac.Decide(c.ObjectID, assign, id, false).Allowed {
			wire.WriteARMError(w, http.StatusForbidden, "LinkedAuthorizationFailed", fmt.Sprintf(
				"The client '%s' with object id '%s' has permission to perform action '%s' on scope '%s'; however, it does not have permission to perform action '%s' on the linked scope(s) '%s' or the linked scope(s) are invalid.",
				c.Name, c.ObjectID, writeAction, scope, assign, id))
			return false
		}
	}
	return true
}
