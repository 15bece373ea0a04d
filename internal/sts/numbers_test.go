package sts

import (
	"encoding/json"
	"testing"
)

func TestV1Numbers(t *testing.T) {
	for _, tc := range []struct{ segment, want string }{
		{"adfs", `{"n":3599}`},
		{"0b8c7a1e-2f4d-4c55-9a37-6e1f2d3c4b5a", `{"n":"3599"}`},
		{"contoso.tessera.local", `{"n":"3599"}`},
		{"common", `{"n":"3599"}`},
	} {
		b, err := json.Marshal(struct {
			N v1Number `json:"n"`
		}{v1Numbers(tc.segment)(3599)})
		if err != nil || string(b) != tc.want {
			t.Errorf("%s: %s %v, want %s", tc.segment, b, err, tc.want)
		}
	}
}
