package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/tessera-id/tessera/internal/config"
	"github.com/tessera-id/tessera/internal/directory"
	"github.com/tessera-id/tessera/internal/signin"
	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/token"
)

// newInteractive builds the interactive sign-in rules and the user grants'
// shared machinery (see token.Interactive).
func newInteractive(dir *directory.Service, st store.Store, audit signin.Auditor, cfg config.Config, log *slog.Logger) *token.Interactive {
	perAddress := cfg.FailedSignInsPerAddress
	if perAddress == 0 {
		perAddress = -1 // configured off; signin's zero means its default
	}
	signins := signin.New(dir, st, audit, signin.Options{Logger: log, Throttle: signin.ThrottleOptions{AddressThreshold: perAddress}})
	return token.NewInteractive(st, signins, token.InteractiveOptions{})
}

// purgeSignIn deletes expired codes, device codes, sessions and refresh
// tokens (part of the maintenance tick).
func (s *Server) purgeSignIn(ctx context.Context) {
	if n, err := s.store.PurgeExpiredSignIn(ctx, time.Now()); err != nil && ctx.Err() == nil {
		s.log.Error("purge expired sign-in state", "err", err)
	} else if n > 0 {
		s.log.Debug("purged expired sign-in state", "count", n)
	}
}

// SetAllowROPC turns the resource owner password grant on or off for the
// home tenant (the setting `tessera tenant update --allow-ropc` changes).
func (s *Server) SetAllowROPC(ctx context.Context, allow bool) error {
	t, err := s.store.GetTenant(ctx, s.tenant.ID)
	if err != nil {
		return err
	}
	t.Settings.AllowROPC = allow
	return s.store.UpdateTenant(ctx, t)
}

// Store is the server's store, for tests that set up state directly.
func (s *Server) Store() store.Store { return s.store }
