package tenant

import "context"

type ctxKey struct{}

// NewContext returns ctx carrying the tenant a tenant-scoped call acts in.
func NewContext(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the tenant a tenant-scoped call acts in.
func FromContext(ctx context.Context) (*Tenant, bool) {
	t, ok := ctx.Value(ctxKey{}).(*Tenant)
	return t, ok
}

// Scoped is implemented by every request that acts inside one tenant; the
// server's tenant middleware resolves and gates that tenant before the
// handler runs.
type Scoped interface {
	GetTenantCode() string
}

// Scope resolves the tenant of a tenant-scoped call: the one the middleware
// put in the context, or else a fresh lookup through RequireActive.
func (u *Usecase) Scope(ctx context.Context, code string) (*Tenant, error) {
	if t, ok := FromContext(ctx); ok && t.Code == code {
		return t, nil
	}
	return u.RequireActive(ctx, code)
}
