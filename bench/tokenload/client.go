package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The hot path uses a minimal HTTP/1.1 keep-alive client over crypto/tls
// instead of net/http: on 2 CPUs shared with the server, every cycle the
// load generator spends is one the server cannot use. Each worker owns one
// connection (leanConn) and sends one pre-built request on it again and
// again; the answer is parsed just enough to classify it.

// target is where and how the workers connect.
type target struct {
	addr    string // host:port dialled
	tls     *tls.Config
	req     []byte // the whole request, head and body
	timeout time.Duration
	conns   *atomic.Int64 // connections opened
	dialer  net.Dialer
}

// newTarget prepares the connections' TLS configuration (bootstrap CA,
// TLS 1.2 at least, no ALPN: HTTP/1.1) and the request bytes.
func newTarget(base *url.URL, caFile string, r request, timeout time.Duration) (*target, error) {
	pool, err := caPool(caFile)
	if err != nil {
		return nil, err
	}
	addr := base.Host
	if base.Port() == "" {
		addr = net.JoinHostPort(base.Hostname(), "443")
	}
	head := "POST " + r.path + " HTTP/1.1\r\n" +
		"Host: " + base.Host + "\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\n" +
		"Accept: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(r.body)) + "\r\n" +
		"\r\n"
	req := append([]byte(head), r.body...)
	return &target{
		addr:    addr,
		tls:     &tls.Config{RootCAs: pool, ServerName: base.Hostname(), MinVersion: tls.VersionTLS12},
		req:     req,
		timeout: timeout,
		conns:   new(atomic.Int64),
		dialer:  net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second},
	}, nil
}

func caPool(caFile string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", caFile)
		}
	}
	return pool, nil
}

// dialLoopback dials addr and refuses a peer that is not a loopback address.
func dialLoopback(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		c.Close()
		return nil, fmt.Errorf("refusing non-loopback peer %s", c.RemoteAddr())
	}
	return c, nil
}

// maxBody is how much of a response body is kept (the rest is discarded).
const maxBody = 1 << 20

// leanConn is one worker's connection; not safe for concurrent use.
type leanConn struct {
	t      *target
	conn   *tls.Conn // nil: dial before the next request
	br     *bufio.Reader
	body   []byte // reused response body buffer
	reused bool   // conn has answered a request already
}

func (t *target) newConn() *leanConn {
	return &leanConn{t: t, body: make([]byte, 0, 8<<10)}
}

// close drops the connection (the next request dials a new one).
func (c *leanConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func (c *leanConn) dial(deadline time.Time) error {
	d := c.t.dialer
	d.Deadline = deadline
	raw, err := dialLoopback(context.Background(), &d, "tcp", c.t.addr)
	if err != nil {
		return err
	}
	c.t.conns.Add(1)
	tc := tls.Client(raw, c.t.tls)
	tc.SetDeadline(deadline)
	if err := tc.Handshake(); err != nil {
		tc.Close()
		return err
	}
	c.conn, c.reused = tc, false
	if c.br == nil {
		c.br = bufio.NewReaderSize(tc, 16<<10)
	} else {
		c.br.Reset(tc)
	}
	return nil
}

// errMalformed is a response that is not HTTP/1.x as this client reads it.
var errMalformed = errors.New("malformed HTTP response")

// do sends the request once; it returns "" on a token, else an error class
// ("HTTP <code>", "HTTP 200 without access_token", or a transport class).
// On any transport or parse error the connection is closed.
func (c *leanConn) do() string {
	deadline := time.Now().Add(c.t.timeout)
	for attempt := 0; ; attempt++ {
		if c.conn == nil {
			if err := c.dial(deadline); err != nil {
				return transportClass(err)
			}
		} else {
			c.conn.SetDeadline(deadline)
		}
		class, retry := c.roundTrip()
		// Like net/http: a request on a reused connection that the server
		// closed before answering a single byte is sent again, once, on a
		// fresh connection (an idle connection closed by the server).
		if retry && attempt == 0 {
			continue
		}
		return class
	}
}

// roundTrip writes the request and reads the answer. retry reports a
// reused connection that failed before any byte of the answer arrived.
func (c *leanConn) roundTrip() (class string, retry bool) {
	reused := c.reused
	if _, err := c.conn.Write(c.t.req); err != nil {
		c.close()
		return transportClass(err), reused && !isTimeout(err)
	}
	code, keep, err := c.readResponse()
	if err != nil {
		c.close()
		if code < 0 { // failed in the status line or headers
			return transportClass(err), code == -2 && reused && !isTimeout(err)
		}
		return "read: " + transportClass(err), false
	}
	if keep {
		c.reused = true
	} else {
		c.close()
	}
	switch {
	case code != http.StatusOK:
		return "HTTP " + strconv.Itoa(code), false
	case !bytes.Contains(c.body, accessTokenMarker):
		return "HTTP 200 without access_token", false
	}
	completed.Add(1)
	return "", false
}

var (
	accessTokenMarker = []byte(`"access_token":"ey`)
	httpPrefix        = []byte("HTTP/1.")
	hdrContentLength  = []byte("content-length")
	hdrTransferEnc    = []byte("transfer-encoding")
	hdrConnection     = []byte("connection")
	tokChunked        = []byte("chunked")
	tokClose          = []byte("close")
	tokKeepAlive      = []byte("keep-alive")
)

// readResponse reads one response into c.body. code is the status, or -2
// when nothing at all was read, or -1 when the status line or headers
// failed; keep reports whether the connection may carry another request.
func (c *leanConn) readResponse() (code int, keep bool, err error) {
	br := c.br
	code = -2
	var (
		length          int64 = -1
		chunked, http10 bool
		closeConn       bool
		keepAlive       bool
	)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if len(line) > 0 || code != -2 {
				code = -1
			}
			return code, false, err
		}
		code = -1
		// "HTTP/1.1 200 OK\r\n"
		if len(line) < 12 || !bytes.HasPrefix(line, httpPrefix) || line[8] != ' ' {
			return -1, false, errMalformed
		}
		http10 = line[7] == '0'
		status := 0
		for _, b := range line[9:12] {
			if b < '0' || b > '9' {
				return -1, false, errMalformed
			}
			status = status*10 + int(b-'0')
		}
		// Headers.
		for {
			h, err := br.ReadSlice('\n')
			if err != nil {
				if err == bufio.ErrBufferFull {
					err = errMalformed
				}
				return -1, false, err
			}
			h = trimCRLF(h)
			if len(h) == 0 {
				break
			}
			i := bytes.IndexByte(h, ':')
			if i <= 0 {
				return -1, false, errMalformed
			}
			name, value := h[:i], bytes.TrimSpace(h[i+1:])
			switch {
			case bytes.EqualFold(name, hdrContentLength):
				n, ok := parseDecimal(value)
				if !ok {
					return -1, false, errMalformed
				}
				length = n
			case bytes.EqualFold(name, hdrTransferEnc):
				if !equalFoldContains(value, tokChunked) {
					return -1, false, errMalformed // no other coding is asked for
				}
				chunked = true
			case bytes.EqualFold(name, hdrConnection):
				closeConn = closeConn || equalFoldContains(value, tokClose)
				keepAlive = keepAlive || equalFoldContains(value, tokKeepAlive)
			}
		}
		// 1xx informational answers precede the real one.
		if status >= 100 && status < 200 && status != 101 {
			length, chunked, closeConn, keepAlive = -1, false, false, false
			continue
		}
		code = status
		break
	}
	keep = !closeConn && (!http10 || keepAlive)
	c.body = c.body[:0]
	switch {
	case code == 204 || code == 304 || code < 200:
		if code == 101 {
			keep = false
		}
	case chunked:
		err = c.readChunked()
	case length >= 0:
		err = c.readN(length)
	default: // body delimited by the end of the connection
		keep = false
		err = c.readN(-1)
	}
	if err != nil {
		return code, false, err
	}
	return code, keep, nil
}

// readN appends n bytes of body (n < 0: up to EOF) to c.body, keeping at
// most maxBody bytes in all and discarding the rest.
func (c *leanConn) readN(n int64) error {
	br := c.br
	for n != 0 {
		if len(c.body) == cap(c.body) && len(c.body) < maxBody {
			grown := make([]byte, len(c.body), min(2*cap(c.body)+512, maxBody))
			copy(grown, c.body)
			c.body = grown
		}
		if len(c.body) >= maxBody {
			if n < 0 {
				_, err := io.Copy(io.Discard, br)
				return err
			}
			_, err := br.Discard(int(n))
			return eofUnexpected(err)
		}
		buf := c.body[len(c.body):cap(c.body)]
		if n > 0 && int64(len(buf)) > n {
			buf = buf[:n]
		}
		m, err := br.Read(buf)
		c.body = c.body[:len(c.body)+m]
		if n > 0 {
			n -= int64(m)
		}
		if err != nil {
			if err == io.EOF && n < 0 {
				return nil
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// readChunked reads a chunked body and its trailers.
func (c *leanConn) readChunked() error {
	br := c.br
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return eofUnexpected(err)
		}
		line = trimCRLF(line)
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, ok := parseHex(bytes.TrimSpace(line))
		if !ok {
			return errMalformed
		}
		if size == 0 {
			break
		}
		if err := c.readN(size); err != nil {
			return eofUnexpected(err)
		}
		crlf, err := br.ReadSlice('\n')
		if err != nil {
			return eofUnexpected(err)
		}
		if len(trimCRLF(crlf)) != 0 {
			return errMalformed
		}
	}
	for { // trailers, up to an empty line
		line, err := br.ReadSlice('\n')
		if err != nil {
			return eofUnexpected(err)
		}
		if len(trimCRLF(line)) == 0 {
			return nil
		}
	}
}

func eofUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	if err == bufio.ErrBufferFull {
		return errMalformed
	}
	return err
}

func trimCRLF(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	return n, true
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, d := range b {
		switch {
		case d >= '0' && d <= '9':
			d -= '0'
		case d >= 'a' && d <= 'f':
			d -= 'a' - 10
		case d >= 'A' && d <= 'F':
			d -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// equalFoldContains reports whether the comma-separated list s holds tok
// (ASCII case-insensitive).
func equalFoldContains(s, tok []byte) bool {
	for len(s) > 0 {
		var item []byte
		if i := bytes.IndexByte(s, ','); i >= 0 {
			item, s = s[:i], s[i+1:]
		} else {
			item, s = s, nil
		}
		if bytes.EqualFold(bytes.TrimSpace(item), tok) {
			return true
		}
	}
	return false
}

// completed counts tokens received, for the per-second rates.
var completed atomic.Int64

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func transportClass(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "net " + oe.Op
	}
	return "transport"
}

// request is the one token request sent again and again.
type request struct {
	url  string // for the preflight check (net/http)
	path string // escaped path, for the request line
	body []byte
}

func newRequest(base *url.URL, b bootstrap, scope string, v1 bool) (request, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {b.AdminServicePrincipal.AppID},
		"client_secret": {b.AdminServicePrincipal.Secret},
	}
	path := "/" + url.PathEscape(b.TenantID) + "/oauth2/v2.0/token"
	if v1 {
		path = "/" + url.PathEscape(b.TenantID) + "/oauth2/token"
		form.Set("resource", strings.TrimSuffix(scope, "/.default"))
	} else {
		form.Set("scope", scope)
	}
	return request{
		url:  base.String() + path,
		path: base.EscapedPath() + path,
		body: []byte(form.Encode()),
	}, nil
}

// preflight sends one request with net/http (off the hot path) to fail
// fast on a wrong secret or scope, and checks the answer.
func preflight(t *target, r request) error {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialLoopback(ctx, dialer, network, addr)
		},
		TLSClientConfig:     t.tls.Clone(),
		TLSHandshakeTimeout: 5 * time.Second,
		DisableCompression:  true,
		DisableKeepAlives:   true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: t.timeout}
	req, err := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(r.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("first request: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		return fmt.Errorf("first request: HTTP %d %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	if parts := strings.Split(tok.AccessToken, "."); len(parts) != 3 {
		return fmt.Errorf("first request: access_token is not a compact JWS")
	}
	return nil
}
