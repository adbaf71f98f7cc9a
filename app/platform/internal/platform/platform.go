// Package platform wires the platform process from its configuration:
// storage, use cases, API services and servers. main and the end-to-end
// tests and benchmarks build the process the same way through it.
package platform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/transport/grpc"
	"github.com/go-kratos/kratos/v2/transport/http"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"

	"github.com/cityops/cityops/app/pkg/apierr"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/manifest"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/onboarding"
	tenantbiz "github.com/cityops/cityops/app/platform/internal/biz/tenant"
	"github.com/cityops/cityops/app/platform/internal/conf"
	tenantdata "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/app/platform/internal/server"
	"github.com/cityops/cityops/app/platform/internal/service"
	"github.com/cityops/cityops/ent/migrations"
)

// Core is the storage and the use cases, without any server: what the
// platform serves and what cityctl administers.
type Core struct {
	DB         *database.DB
	Tenants    *tenantbiz.Usecase
	Onboarding *onboarding.Usecase
}

// NewCore builds the use cases over an open database.
func NewCore(db *database.DB) *Core {
	tenants := tenantbiz.NewUsecase(
		tenantdata.NewTenantRepo(db.Ent),
		tenantdata.NewDepartmentRepo(db.Ent),
		db,
	)
	return &Core{DB: db, Tenants: tenants, Onboarding: onboarding.NewUsecase(tenants)}
}

// Ready reports whether the platform can serve: the database answers and
// every migration the binary carries is applied.
func (c *Core) Ready(ctx context.Context) error {
	if err := c.DB.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	cur, latest, err := migrations.Status(ctx, c.DB.SQL, c.DB.Dialect)
	if err != nil {
		return fmt.Errorf("migration status: %w", err)
	}
	if cur != latest {
		return fmt.Errorf("migrations pending: database at %d, binary at %d (run cityctl migrate)", cur, latest)
	}
	return nil
}

// OnboardDir validates and applies the manifests at dir: one tenant
// directory (it holds tenant.yaml; its parent must be onboarded already) or
// a directory of tenant directories (applied parent-first).
func (c *Core) OnboardDir(ctx context.Context, dir string, progress func(onboarding.Step)) (onboarding.Summary, error) {
	known := c.Onboarding.KnownParent(ctx)
	var ts []*manifest.Tenant
	if _, err := os.Stat(filepath.Join(dir, manifest.TenantFile)); err == nil {
		t, err := manifest.LoadTenant(dir)
		if err != nil {
			return onboarding.Summary{}, err
		}
		var parent *region.Node
		if t.ParentCode != "" {
			p, ok := known(t.ParentCode)
			if !ok {
				pos := t.FieldPos("parent")
				return onboarding.Summary{}, manifest.Problems{pos.Problem("parent",
					"上级租户 "+t.ParentCode+" 尚未接入，请先接入上级（或接入整个目录 tenants/）",
					"parent tenant "+t.ParentCode+" is not onboarded yet; onboard it first (or the whole tenants/ directory)")}
			}
			parent = &p
		}
		if probs := manifest.CheckParent(t, parent); len(probs) > 0 {
			return onboarding.Summary{}, probs
		}
		ts = []*manifest.Tenant{t}
	} else {
		var err error
		if ts, err = manifest.LoadTree(dir, manifest.Options{KnownParent: known}); err != nil {
			return onboarding.Summary{}, err
		}
	}
	return c.Onboarding.Apply(ctx, ts, progress)
}

// DatabaseConfig converts the configuration's database section.
func DatabaseConfig(bc *conf.Bootstrap) database.Config {
	d := bc.GetData().GetDatabase()
	return database.Config{
		Driver:          d.GetDriver(),
		DSN:             d.GetDsn(),
		MaxOpenConns:    int(d.GetMaxOpenConns()),
		MaxIdleConns:    int(d.GetMaxIdleConns()),
		ConnMaxLifetime: d.GetConnMaxLifetime().AsDuration(),
	}
}

// App is the assembled process.
type App struct {
	Core     *Core
	HTTP     *http.Server
	GRPC     *grpc.Server
	Registry *prometheus.Registry
	// Seeded is the summary of the first-start onboarding, nil when none ran.
	Seeded *onboarding.Summary
}

// Options tune New for tests and benchmarks.
type Options struct {
	Logger log.Logger
	Tracer trace.TracerProvider
	// DisableMiddleware serves without the middleware chain (benchmarks of
	// the framework's own ceiling).
	DisableMiddleware bool
	// DB, when set, is used instead of opening the configured database; the
	// caller keeps owning it (tests hand in their private databases).
	DB *database.DB
}

// New opens the database, migrates it when configured to, onboards the
// seed manifests on first start, and builds the servers.
func New(ctx context.Context, bc *conf.Bootstrap, o Options) (*App, func(), error) {
	if o.Logger == nil {
		o.Logger = log.NewStdLogger(os.Stderr)
	}
	db, closeDB := o.DB, func() {}
	if db == nil {
		var err error
		db, closeDB, err = database.Open(ctx, DatabaseConfig(bc))
		if err != nil {
			return nil, nil, err
		}
	}
	fail := func(err error) (*App, func(), error) {
		closeDB()
		return nil, nil, err
	}
	if bc.GetData().GetDatabase().GetMigrateOnStart() {
		if err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
			return fail(err)
		}
	}
	core := NewCore(db)
	app := &App{Core: core, Registry: prometheus.NewRegistry()}
	if dir := bc.GetOnboarding().GetSeedDir(); dir != "" {
		ctx := viewer.SystemContext(ctx, "first-start onboarding")
		n, err := core.Tenants.Count(ctx)
		if err != nil {
			return fail(err)
		}
		if n == 0 {
			if _, err := os.Stat(dir); err == nil {
				sum, err := core.OnboardDir(ctx, dir, nil)
				if err != nil {
					return fail(fmt.Errorf("onboard seed tenants from %s: %w", dir, err))
				}
				app.Seeded = &sum
			}
		}
	}
	app.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQL, "cityops"),
	)
	tp := o.Tracer
	if tp == nil {
		tp = trace.NewNoopTracerProvider()
	}
	timeout := bc.GetServer().GetHttp().GetTimeout().AsDuration()
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	hs, gs, err := server.New(server.Options{
		HTTPAddr: bc.GetServer().GetHttp().GetAddr(), GRPCAddr: bc.GetServer().GetGrpc().GetAddr(),
		Timeout: timeout, MaxBodyBytes: bc.GetServer().GetHttp().GetMaxBodyBytes(),
		Logger: o.Logger, Tracer: tp, Registry: app.Registry, Localizer: apierr.NewLocalizer(),
		Ready: core.Ready, Disabled: o.DisableMiddleware,
	}, server.Services{Tenant: service.NewTenantService(core.Tenants), TenantUC: core.Tenants})
	if err != nil {
		return fail(err)
	}
	app.HTTP, app.GRPC = hs, gs
	return app, closeDB, nil
}
