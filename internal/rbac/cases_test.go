package rbac

import (
	"bytes"
	"os"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tessera-id/tessera/internal/domain"
)

// casesFile mirrors testdata/cases.yaml.
type casesFile struct {
	Suites []caseSuite `yaml:"suites"`
}

type caseSuite struct {
	Name  string `yaml:"name"`
	Roles []struct {
		ID               string   `yaml:"id"`
		Name             string   `yaml:"name"`
		Description      string   `yaml:"description"`
		AssignableScopes []string `yaml:"assignableScopes"`
		Permissions      []struct {
			Actions        []string `yaml:"actions"`
			NotActions     []string `yaml:"notActions"`
			DataActions    []string `yaml:"dataActions"`
			NotDataActions []string `yaml:"notDataActions"`
		} `yaml:"permissions"`
	} `yaml:"roles"`
	Memberships []struct {
		Group  string `yaml:"group"`
		Member string `yaml:"member"`
	} `yaml:"memberships"`
	Assignments []struct {
		ID        string `yaml:"id"`
		Principal string `yaml:"principal"`
		Role      string `yaml:"role"`
		Scope     string `yaml:"scope"`
	} `yaml:"assignments"`
	Checks []struct {
		Name      string `yaml:"name"`
		Principal string `yaml:"principal"`
		Action    string `yaml:"action"`
		Scope     string `yaml:"scope"`
		Data      bool   `yaml:"data"`
		Allowed   bool   `yaml:"allowed"`
		Role      string `yaml:"role"`
	} `yaml:"checks"`
	CanAssign []struct {
		Name    string `yaml:"name"`
		Role    string `yaml:"role"`
		Scope   string `yaml:"scope"`
		Allowed bool   `yaml:"allowed"`
	} `yaml:"canAssign"`
}

func loadCases(t *testing.T) casesFile {
	t.Helper()
	raw, err := os.ReadFile("testdata/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f casesFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true) // a misspelt field must fail, not silently test nothing
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("testdata/cases.yaml: %v", err)
	}
	return f
}

// suiteData turns a suite into the records the store would hand over,
// resolving role names to ids.
func suiteData(t *testing.T, s caseSuite) ([]domain.RoleDefinition, []domain.RoleAssignment, []domain.GroupMembership) {
	t.Helper()
	var defs []domain.RoleDefinition
	ids := map[string]string{}
	for _, r := range s.Roles {
		var perms []domain.Permission
		for _, p := range r.Permissions {
			perms = append(perms, domain.Permission{Actions: p.Actions, NotActions: p.NotActions, DataActions: p.DataActions, NotDataActions: p.NotDataActions})
		}
		defs = append(defs, domain.RoleDefinition{
			ID: r.ID, RoleName: r.Name, Description: r.Description, Type: domain.RoleTypeCustom,
			AssignableScopes: r.AssignableScopes, Permissions: perms,
		})
		ids[r.Name] = r.ID
	}
	roleID := func(name string) string {
		if id, ok := ids[name]; ok {
			return id
		}
		if d, ok := BuiltInRole(name); ok {
			return d.ID
		}
		return name // an unknown role stays unknown
	}
	var as []domain.RoleAssignment
	for _, a := range s.Assignments {
		as = append(as, domain.RoleAssignment{
			ID: a.ID, PrincipalID: a.Principal, RoleDefinitionID: roleID(a.Role), Scope: a.Scope,
		})
	}
	var ms []domain.GroupMembership
	for _, m := range s.Memberships {
		ms = append(ms, domain.GroupMembership{GroupID: m.Group, MemberID: m.Member})
	}
	return defs, as, ms
}

// TestCases runs every decision in testdata/cases.yaml against an Index
// filled by Load and against one filled by the incremental calls.
func TestCases(t *testing.T) {
	f := loadCases(t)
	total := 0
	for _, s := range f.Suites {
		total += len(s.Checks) + len(s.CanAssign)
		defs, as, ms := suiteData(t, s)
		for _, mode := range []string{"load", "incremental"} {
			ix := New()
			switch mode {
			case "load":
				if err := ix.Load(defs, as, ms); err != nil {
					t.Fatalf("%s: Load: %v", s.Name, err)
				}
			case "incremental":
				for _, d := range defs {
					if err := ix.PutDefinition(d); err != nil {
						t.Fatalf("%s: PutDefinition: %v", s.Name, err)
					}
				}
				// Assignments before memberships: order must not matter.
				for _, a := range as {
					if err := ix.PutAssignment(a); err != nil {
						t.Fatalf("%s: PutAssignment: %v", s.Name, err)
					}
				}
				for _, m := range ms {
					if err := ix.AddMembership(m); err != nil {
						t.Fatalf("%s: AddMembership: %v", s.Name, err)
					}
				}
			}
			t.Run(s.Name+"/"+mode, func(t *testing.T) {
				for _, c := range s.Checks {
					d := ix.Decide(c.Principal, c.Action, c.Scope, c.Data)
					if d.Allowed != c.Allowed {
						t.Errorf("case %q: Decide(%s, %s, %s, data=%v).Allowed = %v, want %v (granted by %q)",
							c.Name, c.Principal, c.Action, c.Scope, c.Data, d.Allowed, c.Allowed, d.Role.RoleName)
						continue
					}
					if c.Role != "" && d.Role.RoleName != c.Role {
						t.Errorf("case %q: granted by role %q, want %q", c.Name, d.Role.RoleName, c.Role)
					}
					if d.Allowed && !domain.IsScopeWithin(c.Scope, d.Assignment.Scope) {
						t.Errorf("case %q: granting assignment %s at %s is not at or above %s", c.Name, d.Assignment.ID, d.Assignment.Scope, c.Scope)
					}
				}
				for _, c := range s.CanAssign {
					id := c.Role
					if r, ok := ix.DefinitionByName(c.Role); ok {
						id = r.ID
					}
					if got := ix.CanAssign(id, c.Scope); got != c.Allowed {
						t.Errorf("case %q: CanAssign(%s, %s) = %v, want %v", c.Name, c.Role, c.Scope, got, c.Allowed)
					}
				}
			})
		}
	}
	t.Logf("%d cases in %d suites", total, len(f.Suites))
	if total < 50 {
		t.Errorf("only %d cases loaded from testdata/cases.yaml", total)
	}
}
