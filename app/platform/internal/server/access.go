package server

import (
	"context"
	"net"
	"strings"
	"sync"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/go-kratos/kratos/v2/middleware"
	"github.com/go-kratos/kratos/v2/transport"
	khttp "github.com/go-kratos/kratos/v2/transport/http"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/audit"
	tenantbiz "github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Principal is an authenticated caller as the identity use cases report it.
type Principal struct {
	Kind           viewer.Kind
	ID             int
	Name           string
	TenantID       int
	TenantCode     string
	TenantPath     string
	DepartmentID   int
	Subject        string // user:<id> or apikey:<id>
	ForceRoleCheck bool
}

// Authenticator checks a credential: an access token or an API key.
type Authenticator func(ctx context.Context, credential string) (*Principal, error)

// Authorizer answers the casbin questions the access middleware asks.
type Authorizer interface {
	IsPublic(operation string) bool
	Allowed(subject, domainPath, operation string) bool
	RolesIn(subject, domainPath string) []string
}

// Auditor appends audit entries (biz/audit.Appender).
type Auditor interface {
	Append(ctx context.Context, e audit.Entry) error
}

// Transaction runs a unit of work (database.DB).
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Access is what the access-control middleware needs.
type Access struct {
	Authenticate Authenticator
	Authorizer   Authorizer
	Tenants      *tenantbiz.Usecase
	Auditor      Auditor
	Tx           Transaction
	Limiter      *RateLimiter
	// TenantCacheTTL bounds how stale a cached tenant (its path and
	// suspension) may be; 0 means one second.
	TenantCacheTTL time.Duration

	cache tenantCache
}

// auditRecord is filled by the inner middleware so the outer audit step
// knows who acted where.
type auditRecord struct {
	tenantID   int
	tenantCode string
	actor      string
	actorName  string
	roles      []string
}

type auditKey struct{}

func recordFrom(ctx context.Context) *auditRecord {
	r, _ := ctx.Value(auditKey{}).(*auditRecord)
	return r
}

// readPrefixes name the operations that change nothing; every other
// operation is a write: it runs in one transaction with its audit entry.
var readPrefixes = []string{"Get", "List", "Search", "WhoAmI", "Verify"}

// IsWrite reports whether an operation writes, from its method name.
func IsWrite(operation string) bool {
	method := operation[strings.LastIndexByte(operation, '/')+1:]
	for _, p := range readPrefixes {
		if strings.HasPrefix(method, p) {
			return false
		}
	}
	return true
}

// auditedFailures are the refusals worth an audit entry even for reads:
// attempts to get in or to reach further than granted.
var auditedFailures = map[string]bool{
	"UNAUTHENTICATED": true, "FORBIDDEN": true, "ACCOUNT_LOCKED": true,
	"RATE_LIMITED": true, "PASSWORD_CHANGE_REQUIRED": true,
}

// unitOfWork runs each write in one transaction together with its audit
// entry, so nothing is committed unaudited; a failed call rolls back and is
// audited on its own. Refused attempts on reads are audited too.
func (a *Access) unitOfWork() middleware.Middleware {
	return func(next middleware.Handler) middleware.Handler {
		return func(ctx context.Context, req any) (any, error) {
			op := operationOf(ctx)
			rec := &auditRecord{actor: "anonymous"}
			ctx = context.WithValue(ctx, auditKey{}, rec)
			write := IsWrite(op)
			if !write {
				reply, err := next(ctx, req)
				if err != nil && auditedFailures[kerrors.FromError(err).Reason] {
					a.appendOutcome(ctx, req, op, rec, err)
				}
				return reply, err
			}
			if a.Authorizer.IsPublic(op) {
				// Sign-in calls keep their own transactions: a failed login
				// must still count toward the lockout. Both outcomes are
				// audited afterwards.
				reply, err := next(ctx, req)
				a.appendOutcome(ctx, req, op, rec, err)
				return reply, err
			}
			var reply any
			err := a.Tx.InTx(ctx, func(ctx context.Context) error {
				var err error
				reply, err = next(ctx, req)
				if err != nil {
					return err
				}
				return a.Auditor.Append(ctx, a.entry(ctx, req, op, rec, "ok", ""))
			})
			if err != nil {
				a.appendOutcome(ctx, req, op, rec, err)
				return nil, err
			}
			return reply, nil
		}
	}
}

// appendOutcome audits a call outside its (rolled-back or absent)
// transaction; cause nil means it succeeded.
func (a *Access) appendOutcome(ctx context.Context, req any, op string, rec *auditRecord, cause error) {
	outcome, detail := "ok", ""
	if cause != nil {
		e := kerrors.FromError(cause)
		outcome, detail = e.Reason, e.Metadata["detail"]
		if outcome == "" {
			outcome = "INTERNAL"
		}
	}
	if rec.tenantID == 0 {
		// The caller got no further than naming a tenant: chain the attempt
		// to that tenant when it exists, so its admins see it.
		if code := targetCode(req, op); code != "" {
			if t, err := a.tenant(ctx, code); err == nil {
				rec.tenantID, rec.tenantCode = t.ID, t.Code
			}
		}
	}
	// The failure is recorded outside the rolled-back transaction.
	_ = a.Auditor.Append(database.WithoutTx(ctx), a.entry(ctx, req, op, rec, outcome, detail))
}

func (a *Access) entry(ctx context.Context, req any, op string, rec *auditRecord, outcome, detail string) audit.Entry {
	return audit.Entry{
		TenantID: rec.tenantID, TenantCode: rec.tenantCode, At: time.Now(),
		Actor: rec.actor, ActorName: rec.actorName, Role: strings.Join(rec.roles, ","),
		Operation: op, Target: targetOf(req), RequestID: RequestIDFromContext(ctx),
		SourceAddr: sourceAddr(ctx), Outcome: outcome, Detail: detail,
	}
}

// authenticate resolves the caller, authorizes the operation in the tenant
// the request acts in, gates suspended tenants, and puts the viewer in the
// context. A tenant the caller holds no role in answers TENANT_NOT_FOUND,
// exactly as a tenant that does not exist, so nothing leaks.
func (a *Access) authenticate() middleware.Middleware {
	return func(next middleware.Handler) middleware.Handler {
		return func(ctx context.Context, req any) (any, error) {
			op := operationOf(ctx)
			rec := recordFrom(ctx)
			if rec == nil {
				rec = &auditRecord{}
			}
			if a.Authorizer.IsPublic(op) {
				if err := a.Limiter.Allow("addr:" + sourceAddr(ctx)); err != nil {
					return nil, err
				}
				return next(ctx, req)
			}
			cred := credential(ctx)
			if cred == "" {
				return nil, unauthenticated("no credentials: send Authorization: Bearer <token> or X-API-Key")
			}
			p, err := a.Authenticate(ctx, cred)
			if err != nil {
				return nil, err
			}
			rec.actor, rec.actorName = p.Subject, p.Name
			rec.tenantID, rec.tenantCode = p.TenantID, p.TenantCode
			if err := a.Limiter.Allow(p.Subject); err != nil {
				return nil, err
			}
			home, err := a.tenant(ctx, p.TenantCode)
			if err != nil {
				return nil, unauthenticated("the credential's tenant no longer exists")
			}
			code := targetCode(req, op)
			target := home
			if code != "" && code != home.Code {
				if target, err = a.tenant(ctx, code); err != nil {
					return nil, err
				}
			}
			path := ""
			if code != "" || !isTenantRegistryOp(op) {
				path = target.Path
			}
			roles := a.Authorizer.RolesIn(p.Subject, path)
			if len(roles) == 0 {
				if path != "" && target.ID != home.ID {
					return nil, tenantbiz.NotFound(code)
				}
				return nil, forbidden(op)
			}
			rec.roles = roles
			if !a.Authorizer.Allowed(p.Subject, path, op) {
				return nil, forbidden(op)
			}
			operator := contains(roles, viewer.RolePlatformOperator)
			if home.Status == tenantbiz.StatusSuspended && !operator {
				return nil, suspended(home)
			}
			if _, scoped := req.(tenantbiz.Scoped); scoped && target.Status == tenantbiz.StatusSuspended {
				return nil, suspended(target)
			}
			if path != "" {
				rec.tenantID, rec.tenantCode = target.ID, target.Code
			}
			v := &viewer.Viewer{
				Kind: p.Kind, ActorID: p.ID, ActorName: p.Name,
				HomeTenantID: home.ID, HomeTenantCode: home.Code,
				TenantID: target.ID, TenantCode: target.Code, TenantPath: target.Path,
				Roles: roles, DepartmentID: p.DepartmentID,
			}
			ctx = viewer.NewContext(ctx, v)
			if _, scoped := req.(tenantbiz.Scoped); scoped {
				ctx = tenantbiz.NewContext(ctx, target)
			}
			return next(ctx, req)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func suspended(t *tenantbiz.Tenant) error {
	return errorsv1.ErrorTenantSuspended("tenant %s is suspended", t.Code).WithMetadata(map[string]string{"code": t.Code, "reason": t.SuspendedReason})
}

func unauthenticated(detail string) error {
	return errorsv1.ErrorUnauthenticated("%s", detail).WithMetadata(map[string]string{"detail": detail})
}

func forbidden(op string) error {
	return errorsv1.ErrorForbidden("operation %s not allowed", op).WithMetadata(map[string]string{"operation": op})
}

// isTenantRegistryOp names the platform-level operations of the tenant
// registry, whose target is the registry itself when no tenant is named.
func isTenantRegistryOp(op string) bool {
	return strings.HasPrefix(op, "/cityops.tenant.v1.TenantService/")
}

// targetCode is the tenant a request acts in: its tenant_code field; for
// the tenant registry, the tenant it names (code) or, when creating, the
// parent it creates under; "" when the request names none.
func targetCode(req any, op string) string {
	m, ok := req.(proto.Message)
	if !ok {
		return ""
	}
	r := m.ProtoReflect()
	names := []protoreflect.Name{"tenant_code"}
	if isTenantRegistryOp(op) {
		names = append(names, "code", "parent_code")
		if strings.HasSuffix(op, "/CreateTenant") || strings.HasSuffix(op, "/ListTenants") {
			names = []protoreflect.Name{"parent_code"}
		}
	}
	for _, n := range names {
		if fd := r.Descriptor().Fields().ByName(n); fd != nil && fd.Kind() == protoreflect.StringKind && !fd.IsList() {
			if v := r.Get(fd).String(); v != "" {
				return v
			}
		}
	}
	return ""
}

// targetFields are the request fields that identify what an operation acts
// on; secrets (passwords, tokens) are never among them.
var targetFields = []protoreflect.Name{"tenant_code", "code", "parent_code", "login", "key_id", "name"}

func targetOf(req any) string {
	m, ok := req.(proto.Message)
	if !ok {
		return ""
	}
	r := m.ProtoReflect()
	var parts []string
	for _, n := range targetFields {
		if fd := r.Descriptor().Fields().ByName(n); fd != nil && fd.Kind() == protoreflect.StringKind && !fd.IsList() {
			if v := r.Get(fd).String(); v != "" {
				parts = append(parts, string(n)+"="+v)
			}
		}
	}
	return strings.Join(parts, " ")
}

func operationOf(ctx context.Context) string {
	if tr, ok := transport.FromServerContext(ctx); ok {
		return tr.Operation()
	}
	return ""
}

// credential reads Authorization: Bearer … or X-API-Key.
func credential(ctx context.Context) string {
	tr, ok := transport.FromServerContext(ctx)
	if !ok {
		return ""
	}
	if k := strings.TrimSpace(tr.RequestHeader().Get("X-API-Key")); k != "" {
		return k
	}
	h := strings.TrimSpace(tr.RequestHeader().Get("Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// sourceAddr is the caller's IP address as the socket sees it.
func sourceAddr(ctx context.Context) string {
	if r, ok := khttp.RequestFromServerContext(ctx); ok {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			return host
		}
		return r.RemoteAddr
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
			return host
		}
		return p.Addr.String()
	}
	return ""
}

// tenant resolves a code through a short-lived cache: the path and the
// suspension flag are read on every authenticated call.
func (a *Access) tenant(ctx context.Context, code string) (*tenantbiz.Tenant, error) {
	ttl := a.TenantCacheTTL
	if ttl == 0 {
		ttl = time.Second
	}
	if t, ok := a.cache.get(code, ttl); ok {
		return t, nil
	}
	t, err := a.Tenants.Get(viewer.SystemContext(database.WithoutTx(ctx), "resolve tenant"), code)
	if err != nil {
		return nil, err
	}
	a.cache.put(code, t)
	return t, nil
}

type cachedTenant struct {
	t  *tenantbiz.Tenant
	at time.Time
}

type tenantCache struct {
	mu sync.RWMutex
	m  map[string]cachedTenant
}

func (c *tenantCache) get(code string, ttl time.Duration) (*tenantbiz.Tenant, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[code]
	if !ok || time.Since(e.at) > ttl {
		return nil, false
	}
	return e.t, true
}

func (c *tenantCache) put(code string, t *tenantbiz.Tenant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 100_000 {
		c.m = make(map[string]cachedTenant)
	}
	c.m[code] = cachedTenant{t: t, at: time.Now()}
}

// Forget drops a tenant from the cache (after it was suspended here).
func (a *Access) Forget(code string) {
	a.cache.mu.Lock()
	delete(a.cache.m, code)
	a.cache.mu.Unlock()
}
