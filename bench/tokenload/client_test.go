package main

import (
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLeanConn checks the hot-path client against net/http's server:
// framing (Content-Length, chunked, Connection: close) and classification.
func TestLeanConn(t *testing.T) {
	const token = `{"token_type":"Bearer","access_token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}`
	var mode string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/tenant/oauth2/v2.0/token" ||
			r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || string(body) != "grant_type=client_credentials" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch mode {
		case "length":
			w.Header().Set("Content-Length", fmt.Sprint(len(token)))
			io.WriteString(w, token)
		case "chunked":
			for _, part := range []string{token[:10], token[10:30], token[30:]} {
				io.WriteString(w, part)
				w.(http.Flusher).Flush()
			}
		case "close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, token)
		case "big":
			io.WriteString(w, token+strings.Repeat(" ", 3<<20))
		case "401":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client"}`)
		case "notoken":
			io.WriteString(w, `{"token_type":"Bearer"}`)
		case "hang":
			time.Sleep(1500 * time.Millisecond)
			io.WriteString(w, token)
		}
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	r := request{path: "/tenant/oauth2/v2.0/token", body: []byte("grant_type=client_credentials")}
	// The timeout leaves a loaded machine time to move the 3 MiB answer;
	// only "hang" outlasts it.
	tg, err := newTarget(base, ca, r, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := tg.newConn()
	defer c.close()
	for _, tc := range []struct{ mode, want string }{
		{"length", ""}, {"length", ""}, {"chunked", ""}, {"chunked", ""}, {"close", ""}, {"length", ""},
		{"big", ""}, {"length", ""}, {"401", "HTTP 401"}, {"notoken", "HTTP 200 without access_token"},
		{"length", ""}, {"hang", "timeout"}, {"length", ""},
	} {
		mode = tc.mode
		if got := c.do(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.mode, got, tc.want)
		}
	}
	// One connection for the first five, one after "close", one after the timeout.
	if n := tg.conns.Load(); n != 3 {
		t.Errorf("%d connections opened, want 3", n)
	}
}
