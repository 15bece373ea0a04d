// Package audit writes Tessera's append-only audit and sign-in log.
//
// Sign-ins arrive at token-endpoint rates, so events are written with group
// commit: Record (or Submit and then its wait) queues an event and waits until
// the batch holding it is committed. Each caller learns its event is durable
// before it answers, while one transaction carries many events: a batch grows
// until somebody waits for it.
package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tessera-id/tessera/internal/domain"
	"github.com/tessera-id/tessera/internal/store"
)

// maxBatch bounds one transaction's size.
const maxBatch = 256

type pending struct {
	ev   domain.AuditEvent
	done chan error
}

// Log is the audit log writer.
type Log struct {
	store store.Audit
	log   *slog.Logger
	queue chan pending
	// urge tells the writer that a caller waits for a commit.
	urge chan struct{}

	closeOnce sync.Once
	closed    chan struct{}
	stopped   chan struct{}
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("audit log closed")

// New starts a Log writing to st.
func New(st store.Audit, log *slog.Logger) *Log {
	l := &Log{store: st, log: log, queue: make(chan pending, 4*maxBatch), urge: make(chan struct{}, 1),
		closed: make(chan struct{}), stopped: make(chan struct{})}
	go l.run()
	return l
}

// Record appends ev and returns once it is committed.
func (l *Log) Record(ctx context.Context, ev domain.AuditEvent) error {
	return l.Submit(ctx, ev)()
}

// Submit queues ev and returns a function that waits until it is committed
// (and returns the commit's error): a caller with work left can queue its
// event first and let the commit run meanwhile.
func (l *Log) Submit(ctx context.Context, ev domain.AuditEvent) (wait func() error) {
	if ev.ID == "" {
		// Time-ordered ids append to the right edge of the id index instead
		// of dirtying a random page of it in every commit.
		id, err := uuid.NewV7()
		if err != nil {
			return func() error { return fmt.Errorf("audit event id: %w", err) }
		}
		ev.ID = id.String()
	}
	p := pending{ev: ev, done: make(chan error, 1)}
	select {
	case l.queue <- p:
	case <-l.closed:
		return func() error { return ErrClosed }
	case <-ctx.Done():
		err := ctx.Err()
		return func() error { return err }
	}
	// Wait for the commit even if ctx ends: the event is already queued.
	return func() error {
		select {
		case err := <-p.done:
			return err
		default:
		}
		// Somebody waits now: the batch gathering need not wait for more.
		select {
		case l.urge <- struct{}{}:
		default:
		}
		select {
		case err := <-p.done:
			return err
		case <-l.stopped:
			select {
			case err := <-p.done:
				return err
			default:
				return ErrClosed
			}
		}
	}
}

func (l *Log) run() {
	defer close(l.stopped)
	batch := make([]pending, 0, maxBatch)
	for {
		select {
		case p := <-l.queue:
			batch = l.gather(append(batch[:0], p))
			l.flush(batch)
		case <-l.urge:
			// Somebody waits for an event still queued (or, harmlessly,
			// for one the last commit carried).
			batch = l.drain(batch[:0])
			l.flush(batch)
		case <-l.closed:
			// Drain what was queued before Close.
			batch = batch[:0]
			for {
				select {
				case p := <-l.queue:
					batch = append(batch, p)
					if len(batch) == maxBatch {
						l.flush(batch)
						batch = batch[:0]
					}
				default:
					l.flush(batch)
					return
				}
			}
		}
	}
}

// maxLinger bounds how long an event waits in a batch that nobody waits
// for yet.
const maxLinger = 5 * time.Millisecond

// gather adds queued events to batch until somebody waits for a commit, the
// batch is full, or maxLinger passes. The token endpoint submits its event
// before it signs and waits after, so under load the events of the requests
// signing meanwhile join the batch, and one commit carries many of them at
// no cost in latency; a lone request's commit starts as soon as it waits.
func (l *Log) gather(batch []pending) []pending {
	timer := time.NewTimer(maxLinger)
	defer timer.Stop()
	for len(batch) < maxBatch {
		select {
		case p := <-l.queue:
			batch = append(batch, p)
		case <-l.urge:
			return l.drain(batch)
		case <-timer.C:
			return l.drain(batch)
		case <-l.closed:
			return batch
		}
	}
	return batch
}

// drain adds what is queued now to batch, up to maxBatch.
func (l *Log) drain(batch []pending) []pending {
	for len(batch) < maxBatch {
		select {
		case p := <-l.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

func (l *Log) flush(batch []pending) {
	if len(batch) == 0 {
		return
	}
	events := make([]domain.AuditEvent, len(batch))
	for i, p := range batch {
		events[i] = p.ev
	}
	err := l.store.AppendAudit(context.Background(), events...)
	if err != nil {
		err = fmt.Errorf("append %d audit events: %w", len(events), err)
		l.log.Error("audit write failed", "err", err)
	}
	for _, p := range batch {
		p.done <- err
	}
}

// Close stops the writer after committing what was queued.
func (l *Log) Close() {
	l.closeOnce.Do(func() { close(l.closed) })
	<-l.stopped
}
