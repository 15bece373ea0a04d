// Package feed keeps a replica's in-memory views (the RBAC index, the client
// and tenant caches, the signing keys) coherent with the database by
// following the store's change feed.
//
//	write ──► store transaction ──► changes row (revision N) ──► commit
//	                                                              │
//	  this replica: OnCommit ──► Sync(N) ─┐        other replicas: NOTIFY
//	                                      ▼                        │ (or poll)
//	Follower loop: ChangesAfter(applied) ──► Appliers[kind](change) ──► applied = N
//
// A Follower applies changes one at a time, in revision order, one caller at
// a time (its loop, or a write waiting for its own change): the views never
// see a change before an earlier one. A change
// says which object changed, not how, and each Applier reads the object's
// current state, so applying a change again is harmless. There is no
// periodic rebuild: the views are loaded in full once at start, and again
// only when the follower finds that entries it has not applied were trimmed
// from the feed.
package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-id/tessera/internal/store"
)

// Applier applies one change to a view. An error stops the follower at that
// change, to be tried again at the next turn (a store that did not answer),
// unless it is Permanent.
type Applier func(ctx context.Context, c store.Change) error

// permanentError is an applier's refusal that retrying cannot change.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as a refusal that retrying cannot change (a record
// the view cannot hold): the follower logs it and goes on with the next
// change instead of stopping the feed for every view.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// Loader loads a view in full from the store.
type Loader func(ctx context.Context) error

// Options tune a Follower; zero values take the defaults.
type Options struct {
	// Poll is how often the follower reads the feed when no signal came
	// (default 500 ms): it catches commits by processes whose signals do
	// not reach this one.
	Poll time.Duration
	// Batch is the most changes read at once (default 1000).
	Batch  int
	Logger *slog.Logger
	Now    func() time.Time
}

// Follower follows the change feed of one store.
type Follower struct {
	feed     store.Feed
	appliers map[store.ChangeKind][]Applier
	loaders  []Loader
	opts     Options

	applied atomic.Int64
	// head is the newest revision the follower has seen in the store.
	head atomic.Int64
	// caughtUp is when the follower last had applied everything it knew
	// of (Unix nanoseconds).
	caughtUp atomic.Int64

	changesApplied atomic.Uint64
	fullReloads    atomic.Uint64

	// applying is a one-slot semaphore held by whoever applies changes or
	// reloads; unlike a mutex, waiting for it gives up with its context.
	applying chan struct{}

	mu sync.Mutex
	// advanced is closed and replaced whenever applied grows.
	advanced chan struct{}
}

// New returns a follower of st's feed; register appliers and loaders, then
// Start it.
func New(st store.Feed, opts Options) *Follower {
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Follower{feed: st, appliers: map[store.ChangeKind][]Applier{}, opts: opts,
		advanced: make(chan struct{}), applying: make(chan struct{}, 1)}
}

// On registers fn for changes of kind.
func (f *Follower) On(kind store.ChangeKind, fn Applier) {
	f.appliers[kind] = append(f.appliers[kind], fn)
}

// Load registers fn to run on every full load.
func (f *Follower) Load(fn Loader) { f.loaders = append(f.loaders, fn) }

// Start loads every view in full and makes the follower current: on return,
// everything committed before the call is applied. Then call Run.
func (f *Follower) Start(ctx context.Context) error {
	if err := f.Reload(ctx); err != nil {
		return err
	}
	return f.catchUp(ctx)
}

// Reload loads every view in full now, as at start.
func (f *Follower) Reload(ctx context.Context) error {
	if err := f.lock(ctx); err != nil {
		return err
	}
	defer f.unlock()
	return f.reload(ctx)
}

func (f *Follower) lock(ctx context.Context) error {
	select {
	case f.applying <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *Follower) unlock() { <-f.applying }

// Run follows the feed until ctx ends.
func (f *Follower) Run(ctx context.Context) {
	tick := time.NewTicker(f.opts.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.feed.ChangeSignal():
		case <-tick.C:
		}
		if err := f.catchUp(ctx); err != nil && ctx.Err() == nil {
			f.opts.Logger.Error("follow change feed", "applied", f.applied.Load(), "err", err)
		}
	}
}

// reload loads every view in full at the feed's current revision. A change
// committed while the views load has a later revision and is applied after
// them, so a write racing the reload is never undone by it.
func (f *Follower) reload(ctx context.Context) error {
	rev, err := f.feed.Revision(ctx)
	if err != nil {
		return fmt.Errorf("full reload: %w", err)
	}
	for _, load := range f.loaders {
		if err := load(ctx); err != nil {
			return fmt.Errorf("full reload: %w", err)
		}
	}
	f.fullReloads.Add(1)
	f.head.Store(max(f.head.Load(), rev))
	f.advance(rev)
	return nil
}

// errTrimmed: changes the follower has not applied are gone from the feed.
var errTrimmed = errors.New("unapplied changes were trimmed from the feed")

// catchUp applies every change committed so far.
func (f *Follower) catchUp(ctx context.Context) error {
	if err := f.lock(ctx); err != nil {
		return err
	}
	defer f.unlock()
	for {
		err := f.applyBatch(ctx)
		if errors.Is(err, errTrimmed) {
			f.opts.Logger.Warn("fell behind the change feed's retention; reloading in full", "applied", f.applied.Load())
			if err := f.reload(ctx); err != nil {
				return err
			}
			continue
		}
		if errors.Is(err, errCaughtUp) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

var errCaughtUp = errors.New("caught up")

// applyBatch applies the next batch of changes: errCaughtUp when there was
// none left, errTrimmed when the next one is gone.
func (f *Follower) applyBatch(ctx context.Context) error {
	applied := f.applied.Load()
	cs, err := f.feed.ChangesAfter(ctx, applied, f.opts.Batch)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		// Nothing after applied: caught up, unless what came after was
		// trimmed before this follower read it.
		head, err := f.feed.Revision(ctx)
		if err != nil {
			return err
		}
		f.head.Store(max(f.head.Load(), head))
		if head > applied {
			return errTrimmed
		}
		f.caughtUp.Store(f.opts.Now().UnixNano())
		return errCaughtUp
	}
	if cs[0].Revision != applied+1 {
		return errTrimmed
	}
	f.head.Store(max(f.head.Load(), cs[len(cs)-1].Revision))
	for _, c := range cs {
		for _, apply := range f.appliers[c.Kind] {
			err := apply(ctx, c)
			var permanent permanentError
			if errors.As(err, &permanent) {
				f.opts.Logger.Error("a change cannot be applied; skipped", "revision", c.Revision, "kind", c.Kind, "key", c.Key, "err", err)
				continue
			}
			if err != nil {
				return fmt.Errorf("apply change %d (%s %s): %w", c.Revision, c.Kind, c.Key, err)
			}
		}
		f.changesApplied.Add(1)
		f.advance(c.Revision)
	}
	return nil
}

func (f *Follower) advance(rev int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rev <= f.applied.Load() {
		return
	}
	f.applied.Store(rev)
	close(f.advanced)
	f.advanced = make(chan struct{})
}

// Applied is the revision up to which every change is applied.
func (f *Follower) Applied() int64 { return f.applied.Load() }

// ErrBehind: the follower did not reach a revision in time.
var ErrBehind = errors.New("replica has not applied the revision yet")

// WaitFor returns once every change up to rev is applied, or ErrBehind
// when ctx ends first. It applies what is committed itself rather than
// wait for the loop's next turn.
func (f *Follower) WaitFor(ctx context.Context, rev int64) error {
	for {
		if f.applied.Load() >= rev {
			return nil
		}
		if err := f.catchUp(ctx); err != nil && ctx.Err() == nil {
			f.opts.Logger.Error("follow change feed", "applied", f.applied.Load(), "err", err)
		}
		f.mu.Lock()
		ch := f.advanced
		f.mu.Unlock()
		if f.applied.Load() >= rev {
			return nil
		}
		// Not committed yet where this replica reads (a revision from the
		// future is refused here too, once ctx ends).
		select {
		case <-ch:
		case <-time.After(f.opts.Poll):
		case <-ctx.Done():
			return fmt.Errorf("wait for revision %d (applied %d): %w", rev, f.applied.Load(), ErrBehind)
		}
	}
}

// syncTimeout bounds how long a write waits for its own replica to apply it.
const syncTimeout = 5 * time.Second

// Sync makes this replica apply a write it committed at rev before the write
// returns (the store's OnCommit hook): a replica's next request sees its own
// writes.
func (f *Follower) Sync(ctx context.Context, rev int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), syncTimeout)
	defer cancel()
	if err := f.WaitFor(ctx, rev); err != nil {
		f.opts.Logger.Warn("a write is not applied on its own replica yet", "revision", rev, "err", err)
	}
}

// Status is what operations watch: how far behind the feed this replica is.
type Status struct {
	Applied        int64
	LagRevisions   int64
	LagSeconds     float64
	ChangesApplied uint64
	FullReloads    uint64
}

// Status reports the follower's progress. LagSeconds is how long the
// follower has not been caught up (0 while it is).
func (f *Follower) Status() Status {
	applied := f.applied.Load()
	st := Status{
		Applied:        applied,
		LagRevisions:   max(0, f.head.Load()-applied),
		ChangesApplied: f.changesApplied.Load(),
		FullReloads:    f.fullReloads.Load(),
	}
	if at := f.caughtUp.Load(); at > 0 {
		// Between polls a caught-up follower has not looked for a while:
		// that is not lag.
		if idle := f.opts.Now().Sub(time.Unix(0, at)) - 2*f.opts.Poll; idle > 0 {
			st.LagSeconds = idle.Seconds()
		}
	}
	return st
}

// View is an in-memory view that registers its appliers and loader.
type View interface{ Follow(f *Follower) }

// StartFollowing wires views to a new follower of st, loads them in full,
// and makes every write through st wait until this follower has applied it
// (read-your-writes on this replica). The caller runs the follower's loop
// (Run) to pick up other processes' writes.
func StartFollowing(ctx context.Context, st store.Feed, opts Options, views ...View) (*Follower, error) {
	f := New(st, opts)
	for _, v := range views {
		v.Follow(f)
	}
	if err := f.Start(ctx); err != nil {
		return nil, fmt.Errorf("load from the change feed: %w", err)
	}
	st.OnCommit(f.Sync)
	return f, nil
}
