// Package identity stores users, sessions, API keys and login throttles
// with ent, implementing the repositories the identity use cases declare.
// Every repository works on the tenant of the context's viewer (ent privacy
// rules); login throttles are platform-level and need the system viewer.
package identity

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/database"
	biz "github.com/cityops/cityops/app/platform/internal/biz/identity"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/ent"
	entapikey "github.com/cityops/cityops/ent/apikey"
	entdep "github.com/cityops/cityops/ent/department"
	entthrottle "github.com/cityops/cityops/ent/loginthrottle"
	entsession "github.com/cityops/cityops/ent/session"
	entuser "github.com/cityops/cityops/ent/user"
)

// NewRepos returns the ent-backed repositories of the identity use cases
// (tenants through the tenant package's repository). Inside a transaction
// started by InTx they use that transaction.
func NewRepos(client *ent.Client) biz.Repos {
	return biz.Repos{
		Users:       &userRepo{client: client},
		Sessions:    &sessionRepo{client: client},
		APIKeys:     &apiKeyRepo{client: client},
		Throttles:   &throttleRepo{client: client},
		Departments: &departmentRepo{client: client},
		Tenants:     datatenant.NewTenantRepo(client),
	}
}

var (
	_ biz.UserRepo       = (*userRepo)(nil)
	_ biz.SessionRepo    = (*sessionRepo)(nil)
	_ biz.APIKeyRepo     = (*apiKeyRepo)(nil)
	_ biz.ThrottleRepo   = (*throttleRepo)(nil)
	_ biz.DepartmentRepo = (*departmentRepo)(nil)
	_ biz.TenantFinder   = tenant.Repo(nil)
)

// Users.

type userRepo struct{ client *ent.Client }

func (r *userRepo) c(ctx context.Context) *ent.Client {
	return database.ClientFromContext(ctx, r.client)
}

func userNotFound(user string) error {
	return errorsv1.ErrorUserNotFound("user %s not found", user).WithMetadata(map[string]string{"user": user})
}

func userToBiz(u *ent.User) *biz.User {
	out := &biz.User{
		ID: u.ID, TenantID: u.TenantID, Login: u.Login, DisplayName: u.DisplayName, Phone: u.Phone,
		Status: biz.UserStatus(u.Status), PasswordHash: u.PasswordHash, MustChangePassword: u.MustChangePassword,
		PasswordChangedAt: u.PasswordChangedAt, FailedLogins: u.FailedLogins, LockedUntil: u.LockedUntil,
		LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
	if u.DepartmentID != nil {
		out.DepartmentID = *u.DepartmentID
	}
	return out
}

func (r *userRepo) Create(ctx context.Context, u *biz.User) (*biz.User, error) {
	c := r.c(ctx)
	// Checked first for a clear answer; the unique index still guards
	// against a concurrent insert.
	if n, err := c.User.Query().Where(entuser.Login(u.Login)).Count(ctx); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	} else if n > 0 {
		return nil, userExists(u.Login)
	}
	q := c.User.Create().SetTenantID(u.TenantID).SetLogin(u.Login).SetDisplayName(u.DisplayName).
		SetPhone(u.Phone).SetStatus(entuser.Status(u.Status)).SetPasswordHash(u.PasswordHash).
		SetMustChangePassword(u.MustChangePassword).SetNillablePasswordChangedAt(u.PasswordChangedAt)
	if u.DepartmentID != 0 {
		q.SetDepartmentID(u.DepartmentID)
	}
	row, err := q.Save(ctx)
	if err != nil {
		if ent.IsConstraintError(err) {
			return nil, userExists(u.Login)
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return userToBiz(row), nil
}

func userExists(login string) error {
	return errorsv1.ErrorUserAlreadyExists("login %s taken", login).WithMetadata(map[string]string{"login": login})
}

func (r *userRepo) GetByLogin(ctx context.Context, login string) (*biz.User, error) {
	u, err := r.c(ctx).User.Query().Where(entuser.Login(login)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, userNotFound(login)
		}
		return nil, fmt.Errorf("get user: %w", err)
	}
	return userToBiz(u), nil
}

func (r *userRepo) GetByID(ctx context.Context, id int) (*biz.User, error) {
	u, err := r.c(ctx).User.Get(ctx, id)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, userNotFound(biz.UserSubject(id))
		}
		return nil, fmt.Errorf("get user: %w", err)
	}
	return userToBiz(u), nil
}

func (r *userRepo) List(ctx context.Context, f biz.UserFilter) ([]*biz.User, error) {
	q := r.c(ctx).User.Query()
	if f.Status != "" {
		q.Where(entuser.StatusEQ(entuser.Status(f.Status)))
	}
	if f.DepartmentID != 0 {
		q.Where(entuser.DepartmentID(f.DepartmentID))
	}
	if f.AfterLogin != "" {
		q.Where(entuser.LoginGT(f.AfterLogin))
	}
	rows, err := q.Order(entuser.ByLogin()).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]*biz.User, 0, len(rows))
	for _, u := range rows {
		out = append(out, userToBiz(u))
	}
	return out, nil
}

// updateErr maps a failed update of user id.
func updateErr(op string, id int, err error) error {
	if ent.IsNotFound(err) {
		return userNotFound(biz.UserSubject(id))
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (r *userRepo) Update(ctx context.Context, id int, up biz.UserUpdate) (*biz.User, error) {
	q := r.c(ctx).User.UpdateOneID(id).SetNillableDisplayName(up.DisplayName).SetNillablePhone(up.Phone)
	if up.DepartmentID != nil {
		if *up.DepartmentID == 0 {
			q.ClearDepartmentID()
		} else {
			q.SetDepartmentID(*up.DepartmentID)
		}
	}
	u, err := q.Save(ctx)
	if err != nil {
		return nil, updateErr("update user", id, err)
	}
	return userToBiz(u), nil
}

func (r *userRepo) SetStatus(ctx context.Context, id int, s biz.UserStatus) error {
	if err := r.c(ctx).User.UpdateOneID(id).SetStatus(entuser.Status(s)).Exec(ctx); err != nil {
		return updateErr("set user status", id, err)
	}
	return nil
}

func (r *userRepo) SetPassword(ctx context.Context, id int, hash string, mustChange bool, changedAt *time.Time) error {
	q := r.c(ctx).User.UpdateOneID(id).SetPasswordHash(hash)
	if changedAt != nil {
		// A new password (not just a re-hash) also lifts a lockout: an
		// administrator's reset is the way to unlock an account early.
		q.SetPasswordChangedAt(*changedAt).SetMustChangePassword(mustChange).SetFailedLogins(0).ClearLockedUntil()
	}
	if err := q.Exec(ctx); err != nil {
		return updateErr("set password", id, err)
	}
	return nil
}

func (r *userRepo) AddFailedLogin(ctx context.Context, id int) (int, error) {
	// UPDATE … SET failed_logins = failed_logins + 1: concurrent failures
	// on several replicas all count.
	u, err := r.c(ctx).User.UpdateOneID(id).AddFailedLogins(1).Save(ctx)
	if err != nil {
		return 0, updateErr("count failed login", id, err)
	}
	return u.FailedLogins, nil
}

func (r *userRepo) Lock(ctx context.Context, id int, until time.Time) error {
	if err := r.c(ctx).User.UpdateOneID(id).SetLockedUntil(until).SetFailedLogins(0).Exec(ctx); err != nil {
		return updateErr("lock user", id, err)
	}
	return nil
}

func (r *userRepo) RecordLogin(ctx context.Context, id int, at time.Time) error {
	if err := r.c(ctx).User.UpdateOneID(id).SetLastLoginAt(at).SetFailedLogins(0).ClearLockedUntil().Exec(ctx); err != nil {
		return updateErr("record login", id, err)
	}
	return nil
}

// Sessions.

type sessionRepo struct{ client *ent.Client }

func (r *sessionRepo) c(ctx context.Context) *ent.Client {
	return database.ClientFromContext(ctx, r.client)
}

func sessionToBiz(s *ent.Session) *biz.Session {
	return &biz.Session{
		ID: s.ID, TenantID: s.TenantID, UserID: s.UserID, Family: s.Family, TokenHash: s.TokenHash,
		CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, RevokedAt: s.RevokedAt, RevokeReason: s.RevokeReason,
		ClientAddr: s.ClientAddr, UserAgent: s.UserAgent,
	}
}

func (r *sessionRepo) Create(ctx context.Context, s *biz.Session) (*biz.Session, error) {
	row, err := r.c(ctx).Session.Create().SetTenantID(s.TenantID).SetUserID(s.UserID).SetFamily(s.Family).
		SetTokenHash(s.TokenHash).SetCreatedAt(s.CreatedAt).SetExpiresAt(s.ExpiresAt).
		SetClientAddr(s.ClientAddr).SetUserAgent(s.UserAgent).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	return sessionToBiz(row), nil
}

func (r *sessionRepo) GetByTokenHash(ctx context.Context, hash string) (*biz.Session, error) {
	s, err := r.c(ctx).Session.Query().Where(entsession.TokenHash(hash)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, errorsv1.ErrorUnauthenticated("unknown refresh token").WithMetadata(map[string]string{
				"detail": "unknown refresh token", "detail_zh": "刷新令牌无效", "detail_en": "unknown refresh token",
			})
		}
		return nil, fmt.Errorf("get session: %w", err)
	}
	return sessionToBiz(s), nil
}

func (r *sessionRepo) Revoke(ctx context.Context, id int, at time.Time, reason string) (bool, error) {
	n, err := r.c(ctx).Session.Update().Where(entsession.ID(id), entsession.RevokedAtIsNil()).
		SetRevokedAt(at).SetRevokeReason(reason).Save(ctx)
	if err != nil {
		return false, fmt.Errorf("revoke session: %w", err)
	}
	return n == 1, nil
}

func (r *sessionRepo) RevokeFamily(ctx context.Context, family string, at time.Time, reason string) (int, error) {
	n, err := r.c(ctx).Session.Update().Where(entsession.Family(family), entsession.RevokedAtIsNil()).
		SetRevokedAt(at).SetRevokeReason(reason).Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("revoke session family: %w", err)
	}
	return n, nil
}

func (r *sessionRepo) RevokeUser(ctx context.Context, userID int, at time.Time, reason string) (int, error) {
	n, err := r.c(ctx).Session.Update().Where(entsession.UserID(userID), entsession.RevokedAtIsNil()).
		SetRevokedAt(at).SetRevokeReason(reason).Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("revoke user sessions: %w", err)
	}
	return n, nil
}

// API keys.

type apiKeyRepo struct{ client *ent.Client }

func (r *apiKeyRepo) c(ctx context.Context) *ent.Client {
	return database.ClientFromContext(ctx, r.client)
}

func apiKeyToBiz(k *ent.APIKey) *biz.APIKey {
	return &biz.APIKey{
		ID: k.ID, TenantID: k.TenantID, Name: k.Name, KeyID: k.KeyID, SecretHash: k.SecretHash,
		Roles: k.Roles, ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt,
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt,
	}
}

func apiKeyNotFound(keyID string) error {
	return errorsv1.ErrorApiKeyNotFound("api key %s not found", keyID).WithMetadata(map[string]string{"key_id": keyID})
}

func (r *apiKeyRepo) Create(ctx context.Context, k *biz.APIKey) (*biz.APIKey, error) {
	c := r.c(ctx)
	nameTaken := func() error {
		return tenant.Invalid("name", "本租户已有名为 "+k.Name+" 的接入密钥", "the tenant has an API key named "+k.Name+" already")
	}
	if n, err := c.APIKey.Query().Where(entapikey.Name(k.Name)).Count(ctx); err != nil {
		return nil, fmt.Errorf("create api key: %w", err)
	} else if n > 0 {
		return nil, nameTaken()
	}
	row, err := c.APIKey.Create().SetTenantID(k.TenantID).SetName(k.Name).SetKeyID(k.KeyID).
		SetSecretHash(k.SecretHash).SetRoles(k.Roles).SetNillableExpiresAt(k.ExpiresAt).
		SetCreatedBy(k.CreatedBy).Save(ctx)
	if err != nil {
		if ent.IsConstraintError(err) {
			return nil, nameTaken()
		}
		return nil, fmt.Errorf("create api key: %w", err)
	}
	return apiKeyToBiz(row), nil
}

func (r *apiKeyRepo) GetByKeyID(ctx context.Context, keyID string) (*biz.APIKey, error) {
	k, err := r.c(ctx).APIKey.Query().Where(entapikey.KeyID(keyID)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, apiKeyNotFound(keyID)
		}
		return nil, fmt.Errorf("get api key: %w", err)
	}
	return apiKeyToBiz(k), nil
}

func (r *apiKeyRepo) GetByID(ctx context.Context, id int) (*biz.APIKey, error) {
	k, err := r.c(ctx).APIKey.Get(ctx, id)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, apiKeyNotFound(biz.APIKeySubject(id))
		}
		return nil, fmt.Errorf("get api key: %w", err)
	}
	return apiKeyToBiz(k), nil
}

func (r *apiKeyRepo) List(ctx context.Context, includeRevoked bool) ([]*biz.APIKey, error) {
	q := r.c(ctx).APIKey.Query()
	if !includeRevoked {
		q.Where(entapikey.RevokedAtIsNil())
	}
	rows, err := q.Order(entapikey.ByName()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	out := make([]*biz.APIKey, 0, len(rows))
	for _, k := range rows {
		out = append(out, apiKeyToBiz(k))
	}
	return out, nil
}

func (r *apiKeyRepo) Revoke(ctx context.Context, id int, at time.Time) error {
	_, err := r.c(ctx).APIKey.Update().Where(entapikey.ID(id), entapikey.RevokedAtIsNil()).SetRevokedAt(at).Save(ctx)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return nil
}

func (r *apiKeyRepo) Touch(ctx context.Context, id int, at, notBefore time.Time) error {
	_, err := r.c(ctx).APIKey.Update().
		Where(entapikey.ID(id), entapikey.Or(entapikey.LastUsedAtIsNil(), entapikey.LastUsedAtLT(notBefore))).
		SetLastUsedAt(at).Save(ctx)
	if err != nil {
		return fmt.Errorf("touch api key: %w", err)
	}
	return nil
}

// Login throttles.

type throttleRepo struct{ client *ent.Client }

func (r *throttleRepo) c(ctx context.Context) *ent.Client {
	return database.ClientFromContext(ctx, r.client)
}

func throttleToBiz(t *ent.LoginThrottle) *biz.Throttle {
	return &biz.Throttle{Key: t.Key, Failures: t.Failures, WindowStart: t.WindowStart, LockedUntil: t.LockedUntil}
}

func (r *throttleRepo) Get(ctx context.Context, key string) (*biz.Throttle, error) {
	t, err := r.c(ctx).LoginThrottle.Query().Where(entthrottle.Key(key)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get login throttle: %w", err)
	}
	return throttleToBiz(t), nil
}

func (r *throttleRepo) AddFailure(ctx context.Context, key string, now, windowStartAfter time.Time) (*biz.Throttle, error) {
	c := r.c(ctx)
	// Three statements rather than one upsert expression so that SQLite and
	// PostgreSQL behave alike: count within the window, else restart the
	// window, else create the row. Each is atomic; two replicas restarting
	// the same window at once may lose one count, which a lockout of 20
	// tolerates.
	for attempt := 0; attempt < 2; attempt++ {
		n, err := c.LoginThrottle.Update().Where(entthrottle.Key(key), entthrottle.WindowStartGT(windowStartAfter)).
			AddFailures(1).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("count login failure: %w", err)
		}
		if n == 0 {
			n, err = c.LoginThrottle.Update().Where(entthrottle.Key(key)).SetFailures(1).SetWindowStart(now).Save(ctx)
			if err != nil {
				return nil, fmt.Errorf("count login failure: %w", err)
			}
		}
		if n == 0 {
			err = c.LoginThrottle.Create().SetKey(key).SetFailures(1).SetWindowStart(now).
				OnConflict(sql.ConflictColumns(entthrottle.FieldKey)).DoNothing().Exec(ctx)
			if err != nil && !ent.IsConstraintError(err) && !isNoRows(err) {
				return nil, fmt.Errorf("count login failure: %w", err)
			}
			if err != nil {
				continue // a concurrent request created it: count again
			}
		}
		return r.Get(ctx, key)
	}
	return r.Get(ctx, key)
}

// isNoRows reports the error ent answers for an ON CONFLICT DO NOTHING that
// inserted nothing (PostgreSQL's RETURNING found no row).
func isNoRows(err error) bool { return errors.Is(err, stdsql.ErrNoRows) }

func (r *throttleRepo) Lock(ctx context.Context, key string, until time.Time) error {
	if err := r.c(ctx).LoginThrottle.Update().Where(entthrottle.Key(key)).SetLockedUntil(until).SetFailures(0).Exec(ctx); err != nil {
		return fmt.Errorf("lock login throttle: %w", err)
	}
	return nil
}

// Departments.

type departmentRepo struct{ client *ent.Client }

func (r *departmentRepo) c(ctx context.Context) *ent.Client {
	return database.ClientFromContext(ctx, r.client)
}

func (r *departmentRepo) IDByCode(ctx context.Context, code string) (int, error) {
	id, err := r.c(ctx).Department.Query().Where(entdep.Code(code)).OnlyID(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return 0, errorsv1.ErrorNotFound("department %s not found", code).WithMetadata(map[string]string{
				"kind": "department", "kind_zh": "部门", "kind_en": "department", "id": code,
			})
		}
		return 0, fmt.Errorf("find department: %w", err)
	}
	return id, nil
}

func (r *departmentRepo) CodesByID(ctx context.Context, ids []int) (map[int]string, error) {
	rows, err := r.c(ctx).Department.Query().Where(entdep.IDIn(ids...)).Select(entdep.FieldID, entdep.FieldCode).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("department codes: %w", err)
	}
	out := make(map[int]string, len(rows))
	for _, d := range rows {
		out[d.ID] = d.Code
	}
	return out, nil
}
