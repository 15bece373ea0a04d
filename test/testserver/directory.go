package testserver

import (
	"net/http"
	"testing"
)

// CreateGroup creates a security group through Graph and returns its id.
func (s *Server) CreateGroup(t testing.TB, name string) string {
	t.Helper()
	var out struct{ ID string }
	st := s.Graph(t, s.GraphToken(t), "POST", "/groups", map[string]any{"displayName": name, "mailNickname": name,
		"mailEnabled": false, "securityEnabled": true}, &out)
	if st != http.StatusCreated || out.ID == "" {
		t.Fatalf("create group %s: %d", name, st)
	}
	return out.ID
}

// AddMember adds a directory object to a group through Graph.
func (s *Server) AddMember(t testing.TB, groupID, memberID string) {
	t.Helper()
	st := s.Graph(t, s.GraphToken(t), "POST", "/groups/"+groupID+"/members/$ref",
		map[string]any{"@odata.id": s.URL + "/graph/v1.0/directoryObjects/" + memberID}, nil)
	if st != http.StatusNoContent {
		t.Fatalf("add member %s to %s: %d", memberID, groupID, st)
	}
}
