package console

import (
	"testing"

	"github.com/tessera-id/tessera/test/browser"
)

// unlabelled lists the visible controls of the page that have no
// accessible name: no <label>, aria-label, aria-labelledby or, for buttons
// and links, no text.
const unlabelled = `[...document.querySelectorAll("main input, main select, main textarea, main button, main a")]
	.filter((e) => e.offsetParent !== null && e.type !== "hidden")
	.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby")
		&& !((e.tagName === "BUTTON" || e.tagName === "A") && e.textContent.trim()))
	.map((e) => e.outerHTML.slice(0, 120))`

// checkLabels fails when a control of the page has no accessible name.
func checkLabels(t *testing.T, c *session, page string) {
	t.Helper()
	if bad := browser.Eval[[]string](t, c.ctx, unlabelled); len(bad) > 0 {
		t.Errorf("%s: controls without a label: %v", page, bad)
	}
}
