package cli

import (
	"os"
	"os/exec"
	"runtime"
)

// browserOpeners are the programs github.com/pkg/browser runs on Linux and
// the BSDs, in its order.
var browserOpeners = []string{"xdg-open", "x-www-browser", "www-browser"}

// noBrowserReason says why `tessera login` cannot open a browser here, or
// "" when it can. Without one, the browser sign-in would wait for a
// redirect that never comes, so login falls back to the device code. It
// errs towards the browser: on macOS and Windows a browser opener is always
// there, and a $BROWSER the user set is taken at its word.
func noBrowserReason(goos string, getenv func(string) string, lookPath func(string) (string, error)) string {
	switch goos {
	case "darwin", "windows", "ios", "android":
		return ""
	}
	if getenv("BROWSER") != "" {
		return ""
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return "no display (DISPLAY and WAYLAND_DISPLAY are unset)"
	}
	for _, name := range browserOpeners {
		if _, err := lookPath(name); err == nil {
			return ""
		}
	}
	return "no browser opener (xdg-open, x-www-browser, www-browser) on the PATH"
}

func noBrowserHere() string { return noBrowserReason(runtime.GOOS, os.Getenv, exec.LookPath) }
