package directory

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/tessera-id/tessera/internal/fault"
)

// PasswordParams are argon2id's cost parameters. Every hash records the
// parameters it was made with, so they can change without breaking the
// hashes already stored.
type PasswordParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32
	Threads   uint8
}

// DefaultPasswordParams is OWASP's argon2id minimum (m=19 MiB, t=2, p=1).
// It costs about 24 ms of one core on the 2-core reference machine
// (BenchmarkPasswordHash), so two cores verify about 80 passwords a second;
// RFC 9106's m=64 MiB, t=3, p=2, used before, took about 104 ms of both cores
// and allowed ten. One thread per hash leaves the other cores to concurrent
// checks and to the token service.
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}
}

// Upper bounds on parameters read from a stored hash: a damaged or hostile
// hash must not make one check allocate gigabytes or run for minutes.
const (
	maxHashMemoryKiB = 1 << 20 // 1 GiB
	maxHashTime      = 64
	argonKeyLen      = 32
)

func (p PasswordParams) hash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// HashPassword returns an argon2id hash of password in PHC string format,
// with the default parameters, computed at once (outside any Passwords
// limit): for bootstrap and tests. Servers hash through Passwords.
func HashPassword(password string) (string, error) {
	return DefaultPasswordParams().hash(password)
}

// ErrPasswordMismatch: the password does not match the hash.
var ErrPasswordMismatch = fault.New(fault.Unauthenticated, CodePasswordMismatch, "password does not match")

// phcHash is a parsed PHC argon2id string.
type phcHash struct {
	params PasswordParams
	salt   []byte
	key    []byte
}

func parsePasswordHash(hash string) (phcHash, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return phcHash{}, errors.New("unsupported password hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return phcHash{}, errors.New("unsupported argon2 version")
	}
	var h phcHash
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.params.MemoryKiB, &h.params.Time, &h.params.Threads); err != nil {
		return phcHash{}, fmt.Errorf("parse argon2 parameters: %w", err)
	}
	if p := h.params; p.Time < 1 || p.Time > maxHashTime || p.Threads < 1 || p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxHashMemoryKiB {
		return phcHash{}, fmt.Errorf("argon2 parameters m=%d,t=%d,p=%d out of range", p.MemoryKiB, p.Time, p.Threads)
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return phcHash{}, fmt.Errorf("decode salt: %w", err)
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil {
		return phcHash{}, fmt.Errorf("decode hash: %w", err)
	}
	if len(h.key) < 16 || len(h.key) > 64 {
		return phcHash{}, fmt.Errorf("argon2 key of %d bytes", len(h.key))
	}
	return h, nil
}

func (h phcHash) verify(password string) error {
	p := h.params
	got := argon2.IDKey([]byte(password), h.salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(h.key)))
	if subtle.ConstantTimeCompare(got, h.key) != 1 {
		return ErrPasswordMismatch
	}
	return nil
}

// VerifyPassword checks password against a PHC argon2id hash at once
// (outside any Passwords limit): for tests and tools. Servers verify
// through Passwords.
func VerifyPassword(hash, password string) error {
	h, err := parsePasswordHash(hash)
	if err != nil {
		return err
	}
	return h.verify(password)
}

// BusyError: every password hashing slot is taken and the wait queue is
// full (or the wait took too long). Nothing was checked; the caller may try
// again after RetryAfter. It is a Throttled refusal.
type BusyError struct{ RetryAfter time.Duration }

func (e *BusyError) Error() string {
	return fmt.Sprintf("password hashing is at capacity; retry after %s", e.RetryAfter)
}

// Unwrap is the refusal: Throttled, with RetryAfter.
func (e *BusyError) Unwrap() error {
	return &fault.Error{Kind: fault.Throttled, Code: CodePasswordBusy, Message: e.Error(), RetryAfter: e.RetryAfter}
}

// PasswordsOptions size a Passwords limiter; zero values take the defaults.
type PasswordsOptions struct {
	// Params are the parameters of new hashes (default DefaultPasswordParams).
	Params PasswordParams
	// MemoryBudget bounds the argon2 memory of the checks running at once,
	// in bytes (default 128 MiB). A check of an older, larger hash takes
	// more of it; one larger than the whole budget runs alone.
	MemoryBudget int64
	// Concurrency bounds the checks running at once (default: the CPUs,
	// fewer if MemoryBudget cannot hold that many hashes of Params).
	Concurrency int
	// Queue bounds the checks waiting for a slot (default 32 per slot);
	// a check beyond it is refused at once with *BusyError. A waiting check
	// costs no CPU while a refused caller retries at once, so a queue about
	// a second deep (MaxWait) keeps a flood cheaper than fast refusals
	// alone: at 64 concurrent wrong passwords on 2 CPUs, 4 per slot let the
	// retries push token p99 to 200 ms; 32 per slot kept it at 33 ms.
	Queue int
	// MaxWait bounds how long a check waits in the queue (default 1 s).
	MaxWait time.Duration
}

// Passwords hashes and verifies passwords with bounded concurrency and
// memory. argon2id is memory-hard on purpose, so without a bound a burst of
// wrong passwords (no credentials needed) exhausts the server's memory;
// with it, a burst costs a short queue and then fast refusals.
type Passwords struct {
	params      PasswordParams
	budgetKiB   int64
	concurrency int
	queue       int
	maxWait     time.Duration

	mu        sync.Mutex
	running   int
	usedKiB   int64
	waiters   []*hashWaiter // FIFO
	dummyOnce sync.Once
	dummy     phcHash
}

type hashWaiter struct {
	kib   int64
	ready chan struct{} // closed when granted
}

// NewPasswords returns a password hashing limiter.
func NewPasswords(o PasswordsOptions) *Passwords {
	if o.Params == (PasswordParams{}) {
		o.Params = DefaultPasswordParams()
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 128 << 20
	}
	budgetKiB := o.MemoryBudget >> 10
	if o.Concurrency <= 0 {
		o.Concurrency = int(max(1, min(int64(runtime.NumCPU()), budgetKiB/int64(o.Params.MemoryKiB))))
	}
	if o.Queue <= 0 {
		o.Queue = 32 * o.Concurrency
	}
	if o.MaxWait <= 0 {
		o.MaxWait = time.Second
	}
	return &Passwords{params: o.Params, budgetKiB: budgetKiB, concurrency: o.Concurrency, queue: o.Queue, maxWait: o.MaxWait}
}

// Concurrency is how many checks may run at once.
func (p *Passwords) Concurrency() int { return p.concurrency }

// Running is how many checks are running now (for metrics, and for tests
// that need the limit full).
func (p *Passwords) Running() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

// Params are the parameters of new hashes.
func (p *Passwords) Params() PasswordParams { return p.params }

// Hash hashes password with the current parameters. It waits for a slot
// as long as ctx allows, never refusing: it serves administrators setting
// passwords, not anonymous callers.
func (p *Passwords) Hash(ctx context.Context, password string) (string, error) {
	release, err := p.acquire(ctx, int64(p.params.MemoryKiB), false)
	if err != nil {
		return "", err
	}
	defer release()
	return p.params.hash(password)
}

// Verify checks password against hash in a slot: ErrPasswordMismatch for a
// wrong password, *BusyError when no slot is free soon enough, another
// error for a hash it cannot read. rehash reports that the password matched
// a hash made with other parameters than the current ones, which the caller
// should replace (Hash) while it knows the password.
func (p *Passwords) Verify(ctx context.Context, hash, password string) (rehash bool, err error) {
	h, err := parsePasswordHash(hash)
	if err != nil {
		return false, err
	}
	if err := p.verify(ctx, h, password); err != nil {
		return false, err
	}
	return h.params != p.params, nil
}

// VerifyNone spends what a check of a real hash with the current
// parameters spends, in the same slots, and always fails: for an unknown
// account name, so that neither timing nor the limit tells names apart.
func (p *Passwords) VerifyNone(ctx context.Context, password string) error {
	p.dummyOnce.Do(func() {
		salt := make([]byte, 16)
		_, _ = rand.Read(salt)
		p.dummy = phcHash{params: p.params, salt: salt, key: make([]byte, argonKeyLen)}
	})
	if err := p.verify(ctx, p.dummy, password); err != nil && !errors.Is(err, ErrPasswordMismatch) {
		return err
	}
	return ErrPasswordMismatch
}

func (p *Passwords) verify(ctx context.Context, h phcHash, password string) error {
	release, err := p.acquire(ctx, int64(h.params.MemoryKiB), true)
	if err != nil {
		return err
	}
	defer release()
	return h.verify(password)
}

// acquire takes a slot and kib of the memory budget, waiting in FIFO order.
// bounded applies the queue length and MaxWait.
func (p *Passwords) acquire(ctx context.Context, kib int64, bounded bool) (func(), error) {
	kib = min(kib, p.budgetKiB)
	p.mu.Lock()
	if len(p.waiters) == 0 && p.fits(kib) {
		p.grant(kib)
		p.mu.Unlock()
		return func() { p.release(kib) }, nil
	}
	if bounded && len(p.waiters) >= p.queue {
		p.mu.Unlock()
		return nil, p.busy()
	}
	w := &hashWaiter{kib: kib, ready: make(chan struct{})}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()

	var timeout <-chan time.Time
	if bounded {
		t := time.NewTimer(p.maxWait)
		defer t.Stop()
		timeout = t.C
	}
	var err error
	select {
	case <-w.ready:
		return func() { p.release(kib) }, nil
	case <-ctx.Done():
		err = fmt.Errorf("wait for a password hashing slot: %w", ctx.Err())
	case <-timeout:
		err = p.busy()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-w.ready:
		// Granted while giving up: pass the slot on.
		p.releaseLocked(kib)
	default:
		for i, x := range p.waiters {
			if x == w {
				p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
				break
			}
		}
		// The head leaving may let the next one fit.
		p.wakeLocked()
	}
	return nil, err
}

func (p *Passwords) fits(kib int64) bool {
	return p.running < p.concurrency && p.usedKiB+kib <= p.budgetKiB
}

func (p *Passwords) grant(kib int64) {
	p.running++
	p.usedKiB += kib
}

func (p *Passwords) release(kib int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(kib)
}

func (p *Passwords) releaseLocked(kib int64) {
	p.running--
	p.usedKiB -= kib
	p.wakeLocked()
}

func (p *Passwords) wakeLocked() {
	for len(p.waiters) > 0 && p.fits(p.waiters[0].kib) {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		p.grant(w.kib)
		close(w.ready)
	}
}

// busy suggests a retry once the queue has had time to drain; a whole
// second because Retry-After counts in seconds.
func (p *Passwords) busy() error { return &BusyError{RetryAfter: time.Second} }

// NewPassword generates a random password that satisfies Entra's complexity rules.
func NewPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "Ts1!" + base64.RawURLEncoding.EncodeToString(b), nil
}
