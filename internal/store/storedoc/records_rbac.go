package storedoc

import (
	"encoding/json"
	"time"

	"github.com/tessera-id/tessera/internal/domain"
)

// The doc column of role_definitions holds a roleDefinitionDoc, under the
// rules of records.go: explicit JSON names, times normalised by utc.
//

type roleDefinitionDoc struct {
	ID               string              `json:"id"`
	TenantID         string              `json:"tenantId"`
	RoleName         string              `json:"roleName"`
	Description      string              `json:"description"`
	Type             string              `json:"type"`
	Permissions      []domain.Permission `json:"permissions"`
	AssignableScopes []string            `json:"assignableScopes"`
	CreatedBy        string              `json:"createdBy"`
	CreatedAt        time.Time           `json:"createdAt,omitzero"`
	UpdatedAt        time.Time           `json:"updatedAt,omitzero"`
}

func EncodeRoleDefinition(d domain.RoleDefinition) ([]byte, error) {
	return json.Marshal(roleDefinitionDoc{
		ID:               d.ID,
		TenantID:         d.TenantID,
		RoleName:         d.RoleName,
		Description:      d.Description,
		Type:             d.Type,
		Permissions:      d.Permissions,
		AssignableScopes: d.AssignableScopes,
		CreatedBy:        d.CreatedBy,
		CreatedAt:        Utc(d.CreatedAt),
		UpdatedAt:        Utc(d.UpdatedAt),
	})
}

func DecodeRoleDefinition(b []byte) (domain.RoleDefinition, error) {
	var d roleDefinitionDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return domain.RoleDefinition{}, err
	}
	return domain.RoleDefinition{
		ID:               d.ID,
		TenantID:         d.TenantID,
		RoleName:         d.RoleName,
		Description:      d.Description,
		Type:             d.Type,
		Permissions:      d.Permissions,
		AssignableScopes: d.AssignableScopes,
		CreatedBy:        d.CreatedBy,
		CreatedAt:        d.CreatedAt,
		UpdatedAt:        d.UpdatedAt,
	}, nil
}
