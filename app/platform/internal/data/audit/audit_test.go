package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/audit"
	data "github.com/cityops/cityops/app/platform/internal/data/audit"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func sys() context.Context { return viewer.SystemContext(context.Background(), "test") }

// TestLockHeadMakesWritersTakeTurns: while one transaction holds a chain's
// head, a second one waits for it and then sees the advanced head, on
// PostgreSQL through the row lock and on SQLite through BEGIN IMMEDIATE.
func TestLockHeadMakesWritersTakeTurns(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		repo := data.NewRepo(db)
		held := make(chan struct{})
		release := make(chan struct{})
		first := make(chan error, 1)
		go func() {
			first <- db.InTx(sys(), func(ctx context.Context) error {
				h, err := repo.LockHead(ctx, "450126")
				if err != nil {
					close(held)
					return err
				}
				close(held)
				<-release
				return repo.AdvanceHead(ctx, h, h.Seq+1, "h1")
			})
		}()
		<-held
		second := make(chan biz.Head, 1)
		secondErr := make(chan error, 1)
		go func() {
			secondErr <- db.InTx(sys(), func(ctx context.Context) error {
				h, err := repo.LockHead(ctx, "450126")
				second <- h
				return err
			})
		}()
		select {
		case h := <-second:
			t.Fatalf("second writer got head %+v while the first held it", h)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if h := <-second; h.Seq != 1 || h.Hash != "h1" {
			t.Errorf("second writer got head %+v, want seq 1 hash h1", h)
		}
		if err := <-secondErr; err != nil {
			t.Fatal(err)
		}
	})
}

func TestEmptyChain(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		repo := data.NewRepo(db)
		ctx := sys()
		if _, ok, err := repo.Head(ctx, "450126"); ok || err != nil {
			t.Errorf("Head of an empty chain: ok %v, %v", ok, err)
		}
		if n, err := repo.MaxSeq(ctx, "450126"); n != 0 || err != nil {
			t.Errorf("MaxSeq of an empty chain = %d, %v", n, err)
		}
		if rows, err := repo.Page(ctx, "450126", 0, 100, 10); len(rows) != 0 || err != nil {
			t.Errorf("Page of an empty chain = %v, %v", rows, err)
		}
	})
}
