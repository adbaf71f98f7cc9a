package identity_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/identity"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	dataidentity "github.com/cityops/cityops/app/platform/internal/data/identity"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
	entdep "github.com/cityops/cityops/ent/department"
	entthrottle "github.com/cityops/cityops/ent/loginthrottle"
	entuser "github.com/cityops/cityops/ent/user"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fakeRoles is an in-memory RoleBinder; the authorizer's storage is tested
// with the authorizer.
type fakeRoles struct {
	mu    sync.Mutex
	roles map[string][]string
	home  map[string]string
}

func (f *fakeRoles) SetRoles(_ context.Context, subject, homePath string, roles []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roles[subject], f.home[subject] = slices.Clone(roles), homePath
	return nil
}

func (f *fakeRoles) Roles(_ context.Context, subject string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.roles[subject]), nil
}

func (f *fakeRoles) RemoveSubject(_ context.Context, subject string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.roles, subject)
	delete(f.home, subject)
	return nil
}

// env is the identity use cases on a fresh database with two tenants.
type env struct {
	db      *database.DB
	uc      *identity.Usecase
	keys    *identity.Keyring
	clock   *clock
	roles   *fakeRoles
	binyang *tenant.Tenant // 450126, with department BY-CGJ
	heng    *tenant.Tenant // 450181
	deptID  int
}

// testArgon2 keeps the many logins of the tests fast; the default cost is
// measured by the benchmarks.
var testArgon2 = identity.Argon2Params{Memory: 64, Time: 1}

const strongPassword = "Tea-Garden-2026"

func newEnv(t testing.TB, db *database.DB) *env {
	t.Helper()
	return newEnvWith(t, db, testArgon2)
}

func newEnvWith(t testing.TB, db *database.DB, params identity.Argon2Params) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{db: db, clock: &clock{t: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)}, roles: &fakeRoles{roles: map[string][]string{}, home: map[string]string{}}}
	store, err := secrets.NewLocal(filepath.Join(t.TempDir(), "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	if e.keys, err = identity.NewKeyring(store, identity.KeyringConfig{Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	if err := e.keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	e.uc, err = identity.NewUsecase(dataidentity.NewRepos(db.Ent), e.roles, e.keys, db, identity.Config{Argon2: params, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.uc.Close) // before the database closes

	sys := viewer.SystemContext(ctx, "test setup")
	tr := datatenant.NewTenantRepo(db.Ent)
	for _, tt := range []*tenant.Tenant{
		{Code: "450126", Slug: "binyang", NameZH: "宾阳县", Level: region.County, Path: "450126"},
		{Code: "450181", Slug: "hengzhou", NameZH: "横州市", Level: region.County, Path: "450181"},
	} {
		tt.Status, tt.Isolation, tt.TimeZone = tenant.StatusActive, tenant.IsolationShared, "Asia/Shanghai"
		created, err := tr.Create(sys, tt)
		if err != nil {
			t.Fatal(err)
		}
		if tt.Code == "450126" {
			e.binyang = created
		} else {
			e.heng = created
		}
	}
	dep, err := db.Ent.Department.Create().SetTenantID(e.binyang.ID).SetCode("BY-CGJ").SetNameZh("宾阳县城管局").
		SetKind(entdep.KindGovernment).Save(sys)
	if err != nil {
		t.Fatal(err)
	}
	e.deptID = dep.ID
	return e
}

// admin is a tenant administrator of t as the middleware would set it.
func admin(t *tenant.Tenant) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.User, ActorID: 100000, ActorName: "admin", HomeTenantID: t.ID, HomeTenantCode: t.Code,
		TenantID: t.ID, TenantCode: t.Code, TenantPath: t.Path, Roles: []string{viewer.RoleTenantAdmin},
	})
}

func (e *env) user(t testing.TB, tn *tenant.Tenant, login string, roles ...string) {
	t.Helper()
	if created, err := e.uc.Bootstrap(context.Background(), tn.Code, login, "王伟", strongPassword, roles); err != nil || !created {
		t.Fatalf("Bootstrap %s: %v, created %v", login, err, created)
	}
}

func (e *env) login(tenantCode, login, password, addr string) (*identity.TokenPair, error) {
	return e.uc.Login(context.Background(), identity.LoginInput{TenantCode: tenantCode, Login: login, Password: password, ClientAddr: addr})
}

func reason(err error) string {
	if err == nil {
		return ""
	}
	return kerrors.FromError(err).Reason
}

func wantReason(t testing.TB, err error, want string) {
	t.Helper()
	if got := reason(err); got != want {
		t.Fatalf("error %v: reason %q, want %q", err, got, want)
	}
}

func TestLoginAndAuthenticate(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei", viewer.RoleSupervisor)
		pair, err := e.login("450126", "wang.wei", strongPassword, "203.0.113.7")
		if err != nil {
			t.Fatal(err)
		}
		if pair.User.Login != "wang.wei" || pair.Tenant.Code != "450126" || pair.RefreshToken == "" ||
			!pair.AccessExpiresAt.Equal(e.clock.Now().Add(15*time.Minute)) ||
			!pair.RefreshExpiresAt.Equal(e.clock.Now().Add(14*24*time.Hour)) {
			t.Fatalf("pair %+v", pair)
		}
		p, err := e.uc.Authenticate(context.Background(), "Bearer "+pair.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		want := &identity.Principal{Kind: viewer.User, ID: pair.User.ID, Name: "wang.wei", TenantID: e.binyang.ID,
			TenantCode: "450126", TenantPath: "450126", Subject: fmt.Sprintf("user:%d", pair.User.ID)}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Fatalf("principal (-want +got):\n%s", diff)
		}
		u, err := db.Ent.User.Get(viewer.SystemContext(context.Background(), "test"), pair.User.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.LastLoginAt == nil || !u.LastLoginAt.Equal(e.clock.Now()) {
			t.Fatalf("last_login_at %v, want %v", u.LastLoginAt, e.clock.Now())
		}
		// Expired after its lifetime (plus the leeway).
		e.clock.Advance(16 * time.Minute)
		_, err = e.uc.Authenticate(context.Background(), pair.AccessToken)
		wantReason(t, err, "UNAUTHENTICATED")
		if d := kerrors.FromError(err).Metadata["detail_en"]; d != "access token expired" {
			t.Fatalf("detail %q", d)
		}
	})
}

func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei")
		tests := []struct {
			name, tenant, login, password, want string
		}{
			{"wrong password", "450126", "wang.wei", "Wrong-Password-1", "UNAUTHENTICATED"},
			{"unknown login", "450126", "nobody", "Wrong-Password-1", "UNAUTHENTICATED"},
			{"login of another tenant", "450181", "wang.wei", strongPassword, "UNAUTHENTICATED"},
			{"empty password", "450126", "wang.wei", "", "UNAUTHENTICATED"},
			{"sql injection login", "450126", "' OR '1'='1' --", "x' OR 'x'='x", "UNAUTHENTICATED"},
			{"sql injection login 2", "450126", "wang.wei'; DROP TABLE users; --", strongPassword, "UNAUTHENTICATED"},
			{"unknown tenant", "999999", "wang.wei", strongPassword, "TENANT_NOT_FOUND"},
			{"sql injection tenant", "450126' OR '1'='1", "wang.wei", strongPassword, "TENANT_NOT_FOUND"},
		}
		var first *kerrors.Error
		for _, tt := range tests {
			_, err := e.login(tt.tenant, tt.login, tt.password, "")
			wantReason(t, err, tt.want)
			ke := kerrors.FromError(err)
			if tt.want != "UNAUTHENTICATED" {
				continue
			}
			// Every credential failure answers exactly the same thing, so a
			// caller cannot tell an existing login from a missing one.
			if first == nil {
				first = ke
			} else if diff := cmp.Diff(first.Status.String(), ke.Status.String()); diff != "" {
				t.Fatalf("%s answers differently from a wrong password (-first +got):\n%s", tt.name, diff)
			}
		}
		// The injection strings did no harm.
		if _, err := e.login("450126", "wang.wei", strongPassword, ""); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLoginTimingSimilar(t *testing.T) {
	// Not parallel: it compares durations, which other tests running at
	// the same time on two cores would distort.
	//
	// At the real cost an unknown login must take as long as a wrong
	// password: both run one argon2id. Samples alternate and are compared
	// on medians, loosely, as timing on a shared machine is noisy.
	e := newEnvWith(t, testdb.SQLite(t), identity.DefaultArgon2Params())
	e.user(t, e.binyang, "wang.wei")
	var known, unknown []time.Duration
	for i := range 9 {
		start := time.Now()
		_, err := e.login("450126", "wang.wei", "Wrong-Password-1", "")
		known = append(known, time.Since(start))
		wantReason(t, err, "UNAUTHENTICATED")
		// Reset the count (untimed) so the account never locks.
		if _, err := e.login("450126", "wang.wei", strongPassword, ""); err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		_, err = e.login("450126", fmt.Sprintf("nobody%d", i), "Wrong-Password-1", "")
		unknown = append(unknown, time.Since(start))
		wantReason(t, err, "UNAUTHENTICATED")
	}
	slices.Sort(known)
	slices.Sort(unknown)
	k, u := known[len(known)/2], unknown[len(unknown)/2]
	if ratio := float64(u) / float64(k); ratio < 0.5 || ratio > 2 {
		t.Fatalf("unknown login %v vs wrong password %v: the difference reveals which logins exist", u, k)
	}
}

func TestAccountLockout(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei")
		for _, login := range []string{"wang.wei", "nobody"} {
			for i := 1; i <= 4; i++ {
				_, err := e.login("450126", login, "Wrong-Password-1", "")
				wantReason(t, err, "UNAUTHENTICATED")
			}
			_, err := e.login("450126", login, "Wrong-Password-1", "")
			wantReason(t, err, "ACCOUNT_LOCKED")
			if ra := kerrors.FromError(err).Metadata["retry_after"]; ra != "900" {
				t.Fatalf("%s: retry_after %q, want 900", login, ra)
			}
			// Locked: even the right password is refused, without saying so.
			e.clock.Advance(14 * time.Minute)
			_, err = e.login("450126", login, strongPassword, "")
			wantReason(t, err, "ACCOUNT_LOCKED")
			if ra := kerrors.FromError(err).Metadata["retry_after"]; ra != "60" {
				t.Fatalf("%s: retry_after %q, want 60", login, ra)
			}
			e.clock.Advance(time.Minute)
		}
		// After the window the account works again, and success resets the count.
		if _, err := e.login("450126", "wang.wei", strongPassword, ""); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 4; i++ {
			_, err := e.login("450126", "wang.wei", "Wrong-Password-1", "")
			wantReason(t, err, "UNAUTHENTICATED")
		}
		if _, err := e.login("450126", "wang.wei", strongPassword, ""); err != nil {
			t.Fatalf("4 failures then the right password: %v", err)
		}
	})
}

func TestLockoutSurvivesRollback(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei")
		// The request's unit of work rolls back because Login failed; the
		// failures must count anyway.
		for i := 0; i < 5; i++ {
			err := db.InTx(context.Background(), func(ctx context.Context) error {
				_, err := e.uc.Login(ctx, identity.LoginInput{TenantCode: "450126", Login: "wang.wei", Password: "Wrong-Password-1", ClientAddr: "198.51.100.1"})
				return err
			})
			if i == 4 {
				wantReason(t, err, "ACCOUNT_LOCKED")
			} else {
				wantReason(t, err, "UNAUTHENTICATED")
			}
			e.uc.Close() // the count is written once the transaction ended
		}
		_, err := e.login("450126", "wang.wei", strongPassword, "")
		wantReason(t, err, "ACCOUNT_LOCKED")
		th, err := db.Ent.LoginThrottle.Query().Where(entthrottle.Key("addr:198.51.100.1")).Only(viewer.SystemContext(context.Background(), "test"))
		if err != nil || th.Failures != 5 {
			t.Fatalf("address throttle %+v, %v; want 5 failures", th, err)
		}
	})
}

func TestAddressLockout(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei")
		const addr = "203.0.113.9"
		// 20 failures spread over logins (so no account locks) and tenants.
		for i := 1; i <= 19; i++ {
			_, err := e.login([]string{"450126", "450181", "999999"}[i%3], fmt.Sprintf("guess%02d", i), "Wrong-Password-1", addr)
			if r := reason(err); r != "UNAUTHENTICATED" && r != "TENANT_NOT_FOUND" {
				t.Fatalf("failure %d: %v", i, err)
			}
			e.clock.Advance(30 * time.Second)
		}
		_, err := e.login("450126", "guess20", "Wrong-Password-1", addr)
		wantReason(t, err, "RATE_LIMITED")
		_, err = e.login("450126", "wang.wei", strongPassword, addr)
		wantReason(t, err, "RATE_LIMITED")
		// Other addresses are not affected.
		if _, err := e.login("450126", "wang.wei", strongPassword, "203.0.113.10"); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(15 * time.Minute)
		if _, err := e.login("450126", "wang.wei", strongPassword, addr); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

func TestAddressWindowSlides(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei")
		// 19 failures, then the window passes: the count starts again.
		for i := 1; i <= 19; i++ {
			_, err := e.login("450126", fmt.Sprintf("guess%02d", i), "Wrong-Password-1", "192.0.2.1")
			wantReason(t, err, "UNAUTHENTICATED")
		}
		e.clock.Advance(16 * time.Minute)
		for i := 1; i <= 5; i++ {
			_, err := e.login("450126", fmt.Sprintf("again%02d", i), "Wrong-Password-1", "192.0.2.1")
			wantReason(t, err, "UNAUTHENTICATED")
		}
	})
}

func TestDisabledAndSuspended(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei")
		pair, err := e.login("450126", "wang.wei", strongPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.uc.SetUserStatus(admin(e.binyang), "450126", "wang.wei", identity.StatusDisabled); err != nil {
			t.Fatal(err)
		}
		_, err = e.login("450126", "wang.wei", strongPassword, "")
		wantReason(t, err, "UNAUTHENTICATED")
		if d := kerrors.FromError(err).Metadata["detail_en"]; d != "the account is disabled; ask an administrator" {
			t.Fatalf("detail %q", d)
		}
		// Disabling revoked the sessions.
		_, err = e.uc.Refresh(context.Background(), identity.RefreshInput{RefreshToken: pair.RefreshToken})
		wantReason(t, err, "UNAUTHENTICATED")
		if _, err := e.uc.SetUserStatus(admin(e.binyang), "450126", "wang.wei", identity.StatusActive); err != nil {
			t.Fatal(err)
		}
		// A suspended tenant is revealed only after a correct password.
		sys := viewer.SystemContext(context.Background(), "test")
		if _, err := datatenant.NewTenantRepo(db.Ent).SetStatus(sys, "450126", tenant.StatusSuspended, "迁移"); err != nil {
			t.Fatal(err)
		}
		_, err = e.login("450126", "wang.wei", "Wrong-Password-1", "")
		wantReason(t, err, "UNAUTHENTICATED")
		_, err = e.login("450126", "wang.wei", strongPassword, "")
		wantReason(t, err, "TENANT_SUSPENDED")
	})
}

func TestResetChangeLogin(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.user(t, e.binyang, "wang.wei")
		pair, err := e.login("450126", "wang.wei", strongPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		temp, err := e.uc.ResetPassword(admin(e.binyang), "450126", "wang.wei")
		if err != nil {
			t.Fatal(err)
		}
		if err := identity.CheckPassword(temp, "wang.wei"); err != nil {
			t.Fatalf("temporary password %q breaks the policy: %v", temp, err)
		}
		_, err = e.uc.Refresh(ctx, identity.RefreshInput{RefreshToken: pair.RefreshToken})
		wantReason(t, err, "UNAUTHENTICATED")
		_, err = e.login("450126", "wang.wei", strongPassword, "")
		wantReason(t, err, "UNAUTHENTICATED")
		// A wrong temporary password does not reveal the pending change.
		_, err = e.login("450126", "wang.wei", temp+"x", "")
		wantReason(t, err, "UNAUTHENTICATED")
		_, err = e.login("450126", "wang.wei", temp, "")
		wantReason(t, err, "PASSWORD_CHANGE_REQUIRED")

		change := identity.ChangePasswordInput{TenantCode: "450126", Login: "wang.wei", OldPassword: temp}
		for _, bad := range []string{"short1!", "Wang.Wei-garden-1", temp} {
			change.NewPassword = bad
			wantReason(t, e.uc.ChangePassword(ctx, change), "PASSWORD_TOO_WEAK")
		}
		change.OldPassword, change.NewPassword = "Wrong-Password-1", "River-Bank-2027"
		wantReason(t, e.uc.ChangePassword(ctx, change), "UNAUTHENTICATED")
		change.OldPassword = temp
		if err := e.uc.ChangePassword(ctx, change); err != nil {
			t.Fatal(err)
		}
		_, err = e.login("450126", "wang.wei", temp, "")
		wantReason(t, err, "UNAUTHENTICATED")
		if _, err := e.login("450126", "wang.wei", "River-Bank-2027", ""); err != nil {
			t.Fatal(err)
		}
	})
}

func TestResetUnlocks(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei")
		for range 5 {
			_, _ = e.login("450126", "wang.wei", "Wrong-Password-1", "")
		}
		temp, err := e.uc.ResetPassword(admin(e.binyang), "450126", "wang.wei")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.login("450126", "wang.wei", temp, "")
		wantReason(t, err, "PASSWORD_CHANGE_REQUIRED")
	})
}

func TestRehashOnLogin(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei")
		stronger, err := identity.NewUsecase(dataidentity.NewRepos(db.Ent), e.roles, e.keys, db,
			identity.Config{Argon2: identity.Argon2Params{Memory: 128, Time: 2}, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stronger.Login(context.Background(), identity.LoginInput{TenantCode: "450126", Login: "wang.wei", Password: strongPassword}); err != nil {
			t.Fatal(err)
		}
		sys := viewer.SystemContext(context.Background(), "test")
		u, err := db.Ent.User.Query().Where(entuser.Login("wang.wei")).Only(sys)
		if err != nil {
			t.Fatal(err)
		}
		if want := "$argon2id$v=19$m=128,t=2,p=1$"; u.PasswordHash[:len(want)] != want {
			t.Fatalf("hash %q not upgraded", u.PasswordHash)
		}
		if _, err := e.login("450126", "wang.wei", strongPassword, ""); err != nil {
			t.Fatalf("login after re-hash: %v", err)
		}
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.user(t, e.binyang, "wang.wei")
		first, err := e.login("450126", "wang.wei", strongPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		other, err := e.login("450126", "wang.wei", strongPassword, "") // another device
		if err != nil {
			t.Fatal(err)
		}
		second, err := e.uc.Refresh(ctx, identity.RefreshInput{RefreshToken: first.RefreshToken})
		if err != nil {
			t.Fatal(err)
		}
		if second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
			t.Fatal("refresh did not rotate")
		}
		// The used token comes back: theft. The whole family goes.
		_, err = e.uc.Refresh(ctx, identity.RefreshInput{RefreshToken: first.RefreshToken})
		wantReason(t, err, "UNAUTHENTICATED")
		_, err = e.uc.Refresh(ctx, identity.RefreshInput{RefreshToken: second.RefreshToken})
		wantReason(t, err, "UNAUTHENTICATED")
		// The other device's login is another family and survives.
		third, err := e.uc.Refresh(ctx, identity.RefreshInput{RefreshToken: other.RefreshToken})
		if err != nil {
			t.Fatal(err)
		}
		// Logout revokes the family; logging out twice is fine.
		if err := e.uc.Logout(ctx, third.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if err := e.uc.Logout(ctx, third.RefreshToken); err != nil {
			t.Fatal(err)
		}
		_, err = e.uc.Refresh(ctx, identity.RefreshInput{RefreshToken: third.RefreshToken})
		wantReason(t, err, "UNAUTHENTICATED")
		for _, bad := range []string{"", "garbage", "cor_450181_" + third.RefreshToken[len("cor_450126_"):], "cor_999999_" + third.RefreshToken[len("cor_450126_"):]} {
			_, err = e.uc.Refresh(ctx, identity.RefreshInput{RefreshToken: bad})
			wantReason(t, err, "UNAUTHENTICATED")
		}
	})
}

func TestRefreshReuseSurvivesRollback(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei")
		first, err := e.login("450126", "wang.wei", strongPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		second, err := e.uc.Refresh(context.Background(), identity.RefreshInput{RefreshToken: first.RefreshToken})
		if err != nil {
			t.Fatal(err)
		}
		_ = db.InTx(context.Background(), func(ctx context.Context) error {
			_, err := e.uc.Refresh(ctx, identity.RefreshInput{RefreshToken: first.RefreshToken})
			return err
		})
		e.uc.Close()
		_, err = e.uc.Refresh(context.Background(), identity.RefreshInput{RefreshToken: second.RefreshToken})
		wantReason(t, err, "UNAUTHENTICATED")
	})
}

func TestRefreshExpires(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei")
		pair, err := e.login("450126", "wang.wei", strongPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(14*24*time.Hour + time.Second)
		_, err = e.uc.Refresh(context.Background(), identity.RefreshInput{RefreshToken: pair.RefreshToken})
		wantReason(t, err, "UNAUTHENTICATED")
	})
}

func TestTokenSurvivesRotation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.user(t, e.binyang, "wang.wei")
		before, err := e.login("450126", "wang.wei", strongPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.keys.Rotate(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(5 * time.Minute) // the new key signs now
		after, err := e.login("450126", "wang.wei", strongPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{before.AccessToken, after.AccessToken} {
			if _, err := e.uc.Authenticate(context.Background(), tok); err != nil {
				t.Fatalf("token refused after rotation: %v", err)
			}
		}
	})
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := admin(e.binyang)
		_, _, err := e.uc.CreateAPIKey(ctx, "450126", identity.CreateAPIKeyInput{Name: "12345 热线", Roles: []string{viewer.RoleDispatcher}})
		wantReason(t, err, "ROLE_INVALID")
		past := e.clock.Now().Add(-time.Hour)
		_, _, err = e.uc.CreateAPIKey(ctx, "450126", identity.CreateAPIKeyInput{Name: "old", Roles: []string{viewer.RoleChannel}, ExpiresAt: &past})
		wantReason(t, err, "INVALID_ARGUMENT")
		k, full, err := e.uc.CreateAPIKey(ctx, "450126", identity.CreateAPIKeyInput{Name: "12345 热线", Roles: []string{viewer.RoleChannel, viewer.RoleChannel}})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.roles.roles[identity.APIKeySubject(k.ID)]; !slices.Equal(got, []string{viewer.RoleChannel}) || e.roles.home[identity.APIKeySubject(k.ID)] != "450126" {
			t.Fatalf("bound roles %v", got)
		}
		_, _, err = e.uc.CreateAPIKey(ctx, "450126", identity.CreateAPIKeyInput{Name: "12345 热线", Roles: []string{viewer.RoleChannel}})
		wantReason(t, err, "INVALID_ARGUMENT")

		p, err := e.uc.Authenticate(context.Background(), full)
		if err != nil {
			t.Fatal(err)
		}
		if p.Kind != viewer.APIKey || p.KeyID != k.KeyID || p.TenantCode != "450126" || p.Subject != identity.APIKeySubject(k.ID) {
			t.Fatalf("principal %+v", p)
		}
		keys, err := e.uc.ListAPIKeys(ctx, "450126", false)
		if err != nil || len(keys) != 1 || keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(e.clock.Now()) {
			t.Fatalf("keys %+v, %v; want one, just used", keys, err)
		}

		parts, err := identity.ParseAPIKey(full)
		if err != nil {
			t.Fatal(err)
		}
		other := parts
		other.TenantCode = "450181" // the key of 450126 presented as 450181's
		wrongSecret := parts
		wrongSecret.Secret = "A" + parts.Secret[1:]
		if wrongSecret.Secret == parts.Secret {
			wrongSecret.Secret = "B" + parts.Secret[1:]
		}
		unknownTenant := parts
		unknownTenant.TenantCode = "999999"
		for name, cred := range map[string]string{
			"tampered tenant": other.String(), "wrong secret": wrongSecret.String(), "unknown tenant": unknownTenant.String(),
			"malformed": full[:len(full)-1], "garbage": "cok_garbage",
		} {
			_, err := e.uc.Authenticate(context.Background(), cred)
			if reason(err) != "UNAUTHENTICATED" {
				t.Errorf("%s: %v, want UNAUTHENTICATED", name, err)
			}
		}

		// Expiry.
		soon := e.clock.Now().Add(time.Hour)
		_, expiring, err := e.uc.CreateAPIKey(ctx, "450126", identity.CreateAPIKeyInput{Name: "connector", Roles: []string{viewer.RoleConnector}, ExpiresAt: &soon})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.uc.Authenticate(context.Background(), expiring); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour)
		_, err = e.uc.Authenticate(context.Background(), expiring)
		wantReason(t, err, "UNAUTHENTICATED")
		if d := kerrors.FromError(err).Metadata["detail_en"]; d != "API key expired" {
			t.Fatalf("detail %q", d)
		}

		// Revocation.
		revoked, err := e.uc.RevokeAPIKey(ctx, "450126", k.KeyID)
		if err != nil || revoked.RevokedAt == nil {
			t.Fatalf("revoke: %+v, %v", revoked, err)
		}
		if _, ok := e.roles.roles[identity.APIKeySubject(k.ID)]; ok {
			t.Fatal("revoked key keeps its roles")
		}
		_, err = e.uc.Authenticate(context.Background(), full)
		wantReason(t, err, "UNAUTHENTICATED")
		if keys, _ := e.uc.ListAPIKeys(ctx, "450126", false); len(keys) != 1 {
			t.Fatalf("listing without revoked: %d keys", len(keys))
		}
		if keys, _ := e.uc.ListAPIKeys(ctx, "450126", true); len(keys) != 2 {
			t.Fatalf("listing with revoked: %d keys", len(keys))
		}
		_, err = e.uc.RevokeAPIKey(admin(e.heng), "450181", k.KeyID)
		wantReason(t, err, "API_KEY_NOT_FOUND")
	})
}

func TestUsers(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := admin(e.binyang)
		u, pw, err := e.uc.CreateUser(ctx, "450126", identity.CreateUserInput{
			Login: "li.na", DisplayName: " 李娜 ", Phone: "0771-1234567", DepartmentCode: "BY-CGJ",
			Roles: []string{viewer.RoleHandler},
		})
		if err != nil {
			t.Fatal(err)
		}
		if pw == "" || !u.MustChangePassword || u.DisplayName != "李娜" || u.DepartmentCode != "BY-CGJ" ||
			u.DepartmentID != e.deptID || !slices.Equal(u.Roles, []string{viewer.RoleHandler}) || u.PasswordHash == "" {
			t.Fatalf("created %+v, password %q", u, pw)
		}
		_, err = e.login("450126", "li.na", pw, "")
		wantReason(t, err, "PASSWORD_CHANGE_REQUIRED")

		given := strongPassword
		tests := []struct {
			name string
			in   identity.CreateUserInput
			want string
		}{
			{"duplicate login", identity.CreateUserInput{Login: "li.na", DisplayName: "x", Password: &given}, "USER_ALREADY_EXISTS"},
			{"unknown department", identity.CreateUserInput{Login: "a1", DisplayName: "x", DepartmentCode: "NOPE", Password: &given}, "INVALID_ARGUMENT"},
			{"machine role", identity.CreateUserInput{Login: "a2", DisplayName: "x", Roles: []string{viewer.RoleConnector}, Password: &given}, "ROLE_INVALID"},
			{"unknown role", identity.CreateUserInput{Login: "a3", DisplayName: "x", Roles: []string{"root"}, Password: &given}, "ROLE_INVALID"},
			{"platform operator by a tenant admin", identity.CreateUserInput{Login: "a4", DisplayName: "x", Roles: []string{viewer.RolePlatformOperator}, Password: &given}, "ROLE_INVALID"},
			{"weak password", identity.CreateUserInput{Login: "a5", DisplayName: "x", Password: new("password")}, "PASSWORD_TOO_WEAK"},
			{"bad login", identity.CreateUserInput{Login: "Robert'); DROP TABLE users;--", DisplayName: "x", Password: &given}, "INVALID_ARGUMENT"},
			{"empty name", identity.CreateUserInput{Login: "a6", DisplayName: "  ", Password: &given}, "INVALID_ARGUMENT"},
		}
		for _, tt := range tests {
			_, _, err := e.uc.CreateUser(ctx, "450126", tt.in)
			if reason(err) != tt.want {
				t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
			}
		}
		// The same login in another tenant is another person.
		if _, _, err := e.uc.CreateUser(admin(e.heng), "450181", identity.CreateUserInput{Login: "li.na", DisplayName: "李娜", Password: &given}); err != nil {
			t.Fatal(err)
		}
		// An administrator of one tenant cannot act in another.
		_, err = e.uc.GetUser(admin(e.heng), "450126", "li.na")
		wantReason(t, err, "FORBIDDEN")
		_, err = e.uc.GetUser(context.Background(), "450126", "li.na")
		wantReason(t, err, "UNAUTHENTICATED")

		for _, l := range []string{"zhao.lei", "chen.jing", "sun.li"} {
			if _, _, err := e.uc.CreateUser(ctx, "450126", identity.CreateUserInput{Login: l, DisplayName: l, Password: &given}); err != nil {
				t.Fatal(err)
			}
		}
		var logins []string
		token := ""
		for {
			page, next, err := e.uc.ListUsers(ctx, "450126", identity.ListUsersInput{PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page {
				logins = append(logins, u.Login)
			}
			if next == "" {
				break
			}
			token = next
		}
		if want := []string{"chen.jing", "li.na", "sun.li", "zhao.lei"}; !slices.Equal(logins, want) {
			t.Fatalf("listed %v, want %v", logins, want)
		}
		byDept, _, err := e.uc.ListUsers(ctx, "450126", identity.ListUsersInput{DepartmentCode: "BY-CGJ"})
		if err != nil || len(byDept) != 1 || byDept[0].Login != "li.na" {
			t.Fatalf("by department: %v, %v", byDept, err)
		}
		_, _, err = e.uc.ListUsers(ctx, "450126", identity.ListUsersInput{PageToken: "bm9wZQ"})
		wantReason(t, err, "INVALID_ARGUMENT")

		empty := ""
		up, err := e.uc.UpdateUser(ctx, "450126", "li.na", identity.UserChanges{DisplayName: new("李娜娜"), DepartmentCode: &empty})
		if err != nil || up.DisplayName != "李娜娜" || up.DepartmentID != 0 || up.Phone != "0771-1234567" {
			t.Fatalf("update: %+v, %v", up, err)
		}
		_, err = e.uc.UpdateUser(ctx, "450126", "nobody", identity.UserChanges{DisplayName: new("x")})
		wantReason(t, err, "USER_NOT_FOUND")

		up, err = e.uc.SetUserRoles(ctx, "450126", "li.na", []string{viewer.RoleDispatcher, viewer.RoleShiftLeader})
		if err != nil || !slices.Equal(up.Roles, []string{viewer.RoleDispatcher, viewer.RoleShiftLeader}) {
			t.Fatalf("roles: %+v, %v", up, err)
		}
		disabled, _, err := e.uc.ListUsers(ctx, "450126", identity.ListUsersInput{Status: identity.StatusDisabled})
		if err != nil || len(disabled) != 0 {
			t.Fatalf("disabled: %v, %v", disabled, err)
		}
		// An administrator cannot disable themselves.
		self := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.User, ActorID: u.ID, TenantID: e.binyang.ID, TenantCode: "450126"})
		_, err = e.uc.SetUserStatus(self, "450126", "li.na", identity.StatusDisabled)
		wantReason(t, err, "INVALID_ARGUMENT")
	})
}

func TestBootstrapIdempotent(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		created, err := e.uc.Bootstrap(ctx, "450126", "admin", "管理员", strongPassword, []string{viewer.RoleTenantAdmin})
		if err != nil || !created {
			t.Fatalf("first: %v, %v", created, err)
		}
		created, err = e.uc.Bootstrap(ctx, "450126", "admin", "管理员", "Other-Password-9", []string{viewer.RoleLeader})
		if err != nil || created {
			t.Fatalf("second: %v, %v", created, err)
		}
		if _, err := e.login("450126", "admin", strongPassword, ""); err != nil {
			t.Fatalf("second bootstrap changed the password: %v", err)
		}
		_, err = e.uc.Bootstrap(ctx, "999999", "admin", "x", strongPassword, nil)
		wantReason(t, err, "TENANT_NOT_FOUND")
		_, err = e.uc.Bootstrap(ctx, "450126", "demo", "x", "weak", nil)
		wantReason(t, err, "PASSWORD_TOO_WEAK")
		// The system may grant platform_operator.
		if _, err := e.uc.Bootstrap(ctx, "450126", "ops", "运维", strongPassword, []string{viewer.RolePlatformOperator}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWhoAmI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		given := strongPassword
		u, _, err := e.uc.CreateUser(admin(e.binyang), "450126", identity.CreateUserInput{Login: "li.na", DisplayName: "李娜", DepartmentCode: "BY-CGJ", Password: &given})
		if err != nil {
			t.Fatal(err)
		}
		ctx := viewer.NewContext(context.Background(), &viewer.Viewer{
			Kind: viewer.User, ActorID: u.ID, ActorName: "li.na", HomeTenantID: e.binyang.ID, HomeTenantCode: "450126",
			TenantID: e.binyang.ID, TenantCode: "450126", TenantPath: "450126", Roles: []string{viewer.RoleHandler},
		})
		me, err := e.uc.WhoAmI(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := &identity.Me{Subject: identity.UserSubject(u.ID), Kind: viewer.User, Name: "li.na", DisplayName: "李娜",
			TenantCode: "450126", TenantPath: "450126", Roles: []string{viewer.RoleHandler}, DepartmentCode: "BY-CGJ"}
		if diff := cmp.Diff(want, me); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		_, err = e.uc.WhoAmI(context.Background())
		wantReason(t, err, "UNAUTHENTICATED")
	})
}

// BenchmarkLogin is a full login (tenant, user, argon2id at the default
// cost, counters, session, token) on SQLite, run from as many goroutines
// as cores; logins/s is the figure to compare with the expected peak.
func BenchmarkLogin(b *testing.B) {
	e := newEnvWith(b, testdb.SQLite(b), identity.DefaultArgon2Params())
	e.user(b, e.binyang, "wang.wei")
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.login("450126", "wang.wei", strongPassword, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}

// BenchmarkAuthenticateJWT is the per-request cost of checking an access
// token (no database).
func BenchmarkAuthenticateJWT(b *testing.B) {
	e := newEnv(b, testdb.SQLite(b))
	e.user(b, e.binyang, "wang.wei")
	pair, err := e.login("450126", "wang.wei", strongPassword, "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.uc.Authenticate(ctx, pair.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}
