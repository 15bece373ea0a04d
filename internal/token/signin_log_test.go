package token

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/domain"
)

// recordingAuditor keeps what it is given and notes, for each event, whether
// its commit was waited for.
type recordingAuditor struct {
	mu       sync.Mutex
	events   []domain.AuditEvent
	awaited  []bool
	failWith error
}

func (a *recordingAuditor) Record(ctx context.Context, ev domain.AuditEvent) error {
	return a.Submit(ctx, ev)()
}

func (a *recordingAuditor) Submit(_ context.Context, ev domain.AuditEvent) func() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := len(a.events)
	a.events = append(a.events, ev)
	a.awaited = append(a.awaited, false)
	return func() error {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.awaited[i] = true
		return a.failWith
	}
}

// TestClientCredentialsSignInIsDurableBeforeTheToken: the success record is
// queued before the token is signed and waited for before Exchange returns;
// a refused request is recorded as a failure with its AADSTS reason; a log
// that cannot commit does not withhold the token (it is logged instead).
func TestClientCredentialsSignInIsDurableBeforeTheToken(t *testing.T) {
	h := newHarness(t, InteractiveOptions{})
	ctx := context.Background()
	app, err := h.dir.CreateApplication(ctx, h.tenant.ID, directory.ApplicationInput{DisplayName: "daemon"})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := h.dir.CreateServicePrincipal(ctx, h.tenant.ID, app.AppID, true)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := h.dir.AddPassword(ctx, h.tenant.ID, app.ID, directory.PasswordInput{DisplayName: "s"})
	if err != nil {
		t.Fatal(err)
	}
	aud := &recordingAuditor{}
	svc := NewService(h.dir, h.svc.Keys(), h.st, nil, aud, Options{Now: h.clock.Now}, ClientCredentials{})
	form := func(secret string) map[string]string {
		return map[string]string{"client_id": app.AppID, "client_secret": secret, "scope": "https://management.azure.com/.default"}
	}

	if _, err := svc.Exchange(ctx, h.req("client_credentials", form(secret))); err != nil {
		t.Fatal(err)
	}
	if len(aud.events) != 1 || !aud.awaited[0] {
		t.Fatalf("events %d, awaited %v: want one record, committed before the token was returned", len(aud.events), aud.awaited)
	}
	ev := aud.events[0]
	if ev.Result != "success" || ev.ActorID != sp.ID || ev.Action != "token.client_credentials" || ev.Kind != domain.AuditSignIn {
		t.Fatalf("record = %+v", ev)
	}

	_, err = svc.Exchange(ctx, h.req("client_credentials", form("wrong")))
	wantAADSTS(t, err, ErrInvalidClient, 7000215)
	if len(aud.events) != 2 || aud.events[1].Result != "failure" || !aud.awaited[1] {
		t.Fatalf("refused request: %+v", aud.events[1:])
	}

	aud.failWith = errors.New("disk full")
	if _, err := svc.Exchange(ctx, h.req("client_credentials", form(secret))); err != nil {
		t.Fatalf("token withheld when the log failed: %v", err)
	}
}
