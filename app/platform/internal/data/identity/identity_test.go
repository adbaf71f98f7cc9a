package identity

import (
	"context"
	"testing"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/identity"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestThrottle(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		r := NewRepos(db.Ent).Throttles
		ctx := viewer.SystemContext(context.Background(), "test")
		t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
		window := 15 * time.Minute
		if th, err := r.Get(ctx, "addr:192.0.2.1"); th != nil || err != nil {
			t.Fatalf("Get of nothing = %v, %v", th, err)
		}
		steps := []struct {
			at   time.Duration
			want int
		}{{0, 1}, {time.Minute, 2}, {14 * time.Minute, 3}, {16 * time.Minute, 1}, {17 * time.Minute, 2}}
		for _, s := range steps {
			now := t0.Add(s.at)
			th, err := r.AddFailure(ctx, "addr:192.0.2.1", now, now.Add(-window))
			if err != nil {
				t.Fatal(err)
			}
			if th.Failures != s.want {
				t.Fatalf("at +%s: %d failures, want %d", s.at, th.Failures, s.want)
			}
		}
		until := t0.Add(time.Hour)
		if err := r.Lock(ctx, "addr:192.0.2.1", until); err != nil {
			t.Fatal(err)
		}
		th, err := r.Get(ctx, "addr:192.0.2.1")
		if err != nil || th.Failures != 0 || th.LockedUntil == nil || !th.LockedUntil.Equal(until) {
			t.Fatalf("after lock %+v, %v", th, err)
		}
		// Only the system may touch throttles.
		anon := viewer.TenantContext(context.Background(), 1, "450126", "450126")
		if _, err := r.Get(anon, "addr:192.0.2.1"); err == nil {
			t.Fatal("a tenant viewer read a login throttle")
		}
	})
}

func TestUsersStayInTheirTenant(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		repos := NewRepos(db.Ent)
		sys := viewer.SystemContext(context.Background(), "test")
		var ids []int
		for _, code := range []string{"450126", "450181"} {
			tn, err := datatenant.NewTenantRepo(db.Ent).Create(sys, &tenant.Tenant{
				Code: code, Slug: "t" + code, NameZH: code, Level: region.County, Path: code,
				Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai",
			})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tn.ID)
		}
		a := viewer.TenantContext(context.Background(), ids[0], "450126", "450126")
		b := viewer.TenantContext(context.Background(), ids[1], "450181", "450181")
		u, err := repos.Users.Create(a, &biz.User{TenantID: ids[0], Login: "wang.wei", DisplayName: "王伟", Status: biz.StatusActive, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := repos.Users.Create(a, &biz.User{TenantID: ids[0], Login: "wang.wei", DisplayName: "x", Status: biz.StatusActive, PasswordHash: "x"}); !errorsv1.IsUserAlreadyExists(err) {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := repos.Users.GetByLogin(b, "wang.wei"); !errorsv1.IsUserNotFound(err) {
			t.Fatalf("tenant B sees tenant A's user: %v", err)
		}
		if _, err := repos.Users.AddFailedLogin(b, u.ID); !errorsv1.IsUserNotFound(err) {
			t.Fatalf("tenant B counts tenant A's failures: %v", err)
		}
		if _, err := repos.Users.Create(b, &biz.User{TenantID: ids[0], Login: "planted", DisplayName: "x", Status: biz.StatusActive, PasswordHash: "x"}); err == nil {
			t.Fatal("tenant B created a user in tenant A")
		}
		for want := 1; want <= 3; want++ {
			n, err := repos.Users.AddFailedLogin(a, u.ID)
			if err != nil || n != want {
				t.Fatalf("AddFailedLogin = %d, %v; want %d", n, err, want)
			}
		}
		if err := repos.Users.RecordLogin(a, u.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got, _ := repos.Users.GetByID(a, u.ID); got.FailedLogins != 0 || got.LastLoginAt == nil {
			t.Fatalf("after login %+v", got)
		}
	})
}
