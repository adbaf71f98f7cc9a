// Package identity decides who is calling CityOps: it signs people in with
// a login and an argon2id-hashed password (with account and address
// lockouts), issues short-lived EdDSA access tokens from a key ring kept in
// the secret store and rotating refresh tokens kept as sessions, checks the
// API keys of machine clients, and manages a tenant's users and keys.
//
// What a caller may do is not decided here: roles are bound through the
// RoleBinder the authorizer implements, and the authorization middleware
// checks them.
package identity

import (
	"context"
	"strconv"
	"time"

	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// UserStatus is whether a user may sign in.
type UserStatus string

// User statuses.
const (
	StatusActive   UserStatus = "active"
	StatusDisabled UserStatus = "disabled"
)

// User is a person working in one tenant. PasswordHash never leaves biz and
// data.
type User struct {
	ID                 int
	TenantID           int
	Login              string
	DisplayName        string
	Phone              string
	DepartmentID       int // 0: none
	DepartmentCode     string
	Status             UserStatus
	PasswordHash       string
	MustChangePassword bool
	PasswordChangedAt  *time.Time
	FailedLogins       int
	LockedUntil        *time.Time
	LastLoginAt        *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
	// Roles are filled from the RoleBinder by the use cases that return a
	// user to a caller; repositories leave them empty.
	Roles []string
}

// Subject is the authorization subject of the user, "user:<id>".
func (u *User) Subject() string { return UserSubject(u.ID) }

// Prefixes of authorization subjects.
const (
	userSubjectPrefix   = string(viewer.User) + ":"
	apiKeySubjectPrefix = string(viewer.APIKey) + ":"
)

// UserSubject is the authorization subject of user id.
func UserSubject(id int) string { return userSubjectPrefix + strconv.Itoa(id) }

// APIKeySubject is the authorization subject of API key row id.
func APIKeySubject(id int) string { return apiKeySubjectPrefix + strconv.Itoa(id) }

// Session is one refresh token of a login; all rotations of one login share
// a Family.
type Session struct {
	ID           int
	TenantID     int
	UserID       int
	Family       string
	TokenHash    string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	RevokedAt    *time.Time
	RevokeReason string
	ClientAddr   string
	UserAgent    string
}

// APIKey is a machine identity of a tenant.
type APIKey struct {
	ID         int
	TenantID   int
	Name       string
	KeyID      string
	SecretHash string
	Roles      []string
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedBy  string
	CreatedAt  time.Time
}

// Throttle counts failed logins under one key ("addr:<ip>" for a source
// address, "login:<tenant id>:<login>" for a login that does not exist).
type Throttle struct {
	Key         string
	Failures    int
	WindowStart time.Time
	LockedUntil *time.Time
}

// UserFilter selects users of the acting tenant; the repository returns at
// most Limit rows ordered by login, after AfterLogin.
type UserFilter struct {
	Status       UserStatus
	DepartmentID int
	AfterLogin   string
	Limit        int
}

// UserUpdate holds the fields an update may change; nil keeps the value.
// DepartmentID 0 removes the user from their department.
type UserUpdate struct {
	DisplayName  *string
	Phone        *string
	DepartmentID *int
}

// UserRepo stores the users of the tenant the context's viewer acts in.
// Lookups of a missing user answer USER_NOT_FOUND; a duplicate login answers
// USER_ALREADY_EXISTS.
type UserRepo interface {
	Create(ctx context.Context, u *User) (*User, error)
	GetByLogin(ctx context.Context, login string) (*User, error)
	GetByID(ctx context.Context, id int) (*User, error)
	List(ctx context.Context, f UserFilter) ([]*User, error)
	Update(ctx context.Context, id int, up UserUpdate) (*User, error)
	SetStatus(ctx context.Context, id int, s UserStatus) error
	// SetPassword stores a new hash; changedAt is nil when only the hash's
	// parameters were upgraded (the password itself did not change).
	SetPassword(ctx context.Context, id int, hash string, mustChange bool, changedAt *time.Time) error
	// AddFailedLogin increments the consecutive-failure counter atomically
	// and returns the new count.
	AddFailedLogin(ctx context.Context, id int) (int, error)
	// Lock locks the account until the given time and restarts the count.
	Lock(ctx context.Context, id int, until time.Time) error
	// RecordLogin resets the failure count and lock and sets last_login_at.
	RecordLogin(ctx context.Context, id int, at time.Time) error
}

// SessionRepo stores sessions of the acting tenant.
type SessionRepo interface {
	Create(ctx context.Context, s *Session) (*Session, error)
	// GetByTokenHash answers UNAUTHENTICATED when no session has the hash.
	GetByTokenHash(ctx context.Context, hash string) (*Session, error)
	// Revoke revokes one session if it is not revoked yet and reports
	// whether it did, so two concurrent refreshes cannot both rotate.
	Revoke(ctx context.Context, id int, at time.Time, reason string) (bool, error)
	// RevokeFamily revokes every unrevoked session of a family.
	RevokeFamily(ctx context.Context, family string, at time.Time, reason string) (int, error)
	// RevokeUser revokes every unrevoked session of a user.
	RevokeUser(ctx context.Context, userID int, at time.Time, reason string) (int, error)
}

// APIKeyRepo stores API keys of the acting tenant.
type APIKeyRepo interface {
	// Create answers INVALID_ARGUMENT (field name) when the name is taken.
	Create(ctx context.Context, k *APIKey) (*APIKey, error)
	// GetByKeyID and GetByID answer API_KEY_NOT_FOUND.
	GetByKeyID(ctx context.Context, keyID string) (*APIKey, error)
	GetByID(ctx context.Context, id int) (*APIKey, error)
	List(ctx context.Context, includeRevoked bool) ([]*APIKey, error)
	// Revoke sets revoked_at unless it is set already.
	Revoke(ctx context.Context, id int, at time.Time) error
	// Touch sets last_used_at to at unless it is later than notBefore
	// already, so a busy key is written at most once per interval.
	Touch(ctx context.Context, id int, at, notBefore time.Time) error
}

// ThrottleRepo stores login throttles; callers act as the system.
type ThrottleRepo interface {
	// Get returns the throttle under key, or nil when there is none.
	Get(ctx context.Context, key string) (*Throttle, error)
	// AddFailure counts one failure under key: in the current window when
	// it started after windowStartAfter, else in a new window starting now.
	AddFailure(ctx context.Context, key string, now, windowStartAfter time.Time) (*Throttle, error)
	// Lock locks key until the given time and restarts its count, as an
	// account lock does.
	Lock(ctx context.Context, key string, until time.Time) error
}

// DepartmentRepo resolves departments of the acting tenant.
type DepartmentRepo interface {
	// IDByCode answers NOT_FOUND (kind department) for an unknown code.
	IDByCode(ctx context.Context, code string) (int, error)
	// CodesByID returns the codes of the departments among ids.
	CodesByID(ctx context.Context, ids []int) (map[int]string, error)
}

// TenantFinder finds tenants by code (the tenant repository implements it)
// and answers TENANT_NOT_FOUND for an unknown code.
type TenantFinder interface {
	GetByCode(ctx context.Context, code string) (*tenant.Tenant, error)
}

// RoleBinder binds roles to subjects; the authorizer implements it. homePath
// is the materialized path of the subject's tenant.
type RoleBinder interface {
	SetRoles(ctx context.Context, subject, homePath string, roles []string) error
	Roles(ctx context.Context, subject string) ([]string, error)
	RemoveSubject(ctx context.Context, subject string) error
}

// KeyStore is the part of the secret store (secrets.Store) the key ring
// needs: a map of strings under a path. Get answers an error matching
// secrets.ErrNotFound when nothing is stored at the path.
type KeyStore interface {
	Get(ctx context.Context, path string) (map[string]string, error)
	Put(ctx context.Context, path string, data map[string]string) error
}

// Transaction runs fn in one database transaction carried by the context.
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Repos are the repositories the identity use cases need.
type Repos struct {
	Users       UserRepo
	Sessions    SessionRepo
	APIKeys     APIKeyRepo
	Throttles   ThrottleRepo
	Departments DepartmentRepo
	Tenants     TenantFinder
}

// Principal is who presented a credential, as Authenticate found it.
type Principal struct {
	Kind         viewer.Kind
	ID           int
	Name         string // login or key name
	TenantID     int
	TenantCode   string
	TenantPath   string
	DepartmentID int
	// Subject is the authorization subject, "user:<id>" or "apikey:<id>".
	Subject string
	// KeyID is the public id of an API key; empty for users.
	KeyID string
}
