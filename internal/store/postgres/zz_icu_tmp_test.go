package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-id/tessera/internal/store"
	"github.com/tessera-id/tessera/internal/store/storetest"
)

func TestTmpICU(t *testing.T) {
	admin := adminDSN(t)
	ctx := context.Background()
	n := 0
	storetest.Run(t, func(t *testing.T) store.Store {
		n++
		name := "tessera_icu_tmp_" + string(rune('a'+n))
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			c, _ := pgx.Connect(ctx, admin)
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		})
		dsn, _ := withDatabase(admin, name)
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
