package rbac

import (
	"bytes"
	"os"
	"testing"

	"github.com/tessera-id/tessera/internal/domain"
)

func TestBuiltInRoles(t *testing.T) {
	roles := BuiltInRoles()
	if len(roles) != 16 {
		t.Fatalf("got %d built-in roles, want the 16 of builtin-roles.json", len(roles))
	}
	seen := map[string]bool{}
	for _, r := range roles {
		if r.Type != domain.RoleTypeBuiltIn || len(r.AssignableScopes) != 1 || r.AssignableScopes[0] != "/" {
			t.Errorf("%s: type %q, assignable scopes %v", r.RoleName, r.Type, r.AssignableScopes)
		}
		if len(r.ID) != 36 || seen[r.ID] {
			t.Errorf("%s: bad or repeated id %q", r.RoleName, r.ID)
		}
		seen[r.ID] = true
		if len(r.Permissions) == 0 {
			t.Errorf("%s: no permissions", r.RoleName)
		}
	}
	for id, name := range map[string]string{
		domain.RoleOwner:                   "Owner",
		domain.RoleContributor:             "Contributor",
		domain.RoleReader:                  "Reader",
		domain.RoleUserAccessAdministrator: "User Access Administrator",
	} {
		if r, ok := BuiltInRole(id); !ok || r.RoleName != name {
			t.Errorf("BuiltInRole(%s) = %q, %v; want %q", id, r.RoleName, ok, name)
		}
	}
}

func TestBuiltInRoleLookup(t *testing.T) {
	for _, key := range []string{
		"f6c7c914-8db3-469d-8ca1-694a8f32e121",
		"F6C7C914-8DB3-469D-8CA1-694A8F32E121",
		"/providers/Microsoft.Authorization/roleDefinitions/f6c7c914-8db3-469d-8ca1-694a8f32e121",
		"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/f6c7c914-8db3-469d-8ca1-694a8f32e121",
		"AzureML Data Scientist",
		"azureml data scientist",
	} {
		if r, ok := BuiltInRole(key); !ok || r.RoleName != "AzureML Data Scientist" {
			t.Errorf("BuiltInRole(%q) = %q, %v", key, r.RoleName, ok)
		}
	}
	if _, ok := BuiltInRole("Data Wizard"); ok {
		t.Error("BuiltInRole found an unknown role")
	}
}

func TestBuiltInRolesAreCopies(t *testing.T) {
	r, _ := BuiltInRole("Owner")
	r.Permissions[0].Actions[0] = "nothing"
	r.AssignableScopes[0] = "/subscriptions/x"
	if again, _ := BuiltInRole("Owner"); again.Permissions[0].Actions[0] != "*" || again.AssignableScopes[0] != "/" {
		t.Error("modifying a returned built-in changed the shared one")
	}
}

func TestEmbeddedFileIsVerbatim(t *testing.T) {
	shared, err := os.ReadFile("../../../shared/contracts/builtin-roles.json")
	if err != nil {
		t.Skipf("shared contracts not beside the repository: %v", err)
	}
	if !bytes.Equal(shared, builtinRolesJSON) {
		t.Error("internal/rbac/builtin-roles.json differs from shared/contracts/builtin-roles.json")
	}
}

func TestParseRoleDefinitionsAcceptsConditions(t *testing.T) {
	// The shape Microsoft publishes for conditional built-ins.
	const doc = `[{
	  "id": "/providers/Microsoft.Authorization/roleDefinitions/8b54135c-b56d-4d72-a534-26097cfdc8d8",
	  "name": "8b54135c-b56d-4d72-a534-26097cfdc8d8",
	  "type": "Microsoft.Authorization/roleDefinitions",
	  "properties": {
	    "roleName": "Key Vault Data Access Administrator",
	    "type": "BuiltInRole",
	    "permissions": [{
	      "actions": ["Microsoft.Authorization/roleAssignments/write"],
	      "notActions": [], "dataActions": [], "notDataActions": [],
	      "conditionVersion": "2.0",
	      "condition": "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})))"
	    }],
	    "assignableScopes": ["/"]
	  }
	}]`
	defs, err := parseRoleDefinitions([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 1 || defs[0].ID != "8b54135c-b56d-4d72-a534-26097cfdc8d8" || len(defs[0].Permissions) != 1 ||
		defs[0].Permissions[0].Actions[0] != "Microsoft.Authorization/roleAssignments/write" {
		t.Errorf("parsed %+v", defs)
	}
	if defs[0].Permissions[0].NotActions == nil {
		t.Error("empty lists should stay empty lists, not nil")
	}
}
