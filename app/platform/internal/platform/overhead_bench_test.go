package platform_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/authz"
	"github.com/cityops/cityops/app/platform/internal/biz/identity"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	"github.com/cityops/cityops/app/platform/internal/conf"
	"github.com/cityops/cityops/app/platform/internal/platform"
	"github.com/cityops/cityops/ent"
)

// bindRoles writes one binding per role for twelve synthetic people in
// every tenant — 1,002 tenants × 12 roles — in one transaction, then makes
// the authorizer load them.
func bindRoles(b *testing.B, core *platform.Core) {
	b.Helper()
	ctx := viewer.SystemContext(context.Background(), "benchmark bindings")
	var rows []*tenant.Tenant
	for token := ""; ; {
		page, next, err := core.Tenants.List(ctx, tenant.ListInput{PageSize: tenant.MaxPageSize, PageToken: token})
		if err != nil {
			b.Fatal(err)
		}
		rows = append(rows, page...)
		if next == "" {
			break
		}
		token = next
	}
	roles := []string{viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher,
		viewer.RoleHandler, viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleLeader, viewer.RoleTenantAdmin,
		viewer.RoleConnector, viewer.RoleChannel, viewer.RoleOverseer}
	err := core.DB.InTx(ctx, func(ctx context.Context) error {
		c := database.ClientFromContext(ctx, core.DB.Ent)
		subject := 1_000_000
		var batch []*ent.AuthzRuleCreate
		for _, t := range rows {
			for _, r := range roles {
				subject++
				dom := t.Path
				if r == viewer.RoleOverseer {
					dom += "/*"
				}
				batch = append(batch, c.AuthzRule.Create().SetPtype(authz.PTypeBinding).
					SetV0(fmt.Sprintf("user:%d", subject)).SetV1("role:"+r).SetV2(dom))
				if len(batch) == 500 {
					if err := c.AuthzRule.CreateBulk(batch...).Exec(ctx); err != nil {
						return err
					}
					batch = batch[:0]
				}
			}
		}
		return c.AuthzRule.CreateBulk(batch...).Exec(ctx)
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := core.Authz.Reload(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAuthorizationOverhead measures what authentication (JWT),
// authorization (casbin, 1,002 tenants × 12 roles of bindings) and tenant
// scoping cost per request: GetTenant served in-process through the HTTP
// router by the full middleware chain, by the chain without access control
// (a fixed viewer instead), and with no middleware at all (a fixed viewer
// only) — all in one run, on PostgreSQL under row-level security and on
// SQLite.
func BenchmarkAuthorizationOverhead(b *testing.B) {
	b.Run("postgres", func(b *testing.B) { benchOverhead(b, testdb.Postgres(b)) })
	b.Run("sqlite", func(b *testing.B) { benchOverhead(b, testdb.SQLite(b)) })
}

func benchOverhead(b *testing.B, db *database.DB) {
	core := newCore(b, db)
	loadTenants(b, core.Tenants)
	bindRoles(b, core)
	sys := viewer.SystemContext(context.Background(), "benchmark")
	if _, err := core.Identity.Bootstrap(sys, "450126", "dispatcher", "派遣员", "Bench-Password-2026", []string{viewer.RoleDispatcher}); err != nil {
		b.Fatal(err)
	}
	tok, err := core.Identity.Login(context.Background(), loginInput("450126", "dispatcher", "Bench-Password-2026"))
	if err != nil {
		b.Fatal(err)
	}
	me, err := core.Tenants.Get(sys, "450126")
	if err != nil {
		b.Fatal(err)
	}
	static := &viewer.Viewer{Kind: viewer.User, ActorID: 1, TenantID: me.ID, TenantCode: me.Code, TenantPath: me.Path,
		HomeTenantID: me.ID, HomeTenantCode: me.Code, Roles: []string{viewer.RoleDispatcher}}
	build := func(o platform.Options) http.Handler {
		bc, err := conf.Load("", []string{"CITYOPS_SEED_DIR=", "CITYOPS_DEMO_ACCOUNTS=false",
			"CITYOPS_API_RATE=1000000000", "CITYOPS_API_BURST=1000000000"})
		if err != nil {
			b.Fatal(err)
		}
		o.Core, o.Logger = core, log.NewStdLogger(io.Discard)
		app, cleanup, err := platform.New(context.Background(), bc, o)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(cleanup)
		return app.HTTP
	}
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"full-chain", build(platform.Options{})},
		{"chain-without-access-control", build(platform.Options{StaticViewer: static})},
		{"no-middleware", build(platform.Options{DisableMiddleware: true, StaticViewer: static})},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/v1/tenants/450126", nil)
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body.String())
				}
			}
		})
	}
}

func loginInput(code, login, password string) identity.LoginInput {
	return identity.LoginInput{TenantCode: code, Login: login, Password: password, ClientAddr: "127.0.0.1"}
}
