package supervision_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	biz "github.com/cityops/cityops/app/platform/internal/biz/supervision"
	data "github.com/cityops/cityops/app/platform/internal/data/supervision"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var t0 = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

// compete has n holders ask for the lease at once and returns the winners
// and what every loser saw.
func compete(t *testing.T, leases biz.LeaseRepo, n int, ttl time.Duration, now time.Time) (winners []string, seen []*biz.Lease) {
	t.Helper()
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			holder := fmt.Sprintf("replica-%d", i)
			l, ok, err := leases.TryAcquire(context.Background(), "scheduler", holder, ttl, now)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("%s: %v", holder, err)
				return
			}
			if ok {
				winners = append(winners, holder)
			} else {
				seen = append(seen, l)
			}
		}()
	}
	close(start)
	wg.Wait()
	return winners, seen
}

func TestLeaseOnlyOneOfConcurrentHoldersWins(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		leases := data.NewLeaseRepo(db)
		const n, ttl = 8, time.Minute
		winners, seen := compete(t, leases, n, ttl, t0)
		if len(winners) != 1 || len(seen) != n-1 {
			t.Fatalf("first round: winners %v, losers %d", winners, len(seen))
		}
		leader := winners[0]
		for _, l := range seen {
			if l.Holder != leader || l.Fencing != 1 || !l.ExpiresAt.Equal(t0.Add(ttl)) {
				t.Fatalf("a loser saw %+v; want %s, fencing 1, expiring %s", l, leader, t0.Add(ttl))
			}
		}

		// The leader renews: same fencing token, later expiry.
		l, ok, err := leases.TryAcquire(context.Background(), "scheduler", leader, ttl, t0.Add(20*time.Second))
		if err != nil || !ok || l.Fencing != 1 || !l.ExpiresAt.Equal(t0.Add(20*time.Second+ttl)) {
			t.Fatalf("renew: %+v, %v, %v", l, ok, err)
		}
		// Before expiry nobody else gets it, not even at the old expiry.
		if l, ok, err := leases.TryAcquire(context.Background(), "scheduler", "intruder", ttl, t0.Add(ttl)); err != nil || ok || l.Holder != leader {
			t.Fatalf("intruder before expiry: %+v, %v, %v", l, ok, err)
		}

		// After expiry the replicas race again: exactly one takes over, and
		// the fencing token moves once (not at all when the old leader wins
		// the race: for it, that is a renewal).
		after := t0.Add(20*time.Second + ttl + time.Second)
		winners, seen = compete(t, leases, n, ttl, after)
		if len(winners) != 1 {
			t.Fatalf("takeover: winners %v", winners)
		}
		want := int64(2)
		if winners[0] == leader {
			want = 1
		}
		for _, l := range seen {
			if l.Holder != winners[0] || l.Fencing != want {
				t.Fatalf("after takeover a loser saw %+v; want %s with fencing %d", l, winners[0], want)
			}
		}
		// If the old leader won again, it renewed; otherwise it lost the lease.
		if winners[0] != leader {
			if _, ok, _ := leases.TryAcquire(context.Background(), "scheduler", leader, ttl, after.Add(time.Second)); ok {
				t.Fatal("the stale leader renewed a lease it lost")
			}
		}
	})
}

func TestLeaseTakeoverAfterExpiryAndRelease(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		leases := data.NewLeaseRepo(db)
		ctx := context.Background()
		const ttl = 3 * time.Minute
		if l, ok, err := leases.TryAcquire(ctx, "scheduler", "a", ttl, t0); err != nil || !ok || l.Fencing != 1 {
			t.Fatalf("a: %+v, %v, %v", l, ok, err)
		}
		// Another lease name is independent.
		if l, ok, err := leases.TryAcquire(ctx, "other", "b", ttl, t0); err != nil || !ok || l.Fencing != 1 {
			t.Fatalf("other: %+v, %v, %v", l, ok, err)
		}
		if _, ok, _ := leases.TryAcquire(ctx, "scheduler", "b", ttl, t0.Add(ttl-time.Microsecond)); ok {
			t.Fatal("b took a lease that had not expired")
		}
		// At expiry the lease is free.
		l, ok, err := leases.TryAcquire(ctx, "scheduler", "b", ttl, t0.Add(ttl))
		if err != nil || !ok || l.Fencing != 2 || l.Holder != "b" {
			t.Fatalf("b at expiry: %+v, %v, %v", l, ok, err)
		}
		if _, ok, _ := leases.TryAcquire(ctx, "scheduler", "a", ttl, t0.Add(ttl+time.Second)); ok {
			t.Fatal("a renewed a lease b holds")
		}
		// A release by someone else changes nothing; b's own frees it now.
		if err := leases.Release(ctx, "scheduler", "a", t0.Add(ttl+2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := leases.TryAcquire(ctx, "scheduler", "a", ttl, t0.Add(ttl+3*time.Second)); ok {
			t.Fatal("a released b's lease")
		}
		if err := leases.Release(ctx, "scheduler", "b", t0.Add(ttl+4*time.Second)); err != nil {
			t.Fatal(err)
		}
		l, ok, err = leases.TryAcquire(ctx, "scheduler", "a", ttl, t0.Add(ttl+4*time.Second))
		if err != nil || !ok || l.Fencing != 3 {
			t.Fatalf("a after release: %+v, %v, %v", l, ok, err)
		}
	})
}
