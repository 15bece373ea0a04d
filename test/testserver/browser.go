package testserver

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// Browser plays a person's browser against Tessera's sign-in pages with a
// plain HTTP client: it keeps cookies, reads the forms of a page, and
// submits them. It follows redirects only within the server; a redirect to
// a client's redirect URI (a loopback listener) is returned to the test,
// which delivers it with Deliver.
type Browser struct {
	t      testing.TB
	s      *Server
	Client *http.Client
}

// NewBrowser returns a browser with an empty cookie jar.
func (s *Server) NewBrowser(t testing.TB) *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(s.URL, "https://")
	c := &http.Client{
		Timeout: 30 * time.Second, Jar: jar,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CAPool}},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != host {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return &Browser{t: t, s: s, Client: c}
}

// Page is a fetched page.
type Page struct {
	Status int
	URL    *url.URL
	Header http.Header
	Body   string
	Forms  []Form
}

// Form is an HTML form: its absolute action, hidden and prefilled fields,
// and its submit buttons (name=value).
type Form struct {
	Action  string
	Method  string
	Fields  url.Values
	Buttons []Field
}

// Field is a name and a value.
type Field struct{ Name, Value string }

// Location is the redirect target of a 3xx page.
func (p *Page) Location() string { return p.Header.Get("Location") }

// Has reports whether the page's text contains s.
func (p *Page) Has(s string) bool { return strings.Contains(p.Body, s) }

// FormWith returns the first form that has an input or button named name.
func (p *Page) FormWith(t testing.TB, name string) Form {
	t.Helper()
	for _, f := range p.Forms {
		if _, ok := f.Fields[name]; ok {
			return f
		}
		for _, b := range f.Buttons {
			if b.Name == name {
				return f
			}
		}
	}
	t.Fatalf("no form with %q on the page (status %d):\n%s", name, p.Status, p.Body)
	return Form{}
}

// Get fetches a URL.
func (b *Browser) Get(rawURL string) *Page {
	b.t.Helper()
	resp, err := b.Client.Get(rawURL)
	if err != nil {
		b.t.Fatalf("GET %s: %v", rawURL, err)
	}
	return b.read(resp)
}

// Submit posts a form with values set (over its own fields) and, when
// button is not empty, the submit button of that value.
func (b *Browser) Submit(f Form, values map[string]string, button string) *Page {
	b.t.Helper()
	data := url.Values{}
	for k, v := range f.Fields {
		data[k] = append([]string(nil), v...)
	}
	for k, v := range values {
		data.Set(k, v)
	}
	if button != "" {
		found := false
		for _, bt := range f.Buttons {
			if bt.Value == button {
				data.Set(bt.Name, bt.Value)
				found = true
			}
		}
		if !found {
			b.t.Fatalf("no %q button on the form (buttons %v)", button, f.Buttons)
		}
	}
	resp, err := b.Client.PostForm(f.Action, data)
	if err != nil {
		b.t.Fatalf("POST %s: %v", f.Action, err)
	}
	return b.read(resp)
}

// SignIn opens an authorize URL and, when the login page comes, signs in
// with a password. It returns the page after that: a redirect to the
// client, a form_post page, or whatever page the flow shows next.
func (b *Browser) SignIn(authURL, upn, password string) *Page {
	b.t.Helper()
	p := b.Get(authURL)
	if p.Status != http.StatusOK || !p.Has(`name="password"`) {
		return p
	}
	return b.Submit(p.FormWith(b.t, "password"), map[string]string{"username": upn, "password": password}, "")
}

// Deliver sends the sign-in result to the client's loopback listener: it
// follows a redirect, or submits a form_post page's form.
func (b *Browser) Deliver(p *Page) *http.Response {
	b.t.Helper()
	plain := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var (
		resp *http.Response
		err  error
	)
	switch {
	case p.Status == http.StatusFound:
		resp, err = plain.Get(p.Location())
	case len(p.Forms) == 1 && p.Has("Finishing sign-in"):
		resp, err = plain.PostForm(p.Forms[0].Action, p.Forms[0].Fields)
	default:
		b.t.Fatalf("page is neither a redirect nor a form_post page: %d\n%s", p.Status, p.Body)
	}
	if err != nil {
		b.t.Fatalf("deliver to the client: %v", err)
	}
	return resp
}

func (b *Browser) read(resp *http.Response) *Page {
	b.t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("read %s: %v", resp.Request.URL, err)
	}
	p := &Page{Status: resp.StatusCode, URL: resp.Request.URL, Header: resp.Header, Body: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		p.Forms = parseForms(resp.Request.URL, string(raw))
	}
	return p
}

// parseForms reads the forms of a page.
func parseForms(base *url.URL, body string) []Form {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return nil
	}
	var forms []Form
	var cur *Form
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := map[string]string{}
			for _, at := range n.Attr {
				a[at.Key] = at.Val
			}
			switch n.Data {
			case "form":
				action := base.String()
				if v, ok := a["action"]; ok && v != "" {
					if u, err := base.Parse(v); err == nil {
						action = u.String()
					}
				}
				forms = append(forms, Form{Action: action, Method: strings.ToUpper(a["method"]), Fields: url.Values{}})
				cur = &forms[len(forms)-1]
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
				cur = nil
				return
			case "input":
				if cur != nil && a["name"] != "" {
					_, checked := a["checked"]
					switch {
					case a["type"] == "submit":
						cur.Buttons = append(cur.Buttons, Field{a["name"], a["value"]})
					case (a["type"] == "checkbox" || a["type"] == "radio") && !checked:
						// An unticked box is not sent.
					default:
						cur.Fields.Set(a["name"], a["value"])
					}
				}
			case "button":
				if cur != nil && a["name"] != "" {
					cur.Buttons = append(cur.Buttons, Field{a["name"], a["value"]})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms
}

// User is a person created for a test.
type User struct {
	ID, UPN, Password string
}

// CreateUser creates a user through Graph as the bootstrap administrator.
func (s *Server) CreateUser(t testing.TB, name, password string) User {
	t.Helper()
	return s.createUser(t, name, password, false)
}

// CreateUserMustChangePassword creates a user whose password must be
// changed at the next sign-in (passwordProfile.forceChangePasswordNextSignIn),
// as an administrator does with a temporary password.
func (s *Server) CreateUserMustChangePassword(t testing.TB, name, password string) User {
	t.Helper()
	return s.createUser(t, name, password, true)
}

func (s *Server) createUser(t testing.TB, name, password string, mustChange bool) User {
	t.Helper()
	upn := name + "@" + s.Bootstrap.Domain
	var out struct{ ID string }
	st := s.Graph(t, s.GraphToken(t), "POST", "/users", map[string]any{
		"accountEnabled": true, "displayName": name, "mailNickname": name, "userPrincipalName": upn,
		"passwordProfile": map[string]any{"password": password, "forceChangePasswordNextSignIn": mustChange},
	}, &out)
	if st != http.StatusCreated || out.ID == "" {
		t.Fatalf("create user %s: %d", upn, st)
	}
	return User{ID: out.ID, UPN: upn, Password: password}
}

// ApproveDeviceCode drives the device-code verification page like a person:
// enter the code, sign in when asked, and approve.
func (b *Browser) ApproveDeviceCode(verificationURL, userCode, upn, password string) error {
	b.t.Helper()
	p := b.Get(verificationURL)
	p = b.Submit(p.FormWith(b.t, "user_code"), map[string]string{"user_code": userCode}, "")
	if p.Has(`name="password"`) {
		p = b.Submit(p.FormWith(b.t, "password"), map[string]string{"username": upn, "password": password}, "")
	}
	if !p.Has("Are you trying to sign in") {
		return fmt.Errorf("expected the confirmation page, got %d:\n%s", p.Status, p.Body)
	}
	p = b.Submit(p.Forms[0], nil, "approve")
	if !p.Has("You have signed in to") {
		return fmt.Errorf("approval: %d\n%s", p.Status, p.Body)
	}
	return nil
}

// WatchFile sends each line appended to path on the returned channel until
// the test ends (an opener script or a prompt callback writes there).
func WatchFile(t testing.TB, path string) <-chan string {
	ch := make(chan string, 8)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		seen := 0
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			b, _ := os.ReadFile(path)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			for ; seen < len(lines) && lines[seen] != ""; seen++ {
				ch <- lines[seen]
			}
		}
	}()
	return ch
}

// OpenerScript writes an executable script that appends its first argument
// (the URL a client asks to open) to a file, and returns the script's path
// and the channel of URLs (see WatchFile).
func OpenerScript(t testing.TB, name string) (string, <-chan string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "opened")
	script := filepath.Join(dir, name)
	body := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '" + file + "'\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, WatchFile(t, file)
}
