package cli

import (
	"errors"
	"testing"
)

func TestNoBrowserReason(t *testing.T) {
	found := func(string) (string, error) { return "/usr/bin/xdg-open", nil }
	missing := func(string) (string, error) { return "", errors.New("not found") }
	for _, tc := range []struct {
		name     string
		goos     string
		env      map[string]string
		lookPath func(string) (string, error)
		browser  bool
	}{
		{"ssh session", "linux", nil, found, false},
		{"X11 desktop", "linux", map[string]string{"DISPLAY": ":0"}, found, true},
		{"Wayland desktop", "linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, found, true},
		{"display without opener", "linux", map[string]string{"DISPLAY": ":0"}, missing, false},
		{"BROWSER set", "linux", map[string]string{"BROWSER": "/usr/bin/w3m"}, missing, true},
		{"FreeBSD ssh session", "freebsd", nil, found, false},
		{"macOS", "darwin", nil, missing, true},
		{"Windows", "windows", nil, missing, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reason := noBrowserReason(tc.goos, func(k string) string { return tc.env[k] }, tc.lookPath)
			if (reason == "") != tc.browser {
				t.Errorf("noBrowserReason = %q, want a browser: %v", reason, tc.browser)
			}
		})
	}
}
