package signin

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tessera-id/tessera/internal/fault"
)

// ThrottledError: the attempt was refused before any credential was checked,
// either because its source address failed too often (Busy false) or because
// the server is at its password hashing capacity (Busy true). Surfaces answer
// it with 429 and RetryAfter.
type ThrottledError struct {
	RetryAfter time.Duration
	Busy       bool
}

func (e *ThrottledError) Error() string {
	if e.Busy {
		return fmt.Sprintf("too many sign-ins at once; retry after %s", e.RetryAfter)
	}
	return fmt.Sprintf("too many failed sign-ins from this address; retry after %s", e.RetryAfter)
}

// Unwrap is the refusal: Throttled, with RetryAfter.
func (e *ThrottledError) Unwrap() error {
	code := CodeThrottled
	if e.Busy {
		code = CodeBusy
	}
	return &fault.Error{Kind: fault.Throttled, Code: code, Message: e.Error(), RetryAfter: e.RetryAfter}
}

// IsThrottled reports whether err is a *ThrottledError.
func IsThrottled(err error) (*ThrottledError, bool) {
	var te *ThrottledError
	ok := errors.As(err, &te)
	return te, ok
}

// RetryAfterSeconds is d rounded up to whole seconds, at least one: what
// a Retry-After header and a "try again in N s" page say.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// ThrottleOptions tune the in-memory failure throttles; zero values take
// the defaults.
type ThrottleOptions struct {
	// AddressThreshold is how many failed sign-ins and client
	// authentications from one source address within AddressWindow block
	// that address's further attempts (default 100; negative disables). An
	// IPv6 address counts by its /64, which one attacker usually holds whole.
	AddressThreshold int
	AddressWindow    time.Duration // default 5 minutes
	// ClientThreshold is how many failed authentications of one client from
	// one address within LockoutWindow lock that client for that address
	// (default: the account lockout threshold). The client's own workloads
	// elsewhere are not locked out by a stranger's guesses.
	ClientThreshold int
	// MaxEntries bounds each throttle's memory (default 100,000 keys).
	MaxEntries int
}

// failureCounter counts failures per key in memory and blocks a key that
// reaches its threshold within the window; each further block lasts twice
// as long, up to maxLock. Counters live in one replica's memory: a request
// path that fails fast must not write to the store, and an attacker spread
// over N replicas gets at most N times the budget.
type failureCounter struct {
	threshold  int
	window     time.Duration
	lock       time.Duration
	maxLock    time.Duration
	maxEntries int

	mu      sync.Mutex
	entries map[string]*failureEntry
}

type failureEntry struct {
	failures    int
	windowStart time.Time
	lockedUntil time.Time
	lockouts    int
}

func newFailureCounter(threshold int, window, lock, maxLock time.Duration, maxEntries int) *failureCounter {
	return &failureCounter{threshold: threshold, window: window, lock: lock, maxLock: maxLock, maxEntries: maxEntries,
		entries: map[string]*failureEntry{}}
}

// blocked returns how long key stays blocked (zero: not blocked).
func (c *failureCounter) blocked(key string, now time.Time) time.Duration {
	if c == nil || c.threshold <= 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && now.Before(e.lockedUntil) {
		return e.lockedUntil.Sub(now)
	}
	return 0
}

// fail counts a failure of key and returns how long key is now blocked
// (zero: not blocked).
func (c *failureCounter) fail(key string, now time.Time) time.Duration {
	if c == nil || c.threshold <= 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		c.makeRoom(now)
		e = &failureEntry{windowStart: now}
		c.entries[key] = e
	}
	if now.Before(e.lockedUntil) {
		return e.lockedUntil.Sub(now)
	}
	if now.Sub(e.windowStart) >= c.window {
		e.failures, e.windowStart = 0, now
	}
	e.failures++
	if e.failures < c.threshold {
		return 0
	}
	d := c.lock
	for i := 0; i < e.lockouts && d < c.maxLock; i++ {
		d *= 2
	}
	d = min(d, c.maxLock)
	e.failures, e.windowStart, e.lockedUntil = 0, now, now.Add(d)
	e.lockouts++
	return d
}

// succeed forgets key's failures; its lockout history stays until it ages out.
func (c *failureCounter) succeed(key string) {
	if c == nil || c.threshold <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		e.failures = 0
	}
}

// makeRoom drops entries that no longer matter once the map is full, and
// failing that an arbitrary one, so keys an attacker invents (addresses,
// names) cannot grow memory without bound.
func (c *failureCounter) makeRoom(now time.Time) {
	if len(c.entries) < c.maxEntries {
		return
	}
	for k, e := range c.entries {
		if !now.Before(e.lockedUntil.Add(c.maxLock)) && now.Sub(e.windowStart) >= c.window {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.maxEntries {
			break
		}
		delete(c.entries, k)
	}
}

// addressKey is the throttle key of a source address: an IPv6 address by
// its /64, anything unparsable as given.
func addressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// CheckClient refuses a client authentication from addr before it is
// checked: *ThrottledError when the address failed too often, *LockedError
// when this client failed too often from this address.
func (s *Service) CheckClient(tenantID, clientID, addr string) error {
	now := s.now()
	if d := s.addresses.blocked(addressKey(addr), now); d > 0 {
		return &ThrottledError{RetryAfter: d}
	}
	if d := s.clients.blocked(clientKey(tenantID, clientID, addr), now); d > 0 {
		return &LockedError{Until: now.Add(d)}
	}
	return nil
}

// ClientFailed counts a failed client authentication from addr. It returns
// the refusal the next attempt would get once this failure reached a
// threshold (nil otherwise), so the failure that locks already says so.
func (s *Service) ClientFailed(tenantID, clientID, addr string) error {
	now := s.now()
	ad := s.addresses.fail(addressKey(addr), now)
	if d := s.clients.fail(clientKey(tenantID, clientID, addr), now); d > 0 {
		return &LockedError{Until: now.Add(d)}
	}
	if ad > 0 {
		return &ThrottledError{RetryAfter: ad}
	}
	return nil
}

// ClientSucceeded forgets the client's failures from addr.
func (s *Service) ClientSucceeded(tenantID, clientID, addr string) {
	s.clients.succeed(clientKey(tenantID, clientID, addr))
}

func clientKey(tenantID, clientID, addr string) string {
	return tenantID + "|" + strings.ToLower(strings.TrimSpace(clientID)) + "|" + addressKey(addr)
}
