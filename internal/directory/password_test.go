package directory

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// cheap parameters keep the tests fast; the limiter does not care.
var cheap = PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}

func TestPasswordsVerify(t *testing.T) {
	ctx := context.Background()
	p := NewPasswords(PasswordsOptions{Params: cheap})
	h, err := p.Hash(ctx, "right")
	if err != nil {
		t.Fatal(err)
	}
	old, err := HashPassword("right") // the default parameters, not cheap
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, hash, password string
		rehash               bool
		want                 error
	}{
		{"current", h, "right", false, nil},
		{"wrong", h, "wrong", false, ErrPasswordMismatch},
		{"other parameters", old, "right", true, nil},
		{"other parameters, wrong", old, "wrong", false, ErrPasswordMismatch},
		{"legacy RFC 9106 hash", legacyHash(t), "legacy", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rehash, err := p.Verify(ctx, tc.hash, tc.password)
			if !errors.Is(err, tc.want) || rehash != tc.rehash {
				t.Fatalf("Verify = %v, %v; want %v, %v", rehash, err, tc.rehash, tc.want)
			}
		})
	}
	if err := p.VerifyNone(ctx, "right"); !errors.Is(err, ErrPasswordMismatch) {
		t.Fatalf("VerifyNone = %v", err)
	}
}

// legacyHash is a hash with the parameters Tessera used before (m=64 MiB,
// t=3, p=2), which must keep verifying.
func legacyHash(t *testing.T) string {
	t.Helper()
	h, err := PasswordParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 2}.hash("legacy")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestVerifyPasswordRejectsHostileHashes(t *testing.T) {
	for _, h := range []string{
		"",
		"$argon2i$v=19$m=65536,t=3,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=4294967295,t=3,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=65536,t=100000,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=65536,t=3,p=0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=65536,t=3,p=2$AAAAAAAAAAAAAAAAAAAAAA$" + strings.Repeat("A", 200),
		"$argon2id$v=19$m=65536,t=3,p=2$!!$AAAA",
	} {
		if err := VerifyPassword(h, "x"); err == nil || errors.Is(err, ErrPasswordMismatch) {
			t.Errorf("VerifyPassword(%q) = %v, want a format error", h, err)
		}
	}
}

// TestPasswordsBusy fills every slot and the queue: the next check is
// refused at once, a waiting one gives up after MaxWait, and the slots
// come back when the checks end.
func TestPasswordsBusy(t *testing.T) {
	ctx := context.Background()
	p := NewPasswords(PasswordsOptions{Params: cheap, Concurrency: 2, Queue: 1, MaxWait: 50 * time.Millisecond})
	var releases []func()
	for i := 0; i < 2; i++ {
		r, err := p.acquire(ctx, 64, true)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	// One waiter fits the queue and gives up after MaxWait.
	var wg sync.WaitGroup
	wg.Add(1)
	var waitErr error
	go func() {
		defer wg.Done()
		_, waitErr = p.acquire(ctx, 64, true)
	}()
	for {
		p.mu.Lock()
		n := len(p.waiters)
		p.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// The queue is full: refused without waiting.
	var be *BusyError
	if _, err := p.Verify(ctx, "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x"); !errors.As(err, &be) || be.RetryAfter <= 0 {
		t.Fatalf("Verify with a full queue = %v, want *BusyError", err)
	}
	wg.Wait()
	if !errors.As(waitErr, &be) {
		t.Fatalf("waiter = %v, want *BusyError after MaxWait", waitErr)
	}
	// Hash waits instead of refusing, and gets the slot that is freed.
	done := make(chan error, 1)
	go func() { _, err := p.Hash(ctx, "pw"); done <- err }()
	time.Sleep(10 * time.Millisecond)
	releases[0]()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	releases[1]()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running != 0 || p.usedKiB != 0 || len(p.waiters) != 0 {
		t.Fatalf("after all checks: running %d, memory %d KiB, waiters %d", p.running, p.usedKiB, len(p.waiters))
	}
}

// TestPasswordsMemoryBudget: a check of an old, larger hash takes more of
// the budget, so fewer run beside it.
func TestPasswordsMemoryBudget(t *testing.T) {
	ctx := context.Background()
	p := NewPasswords(PasswordsOptions{Params: cheap, Concurrency: 4, MemoryBudget: 1 << 20, Queue: 1, MaxWait: time.Millisecond})
	release, err := p.acquire(ctx, 768, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.acquire(ctx, 512, true); err == nil {
		t.Fatal("two checks over the memory budget ran at once")
	}
	release()
	// Larger than the whole budget: runs alone rather than never.
	release, err = p.acquire(ctx, 4<<10, true)
	if err != nil {
		t.Fatal(err)
	}
	release()
}

func TestPasswordsDefaultConcurrency(t *testing.T) {
	p := NewPasswords(PasswordsOptions{MemoryBudget: 40 << 20})
	if got := p.Concurrency(); got < 1 || got > 2 {
		t.Fatalf("40 MiB of 19 MiB hashes: concurrency %d, want 1 or 2 (by CPUs)", got)
	}
}

// BenchmarkPasswordHash measures one check with the default parameters,
// one at a time (ns/op is the cost of a sign-in's hash on one core).
func BenchmarkPasswordHash(b *testing.B) {
	h, err := HashPassword("benchmark")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := VerifyPassword(h, "benchmark"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPasswordsParallel measures checks through the limiter from many
// goroutines: checks/s is the most password sign-ins this machine verifies.
func BenchmarkPasswordsParallel(b *testing.B) {
	ctx := context.Background()
	p := NewPasswords(PasswordsOptions{Queue: 1 << 20, MaxWait: time.Hour})
	h, err := p.Hash(ctx, "benchmark")
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Verify(ctx, h, "benchmark"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
