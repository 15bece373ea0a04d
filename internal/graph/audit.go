package graph

import (
	"net/http"
	"strconv"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/wire"
)

type auditEventJSON struct {
	ID                string            `json:"id"`
	CreatedDateTime   string            `json:"createdDateTime"`
	Category          string            `json:"category"`
	ActivityName      string            `json:"activityDisplayName"`
	InitiatedByID     string            `json:"initiatedById"`
	InitiatedByName   string            `json:"initiatedByName"`
	Target            string            `json:"target"`
	Result            string            `json:"result"`
	ResultReason      string            `json:"resultReason"`
	IPAddress         string            `json:"ipAddress"`
	CorrelationID     string            `json:"correlationId"`
	AdditionalDetails map[string]string `json:"additionalDetails,omitempty"`
}

// auditList serves auditLogs/signIns and auditLogs/directoryAudits, newest first.
func (h *Handler) auditList(kind string) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		if !h.authorize(w, r, c, directory.OpReadAuditLogs, "", "auditLogs.read") {
			return
		}
		limit := 100
		if v := r.URL.Query().Get("$top"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				h.writeError(w, r, http.StatusBadRequest, wire.GraphBadRequest, "Invalid value for $top: must be 1..1000.")
				return
			}
			limit = n
		}
		events, err := h.store.ListAudit(r.Context(), store.AuditFilter{TenantID: c.TenantID, Kind: kind, Limit: limit})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		out := make([]auditEventJSON, 0, len(events))
		for _, e := range events {
			out = append(out, auditEventJSON{ID: e.ID, CreatedDateTime: graphTime(e.Time), Category: e.Kind, ActivityName: e.Action,
				InitiatedByID: e.ActorID, InitiatedByName: e.ActorName, Target: e.Target, Result: e.Result, ResultReason: e.Reason,
				IPAddress: e.ClientIP, CorrelationID: e.CorrelationID, AdditionalDetails: e.Details})
		}
		wire.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": h.metadata(r) + "auditLogs", "value": out})
	}
}
