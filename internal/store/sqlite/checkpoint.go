package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// SQLite's automatic checkpoint runs inside the commit that pushes the WAL
// past its threshold: that commit copies the WAL into the database file and
// fsyncs both, tens of milliseconds on a real disk, while every writer queued
// behind it (sign-in events among them) waits. Tessera checkpoints from a
// goroutine of its own instead, on a connection of its own, in PASSIVE mode,
// which never blocks the writer or the readers. Such a checkpoint cannot
// restart the WAL while the writer keeps appending (it never catches up with
// the last frame), so the writer's automatic checkpoint stays, at a larger
// WAL: it restarts the log and, most of it being copied by then, has little
// left to copy.
const (
	checkpointEvery = 250 * time.Millisecond
	// autoCheckpointPages is the writer's own threshold (4 KiB pages).
	autoCheckpointPages = 4096
)

// checkpointer runs PASSIVE checkpoints until stopped.
type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
}

func startCheckpointer(path, params string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", path+"?"+params)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint connection: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		err := c.checkpoint()
		// One log line when checkpoints start failing and one when they
		// recover, not one per tick.
		switch {
		case err != nil && !failing:
			slog.Warn("sqlite checkpoint failed; the writer's automatic checkpoint takes over", "err", err)
		case err == nil && failing:
			slog.Info("sqlite checkpoints resumed")
		}
		failing = err != nil
	}
}

func (c *checkpointer) checkpoint() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var busy, logFrames, checkpointed int
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &checkpointed); err != nil {
		return fmt.Errorf("wal_checkpoint: %w", err)
	}
	return nil
}

func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}
