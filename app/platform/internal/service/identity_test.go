package service

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"google.golang.org/protobuf/types/known/timestamppb"

	identityv1 "github.com/cityops/cityops/api/identity/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/identity"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	dataidentity "github.com/cityops/cityops/app/platform/internal/data/identity"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type memRoles struct {
	mu    sync.Mutex
	roles map[string][]string
}

func (m *memRoles) SetRoles(_ context.Context, subject, _ string, roles []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.roles[subject] = slices.Clone(roles)
	return nil
}

func (m *memRoles) Roles(_ context.Context, subject string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.roles[subject]), nil
}

func (m *memRoles) RemoveSubject(_ context.Context, subject string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.roles, subject)
	return nil
}

func newIdentityService(t *testing.T, db *database.DB) (*IdentityService, *tenant.Tenant) {
	t.Helper()
	ctx := context.Background()
	store, err := secrets.NewLocal(filepath.Join(t.TempDir(), "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := biz.NewKeyring(store, biz.KeyringConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	uc, err := biz.NewUsecase(dataidentity.NewRepos(db.Ent), &memRoles{roles: map[string][]string{}}, keys, db,
		biz.Config{Argon2: biz.Argon2Params{Memory: 64, Time: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(uc.Close)
	tn, err := datatenant.NewTenantRepo(db.Ent).Create(viewer.SystemContext(ctx, "test"), &tenant.Tenant{
		Code: "450126", Slug: "binyang", NameZH: "宾阳县", Level: region.County, Path: "450126",
		Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai",
	})
	if err != nil {
		t.Fatal(err)
	}
	return NewIdentityService(uc), tn
}

func TestIdentityService(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, tn := newIdentityService(t, db)
		admin := viewer.NewContext(context.Background(), &viewer.Viewer{
			Kind: viewer.User, ActorID: 999999, TenantID: tn.ID, TenantCode: tn.Code, TenantPath: tn.Path,
			Roles: []string{viewer.RoleTenantAdmin},
		})
		created, err := s.CreateUser(admin, &identityv1.CreateUserRequest{
			TenantCode: "450126", Login: "wang.wei", DisplayName: "王伟", Roles: []string{viewer.RoleSupervisor},
		})
		if err != nil {
			t.Fatal(err)
		}
		u := created.GetUser()
		if created.GetInitialPassword() == "" || !u.GetMustChangePassword() || u.GetStatus() != identityv1.UserStatus_USER_STATUS_ACTIVE ||
			!slices.Equal(u.GetRoles(), []string{viewer.RoleSupervisor}) {
			t.Fatalf("created %v", created)
		}
		_, err = s.Login(context.Background(), &identityv1.LoginRequest{TenantCode: "450126", Login: "wang.wei", Password: created.GetInitialPassword()})
		if r := kerrors.FromError(err).Reason; r != "PASSWORD_CHANGE_REQUIRED" {
			t.Fatalf("first login: %v", err)
		}
		if _, err := s.ChangePassword(context.Background(), &identityv1.ChangePasswordRequest{
			TenantCode: "450126", Login: "wang.wei", OldPassword: created.GetInitialPassword(), NewPassword: "Tea-Garden-2026",
		}); err != nil {
			t.Fatal(err)
		}
		tok, err := s.Login(context.Background(), &identityv1.LoginRequest{TenantCode: "450126", Login: "wang.wei", Password: "Tea-Garden-2026"})
		if err != nil {
			t.Fatal(err)
		}
		if tok.GetTokenType() != "Bearer" || tok.GetExpiresIn() < 899 || tok.GetExpiresIn() > 900 || tok.GetRefreshExpiresIn() != 14*24*3600 ||
			tok.GetUser().GetLogin() != "wang.wei" || tok.GetUser().GetTenantCode() != "450126" {
			t.Fatalf("token response %v", tok)
		}
		next, err := s.Refresh(context.Background(), &identityv1.RefreshRequest{RefreshToken: tok.GetRefreshToken()})
		if err != nil || next.GetRefreshToken() == tok.GetRefreshToken() {
			t.Fatalf("refresh: %v, %v", next, err)
		}
		if _, err := s.Logout(context.Background(), &identityv1.LogoutRequest{RefreshToken: next.GetRefreshToken()}); err != nil {
			t.Fatal(err)
		}

		me, err := s.WhoAmI(viewer.NewContext(context.Background(), &viewer.Viewer{
			Kind: viewer.User, ActorID: mustID(t, s, admin), TenantID: tn.ID, TenantCode: "450126", TenantPath: "450126",
			Roles: []string{viewer.RoleSupervisor},
		}), &identityv1.WhoAmIRequest{})
		if err != nil || me.GetName() != "wang.wei" || me.GetDisplayName() != "王伟" || me.GetKind() != "user" ||
			!strings.HasPrefix(me.GetSubject(), "user:") {
			t.Fatalf("whoami %v, %v", me, err)
		}

		disabled, err := s.SetUserStatus(admin, &identityv1.SetUserStatusRequest{TenantCode: "450126", Login: "wang.wei", Status: identityv1.UserStatus_USER_STATUS_DISABLED})
		if err != nil || disabled.GetStatus() != identityv1.UserStatus_USER_STATUS_DISABLED {
			t.Fatalf("disable: %v, %v", disabled, err)
		}
		list, err := s.ListUsers(admin, &identityv1.ListUsersRequest{TenantCode: "450126", Status: identityv1.UserStatus_USER_STATUS_DISABLED})
		if err != nil || len(list.GetUsers()) != 1 {
			t.Fatalf("list disabled: %v, %v", list, err)
		}

		exp := timestamppb.New(time.Now().Add(24 * time.Hour))
		key, err := s.CreateAPIKey(admin, &identityv1.CreateAPIKeyRequest{TenantCode: "450126", Name: "12345", Roles: []string{viewer.RoleChannel}, ExpireTime: exp})
		if err != nil || !strings.HasPrefix(key.GetKey(), "cok_450126_"+key.GetApiKey().GetKeyId()+"_") || key.GetApiKey().GetExpireTime().AsTime().Sub(exp.AsTime()).Abs() > time.Millisecond {
			t.Fatalf("create key: %v, %v", key, err)
		}
		keys, err := s.ListAPIKeys(admin, &identityv1.ListAPIKeysRequest{TenantCode: "450126"})
		if err != nil || len(keys.GetApiKeys()) != 1 {
			t.Fatalf("list keys: %v, %v", keys, err)
		}
		// The secret is everything after the prefix; it may itself hold "_".
		secret := strings.TrimPrefix(key.GetKey(), "cok_450126_"+key.GetApiKey().GetKeyId()+"_")
		if strings.Contains(keys.String(), secret) {
			t.Fatal("the key listing shows the secret")
		}
		revoked, err := s.RevokeAPIKey(admin, &identityv1.RevokeAPIKeyRequest{TenantCode: "450126", KeyId: key.GetApiKey().GetKeyId()})
		if err != nil || !revoked.GetRevoked() || revoked.GetRevokeTime() == nil {
			t.Fatalf("revoke: %v, %v", revoked, err)
		}
	})
}

func mustID(t *testing.T, s *IdentityService, admin context.Context) int {
	t.Helper()
	u, err := s.uc.GetUser(admin, "450126", "wang.wei")
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestIdentityRequestValidation(t *testing.T) {
	t.Parallel()
	type validator interface{ Validate() error }
	tests := []struct {
		name string
		req  validator
		ok   bool
	}{
		{"login", &identityv1.LoginRequest{TenantCode: "450126", Login: "wang.wei", Password: "x"}, true},
		{"sql injection login", &identityv1.LoginRequest{TenantCode: "450126", Login: "' OR 1=1 --", Password: "x"}, false},
		{"sql injection tenant", &identityv1.LoginRequest{TenantCode: "450126' OR '1'='1", Login: "wang.wei", Password: "x"}, false},
		{"upper-case login", &identityv1.LoginRequest{TenantCode: "450126", Login: "Wang", Password: "x"}, false},
		{"empty password", &identityv1.LoginRequest{TenantCode: "450126", Login: "wang.wei"}, false},
		{"huge password", &identityv1.LoginRequest{TenantCode: "450126", Login: "wang.wei", Password: strings.Repeat("x", 129)}, false},
		{"huge refresh token", &identityv1.RefreshRequest{RefreshToken: strings.Repeat("x", 129)}, false},
		{"too many roles", &identityv1.CreateUserRequest{TenantCode: "450126", Login: "ab", DisplayName: "x", Roles: strings.Split(strings.Repeat("a,", 17)[:33], ",")}, false},
		{"duplicate roles", &identityv1.CreateUserRequest{TenantCode: "450126", Login: "ab", DisplayName: "x", Roles: []string{"intake", "intake"}}, false},
		{"api key without roles", &identityv1.CreateAPIKeyRequest{TenantCode: "450126", Name: "x"}, false},
		{"bad key id", &identityv1.RevokeAPIKeyRequest{TenantCode: "450126", KeyId: "ABCDEFGHIJKL"}, false},
		{"unspecified status", &identityv1.SetUserStatusRequest{TenantCode: "450126", Login: "ab"}, false},
	}
	for _, tt := range tests {
		if err := tt.req.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
