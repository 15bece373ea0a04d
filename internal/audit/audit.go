// Package audit writes Tessera's append-only audit and sign-in log.
//
// Sign-ins arrive at token-endpoint rates, so events are written with group
// commit: Record queues an event and waits until the batch holding it is
// committed. Each caller learns its event is durable before it answers, while
// one transaction carries many events.
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

	closeOnce sync.Once
	closed    chan struct{}
	stopped   chan struct{}
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("audit log closed")

// New starts a Log writing to st.
func New(st store.Audit, log *slog.Logger) *Log {
	l := &Log{store: st, log: log, queue: make(chan pending, 4*maxBatch),
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
		var first pending
		select {
		case first = <-l.queue:
		case <-l.closed:
			// Drain what was queued before Close.
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
		batch = append(batch, first)
		batch = l.fill(batch)
		l.flush(batch)
		batch = batch[:0]
	}
}

// linger is how long a small batch waits for company. Under load, requests
// in flight record their events within this window, so one commit carries
// several of them instead of one each. The token endpoint submits its event
// before it signs (about a millisecond of CPU) and waits after, so the
// linger hides behind the signature; other callers wait this much longer
// for their commit.
const linger = time.Millisecond

// fill adds what is queued to batch, lingering once if the batch is small.
func (l *Log) fill(batch []pending) []pending {
	var timer *time.Timer
	for len(batch) < maxBatch {
		select {
		case p := <-l.queue:
			batch = append(batch, p)
			continue
		default:
		}
		if timer != nil || len(batch) >= 8 {
			break
		}
		timer = time.NewTimer(linger)
		select {
		case p := <-l.queue:
			batch = append(batch, p)
			continue
		case <-timer.C:
		}
	}
	if timer != nil {
		timer.Stop()
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
