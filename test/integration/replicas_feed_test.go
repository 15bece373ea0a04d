package integration

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/app"
	"github.com/tessera-id/tessera/internal/httpx"
	"github.com/tessera-id/tessera/test/testserver"
)

const (
	readerRoleID   = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	azureCLIClient = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	graphScope     = "https://graph.microsoft.com/.default"
	// propagationBound is how long a change may take to reach every
	// replica before the test calls it lost; the promise is a second.
	propagationBound = 10 * time.Second
)

// cluster is several `tessera serve` processes on one PostgreSQL database.
type cluster struct {
	t        *testing.T
	bin, dsn string
	nodes    []*node
	client   *http.Client
	boot     app.Bootstrap
	armTok   string
	graphTok string
}

type node struct {
	name, dataDir, listen, base string
	proc                        *proc
}

func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	dsn := testserver.FreshPostgres(t)
	if testing.Short() {
		t.Skip("builds the binary and runs several servers; skipped with -short")
	}
	c := &cluster{t: t, bin: buildTessera(t), dsn: dsn}
	for i := range n {
		listen := freePort(t)
		nd := &node{name: string(rune('A' + i)), dataDir: filepath.Join(t.TempDir(), "data"), listen: listen,
			base: "https://" + strings.Replace(listen, "127.0.0.1", "localhost", 1)}
		// The first replica bootstraps the empty database; the others
		// find the tenant there.
		nd.proc = startServe(t, c.bin, nd.dataDir, listen, "--store", dsn)
		c.nodes = append(c.nodes, nd)
	}
	boot, err := app.ReadBootstrap(c.nodes[0].dataDir)
	if err != nil {
		t.Fatal(err)
	}
	c.boot = boot
	// Each replica has its own local CA (its data directory's).
	pool := x509.NewCertPool()
	for _, nd := range c.nodes {
		pem, err := os.ReadFile(filepath.Join(nd.dataDir, "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		pool.AppendCertsFromPEM(pem)
	}
	c.client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 16}}
	c.armTok = c.token(c.nodes[0], boot.AdminServicePrincipal.AppID, boot.AdminServicePrincipal.Secret, armScope)
	c.graphTok = c.token(c.nodes[0], boot.AdminServicePrincipal.AppID, boot.AdminServicePrincipal.Secret, graphScope)
	return c
}

// with returns the cluster reporting to t (a subtest's).
func (c *cluster) with(t *testing.T) *cluster {
	cp := *c
	cp.t = t
	return &cp
}

// reply is one HTTP answer.
type reply struct {
	status   int
	body     map[string]any
	raw      string
	revision string
}

func (c *cluster) do(nd *node, method, path, bearer string, body any, header ...string) reply {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, nd.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s on %s: %v", method, path, nd.name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: string(raw), revision: resp.Header.Get(httpx.RevisionHeader)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (c *cluster) must(r reply, want ...int) reply {
	c.t.Helper()
	if !slices.Contains(want, r.status) {
		c.t.Fatalf("status %d, want %v: %s", r.status, want, r.raw)
	}
	return r
}

func (c *cluster) tokenReply(nd *node, form url.Values) reply {
	c.t.Helper()
	resp, err := c.client.PostForm(nd.base+"/"+c.boot.TenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func ccForm(id, secret, scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {scope}}
}

func (c *cluster) token(nd *node, id, secret, scope string) string {
	c.t.Helper()
	r := c.must(c.tokenReply(nd, ccForm(id, secret, scope)), http.StatusOK)
	return r.body["access_token"].(string)
}

// eventually waits until cond holds on a replica and returns how long it
// took.
func (c *cluster) eventually(what string, cond func() bool) time.Duration {
	c.t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > propagationBound {
			c.t.Fatalf("%s: not within %v", what, propagationBound)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// app registers an application with a secret and its service principal
// through replica nd's Graph.
type registered struct{ objectID, appID, spID, secret, keyID string }

func (c *cluster) register(nd *node, name string) registered {
	c.t.Helper()
	a := c.must(c.do(nd, "POST", "/graph/v1.0/applications", c.graphTok, map[string]any{"displayName": name}), http.StatusCreated)
	reg := registered{objectID: a.body["id"].(string), appID: a.body["appId"].(string)}
	pw := c.must(c.do(nd, "POST", "/graph/v1.0/applications/"+reg.objectID+"/addPassword", c.graphTok, map[string]any{}), http.StatusOK)
	reg.secret, reg.keyID = pw.body["secretText"].(string), pw.body["keyId"].(string)
	sp := c.must(c.do(nd, "POST", "/graph/v1.0/servicePrincipals", c.graphTok, map[string]any{"appId": reg.appID}), http.StatusCreated)
	reg.spID = sp.body["id"].(string)
	return reg
}

func (c *cluster) assignmentPath(scope, id string) string {
	return scope + "/providers/Microsoft.Authorization/roleAssignments/" + id + "?api-version=2022-04-01"
}

func (c *cluster) grant(nd *node, scope, principalID string) (string, reply) {
	c.t.Helper()
	id := uuid.NewString()
	r := c.do(nd, "PUT", c.assignmentPath(scope, id), c.armTok, map[string]any{"properties": map[string]any{
		"roleDefinitionId": "/subscriptions/" + c.boot.SubscriptionID + "/providers/Microsoft.Authorization/roleDefinitions/" + readerRoleID,
		"principalId":      principalID, "principalType": "ServicePrincipal"}})
	return id, r
}

func (c *cluster) subscription() string { return "/subscriptions/" + c.boot.SubscriptionID }

// canList reports whether the bearer may list the subscription's resource
// groups on nd.
func (c *cluster) canList(nd *node, bearer string) bool {
	c.t.Helper()
	r := c.do(nd, "GET", c.subscription()+"/resourcegroups?api-version=2021-04-01", bearer, nil)
	switch r.status {
	case http.StatusOK:
		return true
	case http.StatusForbidden, http.StatusNotFound:
		// A principal with no role anywhere in the subscription is told
		// that it does not exist.
		return false
	}
	c.t.Fatalf("list resource groups on %s: %d %s", nd.name, r.status, r.raw)
	return false
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i]
}

// TestReplicasFollowTheChangeFeed runs three `tessera serve` processes on
// one PostgreSQL database and checks that what one replica writes is in
// force on the others within a second, that writes decide against the
// database, and that nothing acknowledged is lost when a replica is killed
// in the middle of a burst of writes.
func TestReplicasFollowTheChangeFeed(t *testing.T) {
	c := startCluster(t, 3)
	a, b, cc := c.nodes[0], c.nodes[1], c.nodes[2]
	ci := c.register(a, "ci")
	ciTok := c.token(b, ci.appID, ci.secret, armScope)
	if c.canList(b, ciTok) {
		t.Fatal("the new principal may list resource groups before any grant")
	}

	t.Run("GrantAndRevokePropagate", func(t *testing.T) {
		c := c.with(t)
		const rounds = 50
		var grants, revokes []time.Duration
		for i := range rounds {
			id, r := c.grant(a, c.subscription(), ci.spID)
			c.must(r, http.StatusCreated)
			for _, nd := range []*node{b, cc} {
				grants = append(grants, c.eventually(fmt.Sprintf("round %d: grant on A allowed on %s", i, nd.name),
					func() bool { return c.canList(nd, ciTok) }))
			}
			c.must(c.do(a, "DELETE", c.assignmentPath(c.subscription(), id), c.armTok, nil), http.StatusOK)
			// Both replicas are watched at once, from the moment the
			// revocation returned.
			var wg sync.WaitGroup
			times := make([]time.Duration, 2)
			for j, nd := range []*node{b, cc} {
				wg.Go(func() {
					times[j] = c.eventually(fmt.Sprintf("round %d: revocation on A refused on %s", i, nd.name),
						func() bool { return !c.canList(nd, ciTok) })
				})
			}
			wg.Wait()
			revokes = append(revokes, times...)
		}
		t.Logf("grant on A → allowed on B and C over %d rounds: median %v, p99 %v, max %v",
			rounds, percentile(grants, .5), percentile(grants, .99), slices.Max(grants))
		t.Logf("revocation on A → refused on B and C over %d rounds: median %v, p99 %v, max %v",
			rounds, percentile(revokes, .5), percentile(revokes, .99), slices.Max(revokes))
	})

	t.Run("DeleteThroughAnotherReplica", func(t *testing.T) {
		c := c.with(t)
		id, r := c.grant(b, c.subscription(), ci.spID)
		c.must(r, http.StatusCreated)
		// At once, through A, which may not have applied B's write yet: the
		// delete looks in the database.
		del := c.must(c.do(a, "DELETE", c.assignmentPath(c.subscription(), id), c.armTok, nil), http.StatusOK)
		gone := c.do(cc, "GET", c.assignmentPath(c.subscription(), id), c.armTok, nil, httpx.MinRevisionHeader, del.revision)
		c.must(gone, http.StatusNotFound)
		for _, nd := range c.nodes {
			c.eventually("revocation refused on "+nd.name, func() bool { return !c.canList(nd, ciTok) })
		}
		c.must(c.do(b, "DELETE", c.assignmentPath(c.subscription(), id), c.armTok, nil), http.StatusNoContent)
	})

	t.Run("ReadYourWritesAcrossReplicas", func(t *testing.T) {
		c := c.with(t)
		id, r := c.grant(a, c.subscription(), ci.spID)
		c.must(r, http.StatusCreated)
		if _, err := strconv.ParseInt(r.revision, 10, 64); err != nil {
			t.Fatalf("a write answers without %s: %q", httpx.RevisionHeader, r.revision)
		}
		// With the write's revision, B answers only once it has the write.
		got := c.must(c.do(b, "GET", c.assignmentPath(c.subscription(), id), c.armTok, nil, httpx.MinRevisionHeader, r.revision), http.StatusOK)
		if got.body["name"] != id {
			t.Fatalf("assignment read on B: %s", got.raw)
		}
		far := c.do(b, "GET", c.assignmentPath(c.subscription(), id), c.armTok, nil, httpx.MinRevisionHeader, "999999999")
		c.must(far, http.StatusServiceUnavailable)
		c.must(c.do(b, "GET", c.assignmentPath(c.subscription(), id), c.armTok, nil, httpx.MinRevisionHeader, "soon"), http.StatusBadRequest)
		c.must(c.do(a, "DELETE", c.assignmentPath(c.subscription(), id), c.armTok, nil), http.StatusOK)
	})

	t.Run("CredentialsAndPrincipals", func(t *testing.T) {
		c := c.with(t)
		// A secret removed on A no longer signs in on B.
		app2 := c.register(a, "rotated")
		c.must(c.tokenReply(b, ccForm(app2.appID, app2.secret, armScope)), http.StatusOK)
		c.must(c.do(a, "POST", "/graph/v1.0/applications/"+app2.objectID+"/removePassword", c.graphTok,
			map[string]any{"keyId": app2.keyID}), http.StatusNoContent)
		c.eventually("removed secret refused on B", func() bool {
			return c.tokenReply(b, ccForm(app2.appID, app2.secret, armScope)).status == http.StatusUnauthorized
		})

		// A service principal disabled on A no longer signs in on C.
		app3 := c.register(a, "disabled")
		c.must(c.tokenReply(cc, ccForm(app3.appID, app3.secret, armScope)), http.StatusOK)
		c.must(c.do(a, "PATCH", "/graph/v1.0/servicePrincipals/"+app3.spID, c.graphTok,
			map[string]any{"accountEnabled": false}), http.StatusNoContent)
		c.eventually("disabled principal refused on C", func() bool {
			return c.tokenReply(cc, ccForm(app3.appID, app3.secret, armScope)).status != http.StatusOK
		})
	})

	t.Run("SPAOrigins", func(t *testing.T) {
		c := c.with(t)
		// An SPA redirect registered on A opens the token endpoint's CORS
		// to its origin on C, and removing it closes it again.
		const origin = "https://spa.replicas.test"
		allowed := func(nd *node) bool {
			req, _ := http.NewRequest(http.MethodOptions, nd.base+"/"+c.boot.TenantID+"/oauth2/v2.0/token", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			resp, err := c.client.Do(req)
			if err != nil {
				c.t.Fatal(err)
			}
			resp.Body.Close()
			return resp.Header.Get("Access-Control-Allow-Origin") == origin
		}
		spa := c.register(a, "spa")
		if allowed(cc) {
			t.Fatal("allowed before registration")
		}
		c.must(c.do(a, "PATCH", "/graph/v1.0/applications/"+spa.objectID, c.graphTok,
			map[string]any{"spa": map[string]any{"redirectUris": []string{origin + "/"}}}), http.StatusNoContent)
		c.eventually("SPA origin allowed on C", func() bool { return allowed(cc) })
		c.must(c.do(a, "PATCH", "/graph/v1.0/applications/"+spa.objectID, c.graphTok,
			map[string]any{"spa": map[string]any{"redirectUris": []string{}}}), http.StatusNoContent)
		c.eventually("SPA origin refused on C", func() bool { return !allowed(cc) })
	})

	t.Run("TokenLifetimePolicies", func(t *testing.T) {
		c := c.with(t)
		// A lifetime policy assigned to an API on A sets its tokens' lifetime
		// on B, whose cache of the API's lifetime was filled before.
		api := c.register(a, "lifetime-api")
		c.must(c.do(a, "PATCH", "/graph/v1.0/applications/"+api.objectID, c.graphTok,
			map[string]any{"identifierUris": []string{"api://lifetime-api"}}), http.StatusNoContent)
		caller := c.register(a, "lifetime-caller")
		expiresIn := func(nd *node) float64 {
			r := c.tokenReply(nd, ccForm(caller.appID, caller.secret, "api://lifetime-api/.default"))
			in, _ := r.body["expires_in"].(float64)
			return in
		}
		c.eventually("the API's default lifetime on B", func() bool { return expiresIn(b) == 3599 })
		pol := c.must(c.do(a, "POST", "/graph/v1.0/policies/tokenLifetimePolicies", c.graphTok, map[string]any{
			"displayName": "two-hours", "definition": []string{`{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"02:00:00"}}`}}),
			http.StatusCreated)
		c.must(c.do(a, "POST", "/graph/v1.0/applications/"+api.objectID+"/tokenLifetimePolicies/$ref", c.graphTok,
			map[string]any{"@odata.id": a.base + "/graph/v1.0/policies/tokenLifetimePolicies/" + pol.body["id"].(string)}), http.StatusNoContent)
		c.eventually("the policy's lifetime on B", func() bool { return expiresIn(b) == 7199 })
	})

	t.Run("UsersAndConditionalAccess", func(t *testing.T) {
		c := c.with(t)
		if out, err := exec.Command(c.bin, "tenant", "update", "--allow-ropc=true", "--store", c.dsn).CombinedOutput(); err != nil {
			t.Fatalf("tenant update: %v %s", err, out)
		}
		password := "Rep1ica-" + uuid.NewString()[:8]
		signIn := func(nd *node, upn string) int {
			return c.tokenReply(nd, url.Values{"grant_type": {"password"}, "client_id": {azureCLIClient},
				"username": {upn}, "password": {password}, "scope": {armScope}}).status
		}
		newUser := func(nick string) (string, string) {
			upn := nick + "@" + c.boot.Domain
			u := c.must(c.do(a, "POST", "/graph/v1.0/users", c.graphTok, map[string]any{
				"accountEnabled": true, "displayName": nick, "mailNickname": nick, "userPrincipalName": upn,
				"passwordProfile": map[string]any{"password": password, "forceChangePasswordNextSignIn": false}}), http.StatusCreated)
			return u.body["id"].(string), upn
		}
		// A user disabled on A no longer signs in on B.
		id, upn := newUser("dana")
		c.eventually("new user signs in on B", func() bool { return signIn(b, upn) == http.StatusOK })
		c.must(c.do(a, "PATCH", "/graph/v1.0/users/"+id, c.graphTok, map[string]any{"accountEnabled": false}), http.StatusNoContent)
		c.eventually("disabled user refused on B", func() bool { return signIn(b, upn) != http.StatusOK })

		// A Conditional Access policy enabled on A blocks sign-in on C.
		id2, upn2 := newUser("erin")
		c.eventually("new user signs in on C", func() bool { return signIn(cc, upn2) == http.StatusOK })
		c.must(c.do(a, "POST", "/graph/v1.0/identity/conditionalAccess/policies", c.graphTok, map[string]any{
			"displayName": "Block erin", "state": "enabled",
			"conditions": map[string]any{"users": map[string]any{"includeUsers": []string{id2}},
				"applications": map[string]any{"includeApplications": []string{"All"}}, "clientAppTypes": []string{"all"}},
			"grantControls": map[string]any{"operator": "OR", "builtInControls": []string{"block"}},
		}), http.StatusCreated)
		c.eventually("policy enabled on A blocks sign-in on C", func() bool { return signIn(cc, upn2) != http.StatusOK })
	})

	t.Run("KeyRotation", func(t *testing.T) {
		c := c.with(t)
		kidOf := func(nd *node) string {
			tok := c.token(nd, ci.appID, ci.secret, armScope)
			raw, err := base64.RawURLEncoding.DecodeString(strings.SplitN(tok, ".", 2)[0])
			if err != nil {
				t.Fatal(err)
			}
			var h struct {
				Kid string `json:"kid"`
			}
			if err := json.Unmarshal(raw, &h); err != nil {
				t.Fatal(err)
			}
			return h.Kid
		}
		before := kidOf(b)
		out, err := exec.Command(c.bin, "keys", "rotate", "--store", c.dsn).CombinedOutput()
		if err != nil {
			t.Fatalf("keys rotate: %v %s", err, out)
		}
		for _, nd := range c.nodes {
			c.eventually("rotation signs with the new key on "+nd.name, func() bool { return kidOf(nd) != before })
		}
	})

	t.Run("KilledMidWrite", func(t *testing.T) {
		c := c.with(t)
		// Writers run against C; C is killed while they write. Every write
		// C acknowledged must be in the database and honoured by A and B.
		type acked struct{ rg, assignment, revision string }
		var (
			mu   sync.Mutex
			done []acked
			wg   sync.WaitGroup
		)
		stop := make(chan struct{})
		for w := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					rg := fmt.Sprintf("burst-%d-%d", w, i)
					r, err := c.tryDo(cc, "PUT", c.subscription()+"/resourcegroups/"+rg+"?api-version=2021-04-01", map[string]any{"location": "westeurope"})
					if err != nil || r.status >= 300 {
						return
					}
					id := uuid.NewString()
					r, err = c.tryDo(cc, "PUT", c.assignmentPath(c.subscription()+"/resourceGroups/"+rg, id), map[string]any{"properties": map[string]any{
						"roleDefinitionId": "/subscriptions/" + c.boot.SubscriptionID + "/providers/Microsoft.Authorization/roleDefinitions/" + readerRoleID,
						"principalId":      ci.spID, "principalType": "ServicePrincipal"}})
					if err != nil || r.status != http.StatusCreated {
						return
					}
					mu.Lock()
					done = append(done, acked{rg: rg, assignment: id, revision: r.revision})
					mu.Unlock()
				}
			})
		}
		time.Sleep(1500 * time.Millisecond)
		if err := cc.proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cc.proc.cmd.Wait()
		close(stop)
		wg.Wait()
		if len(done) == 0 {
			t.Fatal("no write was acknowledged before the kill")
		}
		t.Logf("%d assignments acknowledged before SIGKILL", len(done))
		check := func(nd *node) {
			for _, w := range done {
				c.must(c.do(nd, "GET", c.assignmentPath(c.subscription()+"/resourceGroups/"+w.rg, w.assignment), c.armTok, nil,
					httpx.MinRevisionHeader, w.revision), http.StatusOK)
				c.must(c.do(nd, "GET", c.subscription()+"/resourcegroups/"+w.rg+"?api-version=2021-04-01", ciTok, nil,
					httpx.MinRevisionHeader, w.revision), http.StatusOK)
			}
		}
		check(a)
		check(b)
		// The restarted replica loads everything, then follows the feed.
		cc.proc = startServe(t, c.bin, cc.dataDir, cc.listen, "--store", c.dsn)
		check(cc)
		late := c.register(a, "late")
		lateTok := c.token(a, late.appID, late.secret, armScope)
		id, r := c.grant(a, c.subscription(), late.spID)
		c.must(r, http.StatusCreated)
		c.eventually("grant on A allowed on the restarted C", func() bool { return c.canList(cc, lateTok) })
		c.must(c.do(a, "DELETE", c.assignmentPath(c.subscription(), id), c.armTok, nil), http.StatusOK)
		c.eventually("revocation on A refused on the restarted C", func() bool { return !c.canList(cc, lateTok) })
	})
}

// tryDo is do for a replica that may be gone: a transport error is returned,
// not fatal.
func (c *cluster) tryDo(nd *node, method, path string, body any) (reply, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, nd.base+path, bytes.NewReader(b))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.armTok)
	resp, err := c.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, raw: string(raw), revision: resp.Header.Get(httpx.RevisionHeader)}, nil
}
