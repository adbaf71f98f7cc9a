package identity

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// loginRE is the login alphabet (the API validates it too; biz repeats it
// for callers that are not the API, such as onboarding).
var loginRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// machineRoles are the roles only API keys may hold, and the only ones they
// may hold: a person must not act as a connector, a key must not act as a
// person.
var machineRoles = []string{viewer.RoleConnector, viewer.RoleChannel}

// checkRoles validates roles to grant to a person (machine false) or an API
// key (machine true) by v, and returns them without duplicates.
func checkRoles(v *viewer.Viewer, roles []string, machine bool) ([]string, error) {
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if !slices.Contains(viewer.AllRoles, r) || slices.Contains(machineRoles, r) != machine {
			return nil, roleInvalid(r)
		}
		// Operating the platform is granted only by those who hold it, so a
		// tenant administrator cannot make themselves a platform operator.
		if r == viewer.RolePlatformOperator && !v.IsSystem() && !v.HasRole(viewer.RolePlatformOperator) {
			return nil, roleInvalid(r)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// scope resolves the tenant an administrative call acts in and checks that
// the caller's viewer acts there (the authorization middleware chose it).
// A system caller is narrowed to the tenant so that tenant-owned look-ups
// cannot match rows of other tenants.
func (u *Usecase) scope(ctx context.Context, code string) (context.Context, *tenant.Tenant, *viewer.Viewer, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok || v.Kind == viewer.Anonymous {
		return nil, nil, nil, unauthenticated("未登录", "not signed in")
	}
	t, err := u.repos.Tenants.GetByCode(ctx, code)
	if err != nil {
		return nil, nil, nil, err
	}
	if v.IsSystem() {
		return inTenant(ctx, t), t, v, nil
	}
	if v.TenantID != t.ID {
		return nil, nil, nil, errorsv1.ErrorForbidden("viewer acts in tenant %d, not %s", v.TenantID, code).
			WithMetadata(map[string]string{"operation": "identity:" + code})
	}
	if t.Status == tenant.StatusSuspended {
		return nil, nil, nil, suspended(t)
	}
	return ctx, t, v, nil
}

// fillDepartments sets DepartmentCode of users from their DepartmentID.
func (u *Usecase) fillDepartments(ctx context.Context, users ...*User) error {
	var ids []int
	for _, usr := range users {
		if usr.DepartmentID != 0 && !slices.Contains(ids, usr.DepartmentID) {
			ids = append(ids, usr.DepartmentID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	codes, err := u.repos.Departments.CodesByID(ctx, ids)
	if err != nil {
		return err
	}
	for _, usr := range users {
		usr.DepartmentCode = codes[usr.DepartmentID]
	}
	return nil
}

// present fills what a caller sees of users beyond the row: department
// code and roles.
func (u *Usecase) present(ctx context.Context, users ...*User) error {
	if err := u.fillDepartments(ctx, users...); err != nil {
		return err
	}
	for _, usr := range users {
		roles, err := u.roles.Roles(ctx, usr.Subject())
		if err != nil {
			return fmt.Errorf("roles of %s: %w", usr.Subject(), err)
		}
		usr.Roles = roles
	}
	return nil
}

func (u *Usecase) departmentID(ctx context.Context, code string) (int, error) {
	if code == "" {
		return 0, nil
	}
	id, err := u.repos.Departments.IDByCode(ctx, code)
	if errorsv1.IsNotFound(err) {
		return 0, invalid("department_code", "本租户没有代码为 "+code+" 的部门", "the tenant has no department "+code)
	}
	return id, err
}

// CreateUserInput is a new user.
type CreateUserInput struct {
	Login          string
	DisplayName    string
	Phone          string
	DepartmentCode string
	Roles          []string
	// Password is the initial password; nil generates a temporary one that
	// must be changed at first sign-in.
	Password *string
}

func checkLogin(login string) error {
	if !loginRE.MatchString(login) {
		return invalid("login", "登录名须为 2–64 位小写字母、数字或 . _ -，以字母或数字开头", "a login is 2–64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
	}
	return nil
}

// CreateUser adds a user to the tenant and binds their roles. It returns
// the generated temporary password when in.Password is nil (shown once).
func (u *Usecase) CreateUser(ctx context.Context, tenantCode string, in CreateUserInput) (*User, string, error) {
	ctx, t, v, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, "", err
	}
	if err := checkLogin(in.Login); err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.DisplayName)
	if name == "" {
		return nil, "", invalid("display_name", "姓名不能为空", "the display name must not be empty")
	}
	roles, err := checkRoles(v, in.Roles, false)
	if err != nil {
		return nil, "", err
	}
	password, generated, mustChange := "", "", false
	if in.Password != nil {
		password = *in.Password
		if err := CheckPassword(password, in.Login); err != nil {
			return nil, "", err
		}
	} else {
		if generated, err = GeneratePassword(in.Login); err != nil {
			return nil, "", err
		}
		password, mustChange = generated, true
	}
	usr, err := u.createUser(ctx, t, &User{
		TenantID: t.ID, Login: in.Login, DisplayName: name, Phone: strings.TrimSpace(in.Phone),
		Status: StatusActive, MustChangePassword: mustChange,
	}, in.DepartmentCode, password, roles)
	if err != nil {
		return nil, "", err
	}
	return usr, generated, nil
}

func (u *Usecase) createUser(ctx context.Context, t *tenant.Tenant, usr *User, deptCode, password string, roles []string) (*User, error) {
	// Hash before the transaction: it is the slow part and holds no rows.
	hash, err := u.hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	now := u.cfg.Now()
	usr.PasswordHash, usr.PasswordChangedAt = hash, &now
	var out *User
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		dep, err := u.departmentID(ctx, deptCode)
		if err != nil {
			return err
		}
		usr.DepartmentID = dep
		if out, err = u.repos.Users.Create(ctx, usr); err != nil {
			return err
		}
		if err := u.roles.SetRoles(ctx, out.Subject(), t.Path, roles); err != nil {
			return fmt.Errorf("bind roles of %s: %w", out.Subject(), err)
		}
		return u.present(ctx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetUser returns a user of the tenant with their roles.
func (u *Usecase) GetUser(ctx context.Context, tenantCode, login string) (*User, error) {
	ctx, _, _, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	usr, err := u.repos.Users.GetByLogin(ctx, login)
	if err != nil {
		return nil, err
	}
	if err := u.present(ctx, usr); err != nil {
		return nil, err
	}
	return usr, nil
}

// Page sizes of ListUsers.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// ListUsersInput is one page request.
type ListUsersInput struct {
	Status         UserStatus
	DepartmentCode string
	PageSize       int
	PageToken      string
}

// ListUsers returns one page of the tenant's users ordered by login and the
// token of the next page ("" on the last page).
func (u *Usecase) ListUsers(ctx context.Context, tenantCode string, in ListUsersInput) ([]*User, string, error) {
	ctx, _, _, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, "", err
	}
	size := in.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	after := ""
	if in.PageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.PageToken)
		if err != nil || !strings.HasPrefix(string(raw), "l:") {
			return nil, "", invalid("page_token", "分页令牌无效，请从第一页重新查询", "the page token is not valid; start again from the first page")
		}
		after = strings.TrimPrefix(string(raw), "l:")
	}
	f := UserFilter{Status: in.Status, AfterLogin: after, Limit: size + 1}
	if in.DepartmentCode != "" {
		if f.DepartmentID, err = u.departmentID(ctx, in.DepartmentCode); err != nil {
			return nil, "", err
		}
	}
	rows, err := u.repos.Users.List(ctx, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		next = base64.RawURLEncoding.EncodeToString([]byte("l:" + rows[size-1].Login))
	}
	if err := u.present(ctx, rows...); err != nil {
		return nil, "", err
	}
	return rows, next, nil
}

// UserChanges are the fields UpdateUser may change; nil keeps the value and
// an empty DepartmentCode removes the user from their department.
type UserChanges struct {
	DisplayName    *string
	Phone          *string
	DepartmentCode *string
}

// UpdateUser changes a user's display name, phone or department.
func (u *Usecase) UpdateUser(ctx context.Context, tenantCode, login string, ch UserChanges) (*User, error) {
	ctx, _, _, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	var up UserUpdate
	if ch.DisplayName != nil {
		n := strings.TrimSpace(*ch.DisplayName)
		if n == "" {
			return nil, invalid("display_name", "姓名不能为空", "the display name must not be empty")
		}
		up.DisplayName = &n
	}
	if ch.Phone != nil {
		p := strings.TrimSpace(*ch.Phone)
		up.Phone = &p
	}
	var out *User
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		usr, err := u.repos.Users.GetByLogin(ctx, login)
		if err != nil {
			return err
		}
		if ch.DepartmentCode != nil {
			dep, err := u.departmentID(ctx, *ch.DepartmentCode)
			if err != nil {
				return err
			}
			up.DepartmentID = &dep
		}
		if out, err = u.repos.Users.Update(ctx, usr.ID, up); err != nil {
			return err
		}
		return u.present(ctx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetUserStatus enables or disables a user. Disabling revokes every session
// (access tokens already issued run out within their lifetime). Callers
// cannot disable themselves, so a tenant is not left without its
// administrator by mistake.
func (u *Usecase) SetUserStatus(ctx context.Context, tenantCode, login string, s UserStatus) (*User, error) {
	if s != StatusActive && s != StatusDisabled {
		return nil, invalid("status", "状态只能是 active 或 disabled", "status is active or disabled")
	}
	ctx, _, v, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	var out *User
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		usr, err := u.repos.Users.GetByLogin(ctx, login)
		if err != nil {
			return err
		}
		if s == StatusDisabled && v.Kind == viewer.User && v.ActorID == usr.ID {
			return invalid("status", "不能停用自己的账号", "you cannot disable your own account")
		}
		if err := u.repos.Users.SetStatus(ctx, usr.ID, s); err != nil {
			return err
		}
		if s == StatusDisabled {
			if _, err := u.repos.Sessions.RevokeUser(ctx, usr.ID, u.cfg.Now(), "user disabled"); err != nil {
				return err
			}
		}
		if out, err = u.repos.Users.GetByID(ctx, usr.ID); err != nil {
			return err
		}
		return u.present(ctx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ResetPassword replaces a user's password with a generated temporary one
// (returned once), requires a change at next sign-in, lifts a lockout and
// revokes every session.
func (u *Usecase) ResetPassword(ctx context.Context, tenantCode, login string) (string, error) {
	ctx, _, _, err := u.scope(ctx, tenantCode)
	if err != nil {
		return "", err
	}
	usr, err := u.repos.Users.GetByLogin(ctx, login)
	if err != nil {
		return "", err
	}
	temp, err := GeneratePassword(login)
	if err != nil {
		return "", err
	}
	hash, err := u.hasher.Hash(ctx, temp)
	if err != nil {
		return "", err
	}
	now := u.cfg.Now()
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		if err := u.repos.Users.SetPassword(ctx, usr.ID, hash, true, &now); err != nil {
			return err
		}
		_, err := u.repos.Sessions.RevokeUser(ctx, usr.ID, now, "password reset")
		return err
	})
	if err != nil {
		return "", err
	}
	return temp, nil
}

// SetUserRoles replaces a user's roles in the tenant.
func (u *Usecase) SetUserRoles(ctx context.Context, tenantCode, login string, roles []string) (*User, error) {
	ctx, t, v, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	roles, err = checkRoles(v, roles, false)
	if err != nil {
		return nil, err
	}
	var out *User
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		usr, err := u.repos.Users.GetByLogin(ctx, login)
		if err != nil {
			return err
		}
		if err := u.roles.SetRoles(ctx, usr.Subject(), t.Path, roles); err != nil {
			return fmt.Errorf("bind roles of %s: %w", usr.Subject(), err)
		}
		out = usr
		return u.present(ctx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Bootstrap creates a user of tenantCode unless the login exists, for
// onboarding (each tenant's first administrator, demo accounts). It acts as
// the system, applies the password policy and binds roles; an existing user
// is left untouched, so running it again changes nothing.
func (u *Usecase) Bootstrap(ctx context.Context, tenantCode, login, displayName, password string, roles []string) (bool, error) {
	ctx = viewer.SystemContext(ctx, "identity: bootstrap user "+login+"@"+tenantCode)
	ctx, t, v, err := u.scope(ctx, tenantCode)
	if err != nil {
		return false, err
	}
	if err := checkLogin(login); err != nil {
		return false, err
	}
	if _, err := u.repos.Users.GetByLogin(ctx, login); err == nil {
		return false, nil
	} else if !errorsv1.IsUserNotFound(err) {
		return false, err
	}
	roles, err = checkRoles(v, roles, false)
	if err != nil {
		return false, err
	}
	if err := CheckPassword(password, login); err != nil {
		return false, err
	}
	name := strings.TrimSpace(displayName)
	if name == "" {
		name = login
	}
	_, err = u.createUser(ctx, t, &User{TenantID: t.ID, Login: login, DisplayName: name, Status: StatusActive}, "", password, roles)
	if err != nil {
		return false, err
	}
	return true, nil
}

// CreateAPIKeyInput is a new machine key.
type CreateAPIKeyInput struct {
	Name  string
	Roles []string
	// ExpiresAt nil: the key does not expire.
	ExpiresAt *time.Time
}

// CreateAPIKey issues a key of the tenant holding machine roles and
// returns it with the full key, which is not stored and cannot be shown
// again.
func (u *Usecase) CreateAPIKey(ctx context.Context, tenantCode string, in CreateAPIKeyInput) (*APIKey, string, error) {
	ctx, t, v, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, "", invalid("name", "名称不能为空", "the name must not be empty")
	}
	if len(in.Roles) == 0 {
		return nil, "", invalid("roles", "至少授予一个岗位（connector 或 channel）", "grant at least one role (connector or channel)")
	}
	roles, err := checkRoles(v, in.Roles, true)
	if err != nil {
		return nil, "", err
	}
	now := u.cfg.Now()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return nil, "", invalid("expire_time", "过期时间必须晚于当前时间", "the expiry must be in the future")
	}
	parts, err := newAPIKey(t.Code)
	if err != nil {
		return nil, "", err
	}
	var out *APIKey
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		out, err = u.repos.APIKeys.Create(ctx, &APIKey{
			TenantID: t.ID, Name: name, KeyID: parts.KeyID, SecretHash: hashSecret(parts.Secret),
			Roles: roles, ExpiresAt: in.ExpiresAt, CreatedBy: v.Actor(),
		})
		if err != nil {
			return err
		}
		if err := u.roles.SetRoles(ctx, APIKeySubject(out.ID), t.Path, roles); err != nil {
			return fmt.Errorf("bind roles of %s: %w", APIKeySubject(out.ID), err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, parts.String(), nil
}

// ListAPIKeys lists the tenant's keys (never their secrets), revoked ones
// only when asked.
func (u *Usecase) ListAPIKeys(ctx context.Context, tenantCode string, includeRevoked bool) ([]*APIKey, error) {
	ctx, _, _, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	return u.repos.APIKeys.List(ctx, includeRevoked)
}

// RevokeAPIKey revokes a key at once and removes its role bindings.
// Revoking a revoked key changes nothing.
func (u *Usecase) RevokeAPIKey(ctx context.Context, tenantCode, keyID string) (*APIKey, error) {
	ctx, _, _, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	var out *APIKey
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		k, err := u.repos.APIKeys.GetByKeyID(ctx, keyID)
		if err != nil {
			return err
		}
		if err := u.repos.APIKeys.Revoke(ctx, k.ID, u.cfg.Now()); err != nil {
			return err
		}
		if err := u.roles.RemoveSubject(ctx, APIKeySubject(k.ID)); err != nil {
			return fmt.Errorf("unbind roles of %s: %w", APIKeySubject(k.ID), err)
		}
		out, err = u.repos.APIKeys.GetByID(ctx, k.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Me describes the caller of a request.
type Me struct {
	Subject        string
	Kind           viewer.Kind
	Name           string
	DisplayName    string
	TenantCode     string
	TenantPath     string
	Roles          []string
	DepartmentCode string
	KeyID          string
}

// WhoAmI describes the viewer of ctx, as the authentication middleware set
// it (roles included).
func (u *Usecase) WhoAmI(ctx context.Context) (*Me, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok || (v.Kind != viewer.User && v.Kind != viewer.APIKey) {
		return nil, unauthenticated("未登录", "not signed in")
	}
	me := &Me{
		Kind: v.Kind, Name: v.ActorName, TenantCode: v.TenantCode, TenantPath: v.TenantPath,
		Roles: slices.Clone(v.Roles),
	}
	// The actor's own row lives in its home tenant, which may differ from
	// the tenant it acts in.
	home := v.HomeTenantID
	if home == 0 {
		home = v.TenantID
	}
	hctx := viewer.TenantContext(ctx, home, v.HomeTenantCode, "")
	if v.Kind == viewer.User {
		me.Subject = UserSubject(v.ActorID)
		usr, err := u.repos.Users.GetByID(hctx, v.ActorID)
		if err != nil {
			return nil, err
		}
		if err := u.fillDepartments(hctx, usr); err != nil {
			return nil, err
		}
		me.Name, me.DisplayName, me.DepartmentCode = usr.Login, usr.DisplayName, usr.DepartmentCode
		return me, nil
	}
	me.Subject = APIKeySubject(v.ActorID)
	k, err := u.repos.APIKeys.GetByID(hctx, v.ActorID)
	if err != nil {
		return nil, err
	}
	me.Name, me.KeyID = k.Name, k.KeyID
	return me, nil
}
