package identity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Config tunes sign-in and sessions. Zero values mean the documented
// defaults.
type Config struct {
	// Argon2 is the cost of new password hashes; default
	// DefaultArgon2Params (m=19456 KiB, t=2, p=1).
	Argon2 Argon2Params
	// HashConcurrency bounds password hashes running at once; default
	// NumCPU×2. Each holds Argon2.Memory KiB while it runs.
	HashConcurrency int
	// RefreshTTL is the lifetime of a refresh token (each rotation starts
	// a new one); default 14 days.
	RefreshTTL time.Duration
	// MaxFailedLogins consecutive failures lock an account for
	// LockoutDuration; defaults 5 and 15 minutes.
	MaxFailedLogins int
	LockoutDuration time.Duration
	// MaxAddressFailures failures from one source address within
	// AddressWindow lock the address for AddressWindow; defaults 20 and
	// 15 minutes.
	MaxAddressFailures int
	AddressWindow      time.Duration
	// APIKeyTouchInterval is how stale last_used_at of an API key may get
	// before a use writes it again; default 1 minute.
	APIKeyTouchInterval time.Duration
	// Now is the clock; default time.Now. Tests inject a fake one.
	Now func() time.Time
	// Logger receives failures of background writes (see detached);
	// default the kratos default logger.
	Logger log.Logger
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = log.DefaultLogger
	}
	c.Argon2.setDefaults()
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 14 * 24 * time.Hour
	}
	if c.MaxFailedLogins == 0 {
		c.MaxFailedLogins = 5
	}
	if c.LockoutDuration == 0 {
		c.LockoutDuration = 15 * time.Minute
	}
	if c.MaxAddressFailures == 0 {
		c.MaxAddressFailures = 20
	}
	if c.AddressWindow == 0 {
		c.AddressWindow = 15 * time.Minute
	}
	if c.APIKeyTouchInterval == 0 {
		c.APIKeyTouchInterval = time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	switch {
	case c.RefreshTTL < time.Hour:
		return fmt.Errorf("identity: refresh token lifetime %s below 1h", c.RefreshTTL)
	case c.MaxFailedLogins < 1 || c.MaxAddressFailures < 1:
		return errors.New("identity: failure limits must be positive")
	case c.LockoutDuration <= 0 || c.AddressWindow <= 0:
		return errors.New("identity: lockout durations must be positive")
	}
	return c.Argon2.Validate()
}

// loginThrottleWindow is how long failures against a login that does not
// exist are remembered. Real accounts count consecutive failures with no
// window, so a long one keeps the two indistinguishable to a patient
// guesser.
const loginThrottleWindow = 24 * time.Hour

// Usecase signs people in, authenticates requests and manages users and
// API keys.
type Usecase struct {
	repos  Repos
	roles  RoleBinder
	keys   *Keyring
	tx     Transaction
	hasher *Hasher
	cfg    Config
	log    *log.Helper
	// bg tracks background writes so Close can wait for them.
	bg sync.WaitGroup
}

// NewUsecase wires the identity use cases. keys must be loaded (Load)
// before the first Login or Authenticate.
func NewUsecase(repos Repos, roles RoleBinder, keys *Keyring, tx Transaction, cfg Config) (*Usecase, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h, err := NewHasher(cfg.Argon2, cfg.HashConcurrency)
	if err != nil {
		return nil, err
	}
	return &Usecase{repos: repos, roles: roles, keys: keys, tx: tx, hasher: h, cfg: cfg, log: log.NewHelper(cfg.Logger)}, nil
}

// Close waits for background writes (see detached) to finish; call it at
// shutdown after the servers stopped.
func (u *Usecase) Close() { u.bg.Wait() }

// detachedTimeout bounds a background write.
const detachedTimeout = 30 * time.Second

// detached runs fn outside the caller's transaction, so that what it writes
// (failure counters, a revoked token family, last use of a key) persists
// when that transaction rolls back. Without a transaction in ctx, fn runs
// now and its error is returned. Inside one, fn runs in the background and
// detached returns at once: on SQLite the open transaction (BEGIN
// IMMEDIATE) holds the only write lock until it ends, so a synchronous
// write from another connection would wait for a rollback that waits for
// it. The background write proceeds as soon as the transaction ends.
func (u *Usecase) detached(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	dctx := database.WithoutTx(ctx)
	if database.TxFromContext(ctx) == nil {
		return fn(dctx)
	}
	u.bg.Add(1)
	go func() {
		defer u.bg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(dctx), detachedTimeout)
		defer cancel()
		if err := fn(ctx); err != nil && !isLockError(err) {
			u.log.WithContext(ctx).Errorw("msg", "identity: background write failed", "what", what, "error", err)
		}
	}()
	return nil
}

// isLockError reports the lockout answers, which are the expected result of
// counting a failure, not a failure to write.
func isLockError(err error) bool {
	return errorsv1.IsAccountLocked(err) || errorsv1.IsRateLimited(err)
}

// Errors.

func unauthenticated(zh, en string) error {
	return errorsv1.ErrorUnauthenticated("unauthenticated: %s", en).WithMetadata(map[string]string{
		"detail": en, "detail_zh": zh, "detail_en": en,
	})
}

// badCredentials is the one answer for an unknown login and a wrong
// password.
func badCredentials() error {
	return unauthenticated("登录名或密码错误", "wrong login or password")
}

func retryAfter(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

func accountLocked(d time.Duration) error {
	return errorsv1.ErrorAccountLocked("account locked").WithMetadata(map[string]string{"retry_after": retryAfter(d)})
}

func addressLocked(d time.Duration) error {
	return errorsv1.ErrorRateLimited("too many failed sign-ins from this address").WithMetadata(map[string]string{"retry_after": retryAfter(d)})
}

func invalid(field, zh, en string) error { return tenant.Invalid(field, zh, en) }

func roleInvalid(role string) error {
	return errorsv1.ErrorRoleInvalid("role %q invalid", role).WithMetadata(map[string]string{"role": role})
}

func suspended(t *tenant.Tenant) error {
	return errorsv1.ErrorTenantSuspended("tenant %s is suspended", t.Code).WithMetadata(map[string]string{"code": t.Code, "reason": t.SuspendedReason})
}

// system is ctx acting as the platform, for the cross-tenant look-ups of
// authentication (tenant registry, login throttles).
func system(ctx context.Context) context.Context {
	return viewer.SystemContext(ctx, "identity: authentication")
}

func inTenant(ctx context.Context, t *tenant.Tenant) context.Context {
	return viewer.TenantContext(ctx, t.ID, t.Code, t.Path)
}

func addrKey(addr string) string {
	if addr == "" {
		return ""
	}
	if len(addr) > 120 {
		addr = addr[:120]
	}
	return "addr:" + addr
}

func loginKey(tenantID int, login string) string {
	return "login:" + strconv.Itoa(tenantID) + ":" + login
}

// LoginInput is a sign-in attempt.
type LoginInput struct {
	TenantCode string
	Login      string
	Password   string
	// ClientAddr is the source address the address lockout counts; the
	// caller decides which proxies to trust.
	ClientAddr string
	UserAgent  string
}

// TokenPair is what a successful Login or Refresh hands out.
type TokenPair struct {
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
	User             *User
	Tenant           *tenant.Tenant
}

// credentials is a checked login.
type credentials struct {
	ctx    context.Context // acting anonymously in the tenant
	tenant *tenant.Tenant
	user   *User
	rehash bool
}

// check verifies tenant, login and password under the lockouts. Every
// failure that a guesser could cause is counted outside the caller's
// transaction (detached), so rolling back the request does not undo it.
func (u *Usecase) check(ctx context.Context, code, login, password, addr string) (*credentials, error) {
	now := u.cfg.Now()
	akey := addrKey(addr)
	var addrTh, loginTh *Throttle
	if akey != "" {
		th, err := u.repos.Throttles.Get(system(ctx), akey)
		if err != nil {
			return nil, err
		}
		if th != nil && th.LockedUntil != nil && th.LockedUntil.After(now) {
			return nil, addressLocked(th.LockedUntil.Sub(now))
		}
		addrTh = th
	}
	t, err := u.repos.Tenants.GetByCode(system(ctx), code)
	if err != nil {
		if !errorsv1.IsTenantNotFound(err) {
			return nil, err
		}
		// Same cost as a wrong password, and it counts against the address.
		if _, _, verr := u.hasher.Verify(ctx, password, ""); verr != nil {
			return nil, verr
		}
		if ferr := u.countFailure(ctx, now, nil, nil, login, akey, nil, addrTh); ferr != nil {
			return nil, ferr
		}
		return nil, tenant.NotFound(code)
	}
	tctx := inTenant(ctx, t)
	usr, err := u.repos.Users.GetByLogin(tctx, login)
	if err != nil && !errorsv1.IsUserNotFound(err) {
		return nil, err
	}
	if usr != nil {
		if usr.LockedUntil != nil && usr.LockedUntil.After(now) {
			return nil, accountLocked(usr.LockedUntil.Sub(now))
		}
	} else {
		th, err := u.repos.Throttles.Get(system(ctx), loginKey(t.ID, login))
		if err != nil {
			return nil, err
		}
		if th != nil && th.LockedUntil != nil && th.LockedUntil.After(now) {
			return nil, accountLocked(th.LockedUntil.Sub(now))
		}
		loginTh = th
	}
	hash := ""
	if usr != nil {
		hash = usr.PasswordHash
	}
	ok, rehash, err := u.hasher.Verify(ctx, password, hash)
	if err != nil {
		return nil, fmt.Errorf("login %s/%s: stored password hash: %w", code, login, err)
	}
	if !ok {
		if ferr := u.countFailure(ctx, now, t, usr, login, akey, loginTh, addrTh); ferr != nil {
			return nil, ferr
		}
		return nil, badCredentials()
	}
	// The password is right: only now may the answer say more.
	if usr.Status != StatusActive {
		return nil, unauthenticated("账号已停用，请联系管理员", "the account is disabled; ask an administrator")
	}
	if t.Status == tenant.StatusSuspended {
		return nil, suspended(t)
	}
	return &credentials{ctx: tctx, tenant: t, user: usr, rehash: rehash}, nil
}

// countFailure counts a failed sign-in against the account (or, for a login
// that does not exist, against a throttle of that name) and the source
// address, and answers the lockout it triggered, if any. When the writes
// must run in the background (see detached), the answer is predicted from
// the counts read before (loginTh, addrTh, usr); the atomic counts in the
// database still decide the lock itself.
func (u *Usecase) countFailure(ctx context.Context, now time.Time, t *tenant.Tenant, usr *User, login, akey string, loginTh, addrTh *Throttle) error {
	var predicted error
	switch {
	case usr != nil && usr.FailedLogins+1 >= u.cfg.MaxFailedLogins,
		usr == nil && t != nil && nextCount(loginTh, now.Add(-loginThrottleWindow)) >= u.cfg.MaxFailedLogins:
		predicted = accountLocked(u.cfg.LockoutDuration)
	case akey != "" && nextCount(addrTh, now.Add(-u.cfg.AddressWindow)) >= u.cfg.MaxAddressFailures:
		predicted = addressLocked(u.cfg.AddressWindow)
	}
	err := u.detached(ctx, "count failed login", func(ctx context.Context) error {
		return u.writeFailure(ctx, now, t, usr, login, akey)
	})
	if err == nil && database.TxFromContext(ctx) != nil {
		return predicted
	}
	return err
}

// nextCount is what a throttle's count becomes with one more failure.
func nextCount(th *Throttle, windowStartAfter time.Time) int {
	if th == nil || !th.WindowStart.After(windowStartAfter) {
		return 1
	}
	return th.Failures + 1
}

// writeFailure is the write of countFailure; it answers the lockout the
// atomic counts triggered.
func (u *Usecase) writeFailure(ctx context.Context, now time.Time, t *tenant.Tenant, usr *User, login, akey string) error {
	var lockErr error
	switch {
	case usr != nil:
		tctx := inTenant(ctx, t)
		n, err := u.repos.Users.AddFailedLogin(tctx, usr.ID)
		if err != nil {
			return err
		}
		if n >= u.cfg.MaxFailedLogins {
			if err := u.repos.Users.Lock(tctx, usr.ID, now.Add(u.cfg.LockoutDuration)); err != nil {
				return err
			}
			lockErr = accountLocked(u.cfg.LockoutDuration)
		}
	case t != nil:
		key := loginKey(t.ID, login)
		th, err := u.repos.Throttles.AddFailure(system(ctx), key, now, now.Add(-loginThrottleWindow))
		if err != nil {
			return err
		}
		if th.Failures >= u.cfg.MaxFailedLogins {
			if err := u.repos.Throttles.Lock(system(ctx), key, now.Add(u.cfg.LockoutDuration)); err != nil {
				return err
			}
			lockErr = accountLocked(u.cfg.LockoutDuration)
		}
	}
	if akey != "" {
		th, err := u.repos.Throttles.AddFailure(system(ctx), akey, now, now.Add(-u.cfg.AddressWindow))
		if err != nil {
			return err
		}
		if th.Failures >= u.cfg.MaxAddressFailures {
			if err := u.repos.Throttles.Lock(system(ctx), akey, now.Add(u.cfg.AddressWindow)); err != nil {
				return err
			}
			if lockErr == nil {
				lockErr = addressLocked(u.cfg.AddressWindow)
			}
		}
	}
	return lockErr
}

// Login signs a user in. Unknown tenant: TENANT_NOT_FOUND. Unknown login
// and wrong password: the same UNAUTHENTICATED, at the same cost. Locked:
// ACCOUNT_LOCKED (account) or RATE_LIMITED (source address), both with
// retry_after. Only after a correct password: disabled (UNAUTHENTICATED),
// TENANT_SUSPENDED, PASSWORD_CHANGE_REQUIRED.
func (u *Usecase) Login(ctx context.Context, in LoginInput) (*TokenPair, error) {
	cr, err := u.check(ctx, in.TenantCode, in.Login, in.Password, in.ClientAddr)
	if err != nil {
		return nil, err
	}
	if cr.user.MustChangePassword {
		return nil, errorsv1.ErrorPasswordChangeRequired("password change required")
	}
	now := u.cfg.Now()
	var newHash string
	if cr.rehash {
		if newHash, err = u.hasher.Hash(ctx, in.Password); err != nil {
			return nil, err
		}
	}
	var out *TokenPair
	err = u.tx.InTx(cr.ctx, func(ctx context.Context) error {
		if newHash != "" {
			if err := u.repos.Users.SetPassword(ctx, cr.user.ID, newHash, false, nil); err != nil {
				return err
			}
		}
		if err := u.repos.Users.RecordLogin(ctx, cr.user.ID, now); err != nil {
			return err
		}
		family, err := randomToken(16)
		if err != nil {
			return err
		}
		out, err = u.issue(ctx, cr.tenant, cr.user, family, in.ClientAddr, in.UserAgent)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// issue creates a session of family and signs an access token.
func (u *Usecase) issue(ctx context.Context, t *tenant.Tenant, usr *User, family, addr, agent string) (*TokenPair, error) {
	now := u.cfg.Now()
	refresh, err := newRefreshToken(t.Code)
	if err != nil {
		return nil, err
	}
	s, err := u.repos.Sessions.Create(ctx, &Session{
		TenantID: t.ID, UserID: usr.ID, Family: family, TokenHash: hashSecret(refresh),
		CreatedAt: now, ExpiresAt: now.Add(u.cfg.RefreshTTL),
		ClientAddr: truncate(addr, 64), UserAgent: truncate(agent, 256),
	})
	if err != nil {
		return nil, err
	}
	access, claims, err := u.keys.Sign(TokenClaims{
		UserID: usr.ID, Name: usr.Login, TenantID: t.ID, TenantCode: t.Code, TenantPath: t.Path,
		DepartmentID: usr.DepartmentID,
	})
	if err != nil {
		return nil, err
	}
	if err := u.fillDepartments(ctx, usr); err != nil {
		return nil, err
	}
	return &TokenPair{
		AccessToken: access, AccessExpiresAt: claims.ExpiresAt,
		RefreshToken: refresh, RefreshExpiresAt: s.ExpiresAt,
		User: usr, Tenant: t,
	}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut at a rune boundary so the column holds valid UTF-8.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// RefreshInput is a refresh-token exchange.
type RefreshInput struct {
	RefreshToken string
	ClientAddr   string
	UserAgent    string
}

// session finds the session of a refresh token.
func (u *Usecase) session(ctx context.Context, token string) (context.Context, *tenant.Tenant, *Session, error) {
	code, err := ParseRefreshToken(token)
	if err != nil {
		return nil, nil, nil, unauthenticated("刷新令牌格式不正确", "malformed refresh token")
	}
	t, err := u.repos.Tenants.GetByCode(system(ctx), code)
	if err != nil {
		if errorsv1.IsTenantNotFound(err) {
			return nil, nil, nil, unauthenticated("刷新令牌无效", "unknown refresh token")
		}
		return nil, nil, nil, err
	}
	tctx := inTenant(ctx, t)
	s, err := u.repos.Sessions.GetByTokenHash(tctx, hashSecret(token))
	if err != nil {
		return nil, nil, nil, err
	}
	return tctx, t, s, nil
}

// reused revokes the family of a refresh token presented after it was
// revoked: either the client or a thief holds a copy, and the server cannot
// tell which, so both are signed out.
func (u *Usecase) reused(ctx context.Context, s *Session, now time.Time) error {
	err := u.detached(ctx, "revoke reused token family", func(ctx context.Context) error {
		_, err := u.repos.Sessions.RevokeFamily(ctx, s.Family, now, "reuse detected")
		return err
	})
	if err != nil {
		return err
	}
	return unauthenticated("刷新令牌已使用过，为安全起见该登录的所有会话已注销，请重新登录", "refresh token reused; every session of this sign-in was revoked, sign in again")
}

// Refresh rotates a refresh token: the presented token is revoked and a new
// pair of the same family is issued. A revoked token presented again
// revokes the whole family (token theft detection).
func (u *Usecase) Refresh(ctx context.Context, in RefreshInput) (*TokenPair, error) {
	tctx, t, s, err := u.session(ctx, in.RefreshToken)
	if err != nil {
		return nil, err
	}
	now := u.cfg.Now()
	if s.RevokedAt != nil {
		return nil, u.reused(tctx, s, now)
	}
	if !now.Before(s.ExpiresAt) {
		return nil, unauthenticated("刷新令牌已过期，请重新登录", "refresh token expired; sign in again")
	}
	usr, err := u.repos.Users.GetByID(tctx, s.UserID)
	if err != nil {
		return nil, err
	}
	if usr.Status != StatusActive || usr.MustChangePassword {
		return nil, unauthenticated("会话已失效，请重新登录", "the session is no longer valid; sign in again")
	}
	if t.Status == tenant.StatusSuspended {
		return nil, suspended(t)
	}
	var out *TokenPair
	err = u.tx.InTx(tctx, func(ctx context.Context) error {
		ok, err := u.repos.Sessions.Revoke(ctx, s.ID, now, "rotated")
		if err != nil {
			return err
		}
		if !ok {
			// A concurrent refresh with the same token won the race: the
			// token was used twice.
			return u.reused(ctx, s, now)
		}
		out, err = u.issue(ctx, t, usr, s.Family, in.ClientAddr, in.UserAgent)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Logout revokes a refresh token's family. An unknown or already revoked
// token is not an error: the caller is signed out either way.
func (u *Usecase) Logout(ctx context.Context, refreshToken string) error {
	tctx, _, s, err := u.session(ctx, refreshToken)
	if errorsv1.IsUnauthenticated(err) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = u.repos.Sessions.RevokeFamily(tctx, s.Family, u.cfg.Now(), "logout")
	return err
}

// ChangePasswordInput is a password change by the user.
type ChangePasswordInput struct {
	TenantCode  string
	Login       string
	OldPassword string
	NewPassword string
	ClientAddr  string
}

// ChangePassword sets a new password given the current one. It needs no
// session (a user whose password was reset calls it instead of Login), so it
// checks the old password under the same lockouts as Login. It clears
// must_change_password and any lock, and revokes every session.
func (u *Usecase) ChangePassword(ctx context.Context, in ChangePasswordInput) error {
	if err := CheckPassword(in.NewPassword, in.Login); err != nil {
		return err
	}
	if in.NewPassword == in.OldPassword {
		return errorsv1.ErrorPasswordTooWeak("new password equals the old one").WithMetadata(map[string]string{
			"detail": "choose a password different from the current one", "detail_zh": "新密码不能与当前密码相同",
			"detail_en": "choose a password different from the current one",
		})
	}
	cr, err := u.check(ctx, in.TenantCode, in.Login, in.OldPassword, in.ClientAddr)
	if err != nil {
		return err
	}
	hash, err := u.hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		return err
	}
	now := u.cfg.Now()
	return u.tx.InTx(cr.ctx, func(ctx context.Context) error {
		if err := u.repos.Users.SetPassword(ctx, cr.user.ID, hash, false, &now); err != nil {
			return err
		}
		_, err := u.repos.Sessions.RevokeUser(ctx, cr.user.ID, now, "password changed")
		return err
	})
}

// Authenticate identifies the caller of a request from its credential: an
// access token (JWT, as sent in "Authorization: Bearer …"; the "Bearer "
// prefix may be left on) or an API key (cok_…). Access tokens are verified
// in memory; API keys are looked up in their tenant. Failures answer
// UNAUTHENTICATED with a detail (expired, revoked, malformed …); a valid
// credential of a suspended tenant answers TENANT_SUSPENDED.
func (u *Usecase) Authenticate(ctx context.Context, credential string) (*Principal, error) {
	credential = strings.TrimSpace(credential)
	if len(credential) > 7 && strings.EqualFold(credential[:7], "bearer ") {
		credential = strings.TrimSpace(credential[7:])
	}
	if credential == "" {
		return nil, unauthenticated("未提供登录凭证", "no credentials")
	}
	if IsAPIKey(credential) {
		return u.authenticateAPIKey(ctx, credential)
	}
	c, err := u.keys.Verify(credential)
	if err != nil {
		return nil, tokenError(err)
	}
	return &Principal{
		Kind: viewer.User, ID: c.UserID, Name: c.Name, TenantID: c.TenantID, TenantCode: c.TenantCode,
		TenantPath: c.TenantPath, DepartmentID: c.DepartmentID, Subject: UserSubject(c.UserID),
	}, nil
}

func tokenError(err error) error {
	switch {
	case errors.Is(err, ErrTokenExpired):
		return unauthenticated("访问令牌已过期", "access token expired")
	case errors.Is(err, ErrTokenNotYetValid):
		return unauthenticated("访问令牌尚未生效", "access token not valid yet")
	case errors.Is(err, ErrTokenUnknownKey):
		return unauthenticated("访问令牌的签名密钥未知", "access token signed by an unknown key")
	case errors.Is(err, ErrTokenSignature):
		return unauthenticated("访问令牌签名无效", "access token signature invalid")
	case errors.Is(err, ErrTokenIssuer):
		return unauthenticated("访问令牌的签发者不正确", "access token of another issuer")
	}
	return unauthenticated("访问令牌格式不正确", "malformed access token")
}

func (u *Usecase) authenticateAPIKey(ctx context.Context, credential string) (*Principal, error) {
	parts, err := ParseAPIKey(credential)
	if err != nil {
		return nil, unauthenticated("接入密钥格式不正确", "malformed API key")
	}
	unknown := unauthenticated("接入密钥无效", "unknown API key")
	t, err := u.repos.Tenants.GetByCode(system(ctx), parts.TenantCode)
	if err != nil {
		if errorsv1.IsTenantNotFound(err) {
			return nil, unknown
		}
		return nil, err
	}
	tctx := inTenant(ctx, t)
	k, err := u.repos.APIKeys.GetByKeyID(tctx, parts.KeyID)
	if err != nil {
		if errorsv1.IsApiKeyNotFound(err) {
			return nil, unknown
		}
		return nil, err
	}
	if !equalHash(hashSecret(parts.Secret), k.SecretHash) {
		return nil, unknown
	}
	now := u.cfg.Now()
	if k.RevokedAt != nil {
		return nil, unauthenticated("接入密钥已吊销", "API key revoked")
	}
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return nil, unauthenticated("接入密钥已过期", "API key expired")
	}
	if t.Status == tenant.StatusSuspended {
		return nil, suspended(t)
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= u.cfg.APIKeyTouchInterval {
		// Outside the request's transaction: a use is a use even when the
		// request fails, and the write must not hold the request's locks.
		err := u.detached(tctx, "record api key use", func(ctx context.Context) error {
			return u.repos.APIKeys.Touch(ctx, k.ID, now, now.Add(-u.cfg.APIKeyTouchInterval))
		})
		if err != nil {
			return nil, err
		}
	}
	return &Principal{
		Kind: viewer.APIKey, ID: k.ID, Name: k.Name, TenantID: t.ID, TenantCode: t.Code, TenantPath: t.Path,
		Subject: APIKeySubject(k.ID), KeyID: k.KeyID,
	}, nil
}

// Now is the use cases' clock, so that callers computing lifetimes
// ("expires in") agree with the times the use cases set.
func (u *Usecase) Now() time.Time { return u.cfg.Now() }
