// Package browser drives Tessera's pages in real headless Chromium (Debian's
// chromium package) through chromedp, for the sign-in page and console
// tests. TESSERA_CHROMIUM names another binary. A test without Chromium
// skips, or fails under TESSERA_COMPAT_REQUIRED=1.
package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Step is one chromedp action.
type Step = chromedp.Action[chromedp.Void]

// ChromiumPath finds Chromium or skips the test.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{os.Getenv("TESSERA_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TESSERA_COMPAT_REQUIRED") == "1" {
		t.Fatal("chromium not installed: apt-get install chromium (TESSERA_COMPAT_REQUIRED=1)")
	}
	t.Skip("chromium not installed: apt-get install chromium")
	return ""
}

// New starts a headless Chromium, with extra options if any, and returns a
// tab's context.
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the tests may run as root
		chromedp.DisableGPU,
		// The test CA is not in Chromium's NSS store; the pages are still an
		// https origin, so Secure cookies, crypto.subtle and CSP behave as in
		// production.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// Run runs steps with a deadline.
func Run(t testing.TB, ctx context.Context, steps ...Step) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("chromium: %v\n%s", err, pageText(ctx))
	}
}

// pageText is what the page shows, for a failure's message.
func pageText(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
	if err != nil {
		return "(the page could not be read: " + err.Error() + ")"
	}
	return "page: " + v
}

// Text reads the text of the first element matching a CSS selector.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// Eval evaluates a JavaScript expression (awaiting a promise) and returns its value.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Login fills and submits Tessera's login page.
func Login(upn, password string) Step {
	return Steps(
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("username").value = ""`),
		chromedp.SendKeys(chromedp.ID("username"), upn),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	)
}

// Steps runs steps in order as one step.
func Steps(steps ...Step) Step {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for _, s := range steps {
			if _, err := s(ctx, t); err != nil {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, nil
	}
}

// ClearCookies ends the browser's session: the next sign-in is a new one.
func ClearCookies() Step {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return chromedp.Void{}, err
	}
}

func WaitVisible(sel string) Step { return chromedp.WaitVisible(chromedp.CSS(sel)) }
func Click(sel string) Step       { return chromedp.Click(chromedp.CSS(sel)) }
func Type(sel, v string) Step     { return chromedp.SendKeys(chromedp.CSS(sel), v) }

// WaitText waits until the element matching sel shows text containing want.
func WaitText(sel, want string) Step {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e && e.innerText.includes(%q); })()`, sel, want),
		chromedp.WithPollingInterval(50*time.Millisecond))
}

// WaitFor waits until a JavaScript expression is truthy.
func WaitFor(expr string) Step {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))
}

// Submit submits the form holding sel as pressing its submit button does
// (chromedp.Submit calls form.submit(), which skips the page's handler).
func Submit(sel string) Step {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).form.requestSubmit()`, sel))
}

// SetValue replaces an input's value.
func SetValue(sel, v string) Step {
	clear := fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)
	return Steps(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Evaluate[chromedp.Void](clear), chromedp.SendKeys(chromedp.CSS(sel), v))
}

// Screenshot writes a PNG of the page to path when TESSERA_UPDATE_SCREENSHOTS
// is set (the docs' console pictures are made this way).
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	if os.Getenv("TESSERA_UPDATE_SCREENSHOTS") == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}
