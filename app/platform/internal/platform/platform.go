// Package platform wires the platform process from its configuration:
// storage, use cases, API services and servers. main and the end-to-end
// tests and benchmarks build the process the same way through it.
package platform

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/transport/grpc"
	"github.com/go-kratos/kratos/v2/transport/http"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	dispatchv1 "github.com/cityops/cityops/api/dispatch/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	registryv1 "github.com/cityops/cityops/api/registry/v1"
	supervisionv1 "github.com/cityops/cityops/api/supervision/v1"
	"github.com/cityops/cityops/app/pkg/apierr"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/evidence"
	"github.com/cityops/cityops/app/pkg/manifest"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/sample"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/audit"
	"github.com/cityops/cityops/app/platform/internal/biz/authz"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/component"
	"github.com/cityops/cityops/app/platform/internal/biz/connector"
	"github.com/cityops/cityops/app/platform/internal/biz/dispatch"
	fed "github.com/cityops/cityops/app/platform/internal/biz/federation"
	"github.com/cityops/cityops/app/platform/internal/biz/grid"
	"github.com/cityops/cityops/app/platform/internal/biz/identity"
	"github.com/cityops/cityops/app/platform/internal/biz/onboarding"
	"github.com/cityops/cityops/app/platform/internal/biz/supervision"
	"github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	tenantbiz "github.com/cityops/cityops/app/platform/internal/biz/tenant"
	"github.com/cityops/cityops/app/platform/internal/conf"
	auditdata "github.com/cityops/cityops/app/platform/internal/data/audit"
	authzdata "github.com/cityops/cityops/app/platform/internal/data/authz"
	caseflowdata "github.com/cityops/cityops/app/platform/internal/data/caseflow"
	componentdata "github.com/cityops/cityops/app/platform/internal/data/component"
	connectordata "github.com/cityops/cityops/app/platform/internal/data/connector"
	dispatchdata "github.com/cityops/cityops/app/platform/internal/data/dispatch"
	feddata "github.com/cityops/cityops/app/platform/internal/data/federation"
	griddata "github.com/cityops/cityops/app/platform/internal/data/grid"
	identitydata "github.com/cityops/cityops/app/platform/internal/data/identity"
	supervisiondata "github.com/cityops/cityops/app/platform/internal/data/supervision"
	taxonomydata "github.com/cityops/cityops/app/platform/internal/data/taxonomy"
	tenantdata "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/app/platform/internal/open311"
	"github.com/cityops/cityops/app/platform/internal/server"
	"github.com/cityops/cityops/app/platform/internal/service"
	"github.com/cityops/cityops/app/relay"
	"github.com/cityops/cityops/ent/migrations"
)

// Core is the storage, the secret store and the use cases, without any
// server: what the platform serves and what cityctl administers.
type Core struct {
	DB         *database.DB
	Secrets    secrets.Manager
	Tenants    *tenantbiz.Usecase
	Onboarding *onboarding.Usecase
	Authz      *authz.Authorizer
	Keys       *identity.Keyring
	Identity   *identity.Usecase
	Audit      *audit.Usecase
	Accounts   *onboarding.Accounts
	Taxonomy   *taxonomy.Usecase
	Grids      *grid.Usecase
	Locator    *grid.Locator
	Components *component.Usecase
	Cases      *caseflow.Usecase
	Dispatch   *dispatch.Usecase
	// Supervision is 督办 and the inbox; Scheduler chases overdue cases
	// (nil when the configuration turns it off for this process).
	Supervision *supervision.Usecase
	Scheduler   *supervision.Scheduler
	// Federation applies what children and parents send; Oversight is the
	// overseer's view of descendants; Connectors manages the Kafka links.
	Federation *fed.Engine
	Oversight  *fed.Oversight
	Connectors *connector.Usecase

	fedStore fed.Store
	dialer   *relay.Dialer
	kick     *kicker
	// Evidence stores case attachments; nil when no store is configured
	// (attachment keys are then taken as given).
	Evidence *evidence.Store

	stop []func()
}

// CoreOptions tune NewCore.
type CoreOptions struct {
	Logger         log.Logger
	AccessTTL      time.Duration
	RefreshTTL     time.Duration
	ReloadInterval time.Duration
	// Argon2 overrides the password hashing cost (tests use a cheap one).
	Argon2 *identity.Argon2Params
	// Supervision tunes the 督办 scheduler; SchedulerOff keeps it from
	// running in this process (cityctl, tests that drive ticks by hand).
	Supervision  supervision.Config
	SchedulerOff bool
	// CaseLoop tunes the case loop (clock pauses, photos, duplicates).
	CaseLoop CaseLoopOptions
	// EvidenceURL is the bucket of case attachments ("" for none).
	EvidenceURL string
	Evidence    evidence.Config
}

// NewCore builds the use cases over an open database and secret store,
// seeds the authorization policy of record and loads the token keys.
func NewCore(ctx context.Context, db *database.DB, sm secrets.Manager, o CoreOptions) (*Core, error) {
	if o.Logger == nil {
		o.Logger = log.DefaultLogger
	}
	tenants := tenantbiz.NewUsecase(
		tenantdata.NewTenantRepo(db.Ent),
		tenantdata.NewDepartmentRepo(db.Ent),
		db,
	)
	az, err := authz.New(ctx, authzdata.NewRepo(db.Ent), authz.Options{PollInterval: o.ReloadInterval, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	if err := az.Seed(viewer.SystemContext(ctx, "seed authorization policy")); err != nil {
		return nil, err
	}
	keys, err := identity.NewKeyring(sm, identity.KeyringConfig{AccessTTL: o.AccessTTL})
	if err != nil {
		return nil, err
	}
	if err := keys.Load(ctx); err != nil {
		return nil, err
	}
	icfg := identity.Config{RefreshTTL: o.RefreshTTL, Logger: o.Logger}
	if o.Argon2 != nil {
		icfg.Argon2 = *o.Argon2
	}
	id, err := identity.NewUsecase(identitydata.NewRepos(db.Ent), az, keys, db, icfg)
	if err != nil {
		return nil, err
	}
	tax, err := taxonomy.NewUsecase(taxonomydata.NewRepo(db.Ent), tenants, db)
	if err != nil {
		return nil, err
	}
	gridRepo := griddata.NewRepo(db.Ent)
	locator, stopLocator := grid.NewLocator(gridRepo, grid.Config{})
	grids := grid.NewUsecase(gridRepo, db, locator, grid.Config{})
	gridExists := component.GridCheckerFunc(func(ctx context.Context, tenantID int, code string) (bool, error) {
		g, err := gridRepo.UnitGridAt(ctx, tenantID, code, nil)
		if err != nil {
			if registryv1.IsGridNotFound(err) {
				return false, nil
			}
			return false, err
		}
		return g != nil, nil
	})
	components := component.NewUsecase(componentdata.NewRepo(db), componentdata.NewJobRepo(db), tenants,
		componentdata.NewClassChecker(db), gridExists, db, component.Config{})
	var store *evidence.Store
	var evidenceCheck caseflow.Evidence
	if o.EvidenceURL != "" {
		if store, err = evidence.Open(ctx, o.EvidenceURL, o.Evidence); err != nil {
			return nil, fmt.Errorf("evidence store: %w", err)
		}
		evidenceCheck = caseEvidence{store}
	}
	dispatcher := dispatch.NewUsecase(dispatchdata.NewRepo(db), dispatchdata.NewDepartments(db),
		componentdata.NewRepo(db), tenants, db, dispatch.Config{})
	cases := caseflow.NewUsecase(caseflowdata.NewRepo(db.Ent), caseflowdata.NewEventLogOn(db),
		caseflowdata.NewDepartments(db.Ent), db, caseflow.Config{
			Deadlines:        &caseflow.WorkingDeadlines{Limits: taxonomyLimits{tax}},
			Locator:          caseLocator{locator},
			Classes:          newCaseClasses(tax),
			Components:       caseComponents{components},
			Evidence:         evidenceCheck,
			Dispatcher:       dispatcher,
			FeedbackPhotos:   func(string, string) bool { return !o.CaseLoop.NoFeedbackPhoto },
			PauseForApproval: o.CaseLoop.pauses(),
			DuplicateRadiusM: o.CaseLoop.DuplicateRadiusM,
			DuplicateWindow:  o.CaseLoop.DuplicateWindow,
		})
	sdeps := supervision.Deps{Cases: cases, Repo: supervisiondata.NewRepo(db), Leases: supervisiondata.NewLeaseRepo(db), Tenants: tenants, Tx: db}
	if o.Supervision.Logger == nil {
		o.Supervision.Logger = o.Logger
	}
	var sched *supervision.Scheduler
	if !o.SchedulerOff {
		if sched, err = supervision.NewScheduler(sdeps, o.Supervision); err != nil {
			return nil, err
		}
	}
	fedStore := feddata.NewStore(db.Ent)
	fedEvents := caseflowdata.NewEventLogOn(db)
	supervisionUC := supervision.NewUsecase(sdeps, o.Supervision)
	engine, err := fed.NewEngine(fed.Deps{Store: fedStore, Tenants: tenantdata.NewTenantRepo(db.Ent), Signer: sm,
		Peers: feddata.NewPeerKeys(db.Ent), Tx: db, Events: fedEvents, Cases: cases, Supervisor: supervisionUC},
		fed.EngineConfig{KeyName: SigningKeyName, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	kick := &kicker{}
	dialer := &relay.Dialer{Secrets: sm}
	c := &Core{
		DB: db, Secrets: sm, Tenants: tenants, Onboarding: onboarding.NewUsecase(tenants),
		Authz: az, Keys: keys, Identity: id,
		Audit:    audit.NewUsecase(auditdata.NewRepo(db), db),
		Taxonomy: tax, Grids: grids, Locator: locator, Components: components, Cases: cases, Evidence: store, Dispatch: dispatcher,
		Supervision: supervisionUC, Scheduler: sched,
		Federation: engine, fedStore: fedStore, dialer: dialer, kick: kick,
		Oversight: fed.NewOversight(fed.OversightDeps{Store: fedStore, Tenants: tenantdata.NewTenantRepo(db.Ent), Tx: db,
			Events: fedEvents, Kick: kick.Kick}, fed.OversightConfig{}),
		Connectors: connector.NewUsecase(connectordata.NewRepo(db), tenants, db, connectordata.NewPublisher(dialer), nil, connector.Config{}),
		stop:       []func(){stopLocator},
	}
	c.Connectors.SetInboundReplayer(inboundReplayer{engine})
	c.Accounts = &onboarding.Accounts{
		Create: func(ctx context.Context, t *tenantbiz.Tenant, login, name, pw string, roles []string) (bool, error) {
			return id.Bootstrap(ctx, t.Code, login, name, pw, roles)
		},
		Secrets: sm, NotFound: secrets.ErrNotFound, Tenants: tenants,
	}
	return c, nil
}

// Close stops the background work of the use cases.
func (c *Core) Close() {
	for _, f := range c.stop {
		f()
	}
	if c.Evidence != nil {
		_ = c.Evidence.Close()
	}
	c.Identity.Close()
}

// Run keeps the authorization policy and the token keys in step with
// other replicas until ctx ends.
func (c *Core) Run(ctx context.Context) {
	go c.Authz.Run(ctx)
	go func() { _ = c.Keys.Run(ctx) }()
	go func() { _ = c.Locator.Run(ctx) }()
	if c.Scheduler != nil {
		go func() { _ = c.Scheduler.Run(ctx) }()
	}
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
// a directory of tenant directories (applied parent-first), and creates
// each tenant's first administrator, all in one transaction.
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
	var sum onboarding.Summary
	var steps []onboarding.Step
	err := c.DB.InTx(ctx, func(ctx context.Context) error {
		steps = steps[:0]
		var err error
		if sum, err = c.Onboarding.Apply(ctx, ts, func(s onboarding.Step) { steps = append(steps, s) }); err != nil {
			return err
		}
		if sum.Admins, err = c.Accounts.EnsureAdmins(ctx, ts); err != nil {
			return err
		}
		// Cities and counties run cases: they start from the national 2026
		// taxonomy (a tenant may re-seed the legacy scheme or import its
		// own table later); seeding an existing taxonomy changes nothing.
		for _, s := range steps {
			t := s.Result.Tenant
			if t.Level != region.City && t.Level != region.County {
				continue
			}
			if _, err := c.Taxonomy.Seed(ctx, t.ID, taxonomy.SchemeGB47678); err != nil {
				return fmt.Errorf("taxonomy of tenant %s: %w", t.Code, err)
			}
		}
		// Each tenant signs its outbound events with its own Ed25519 key,
		// held by the signer (Vault Transit in production); creating an
		// existing key changes nothing.
		for _, m := range ts {
			if err := c.Secrets.CreateKey(ctx, SigningKeyName(m.Code)); err != nil {
				return fmt.Errorf("signing key of tenant %s: %w", m.Code, err)
			}
		}
		// The onboarding is a system action: each tenant's trail records it
		// in the same transaction as the change.
		for _, s := range steps {
			if !s.Result.Created && !s.Result.Updated && s.Result.DepartmentsCreated+s.Result.DepartmentsUpdated == 0 {
				continue
			}
			t := s.Result.Tenant
			if err := c.Audit.Append(ctx, audit.Entry{
				TenantID: t.ID, TenantCode: t.Code, At: time.Now(), Actor: "system", ActorName: systemReason(ctx),
				Operation: "onboarding.apply", Target: "tenant=" + t.Code + " dir=" + s.Tenant.Dir, Outcome: "ok",
				Detail: fmt.Sprintf("created=%t updated=%t departments_created=%d departments_updated=%d",
					s.Result.Created, s.Result.Updated, s.Result.DepartmentsCreated, s.Result.DepartmentsUpdated),
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return onboarding.Summary{}, err
	}
	// Progress is reported after the commit, so it never claims a change
	// that was rolled back.
	if progress != nil {
		for _, s := range steps {
			progress(s)
		}
	}
	return sum, nil
}

// LoadSampleTerritory generates a sample territory for a demo tenant that
// has no grids yet (unit grids, patrol and responsibility grids,
// components) and loads it through the same imports as a city's own
// files. A tenant that has grids is left alone.
func (c *Core) LoadSampleTerritory(ctx context.Context, code string, cells, components int) error {
	if cells <= 0 {
		return nil
	}
	t, err := c.Tenants.Get(ctx, code)
	if err != nil {
		return err
	}
	rev, err := c.Grids.Revision(ctx, t)
	if err != nil || rev > 0 {
		return err
	}
	terr, err := sample.Generate(sample.Options{Seed: 2026, Cells: cells, Districts: sample.DefaultDistricts(code), PatrolGrids: max(1, cells/320), Departments: sample.DefaultDepartments(code)})
	if err != nil {
		return err
	}
	var gj bytes.Buffer
	if err := terr.WriteGrids(&gj); err != nil {
		return err
	}
	if _, err := c.Grids.Import(ctx, grid.ImportInput{Tenant: t, Source: &gj}); err != nil {
		return err
	}
	if components <= 0 {
		return nil
	}
	var csvBuf bytes.Buffer
	if err := terr.WriteComponents(&csvBuf, 2026, components); err != nil {
		return err
	}
	_, err = c.Components.Import(ctx, component.ImportInput{
		TenantCode: code, Name: "sample-components.csv", Format: component.FormatCSV,
		Source: bytes.NewReader(csvBuf.Bytes()), Size: int64(csvBuf.Len()),
	})
	return err
}

// SigningKeyName is the name of a tenant's event signing key in the
// signer ("tenant-450126"; Vault Transit key cityops-tenant-450126).
func SigningKeyName(code string) string { return "tenant-" + code }

// systemReason is why the system viewer of ctx acts ("cityctl tenant onboard").
func systemReason(ctx context.Context) string {
	if v, ok := viewer.FromContext(ctx); ok {
		return v.Reason
	}
	return ""
}

// SecretsConfig converts the configuration's secret store section.
func SecretsConfig(bc *conf.Bootstrap) secrets.Config {
	s := bc.GetSecurity().GetSecrets()
	return secrets.Config{
		Backend: s.GetBackend(), LocalPath: s.GetLocalPath(),
		Vault: secrets.VaultConfig{
			Address: s.GetVaultAddress(), Token: s.GetVaultToken(),
			KVMount: s.GetVaultKvMount(), TransitMount: s.GetVaultTransitMount(),
			AppRole: appRole(s.GetVaultRoleId(), s.GetVaultSecretId()),
		},
	}
}

func appRole(roleID, secretID string) *secrets.AppRoleAuth {
	if roleID == "" {
		return nil
	}
	return &secrets.AppRoleAuth{RoleID: roleID, SecretID: secretID}
}

// CoreOptionsFrom reads the use-case settings of the configuration.
func CoreOptionsFrom(bc *conf.Bootstrap, logger log.Logger) CoreOptions {
	sec := bc.GetSecurity()
	return CoreOptions{
		Logger: logger, AccessTTL: sec.GetAccessTokenTtl().AsDuration(),
		RefreshTTL: sec.GetRefreshTokenTtl().AsDuration(), ReloadInterval: sec.GetReloadInterval().AsDuration(),
		EvidenceURL:  bc.GetData().GetEvidence().GetUrl(),
		SchedulerOff: !bc.GetSupervision().GetEnabled(),
		CaseLoop: CaseLoopOptions{
			PauseForApproval: splitCodes(bc.GetCaseLoop().GetPauseForApproval()),
			NoFeedbackPhoto:  !bc.GetCaseLoop().GetFeedbackPhotoRequired(),
			DuplicateRadiusM: bc.GetCaseLoop().GetDuplicateRadiusM(), DuplicateWindow: bc.GetCaseLoop().GetDuplicateWindow().AsDuration(),
		},
		Supervision: supervision.Config{
			Interval: bc.GetSupervision().GetInterval().AsDuration(), RemindBefore: bc.GetSupervision().GetRemindBefore().AsDuration(),
			SuperviseAfter: bc.GetSupervision().GetSuperviseAfter().AsDuration(), SuperviseFor: bc.GetSupervision().GetSuperviseFor().AsDuration(),
		},
		Evidence: evidence.Config{
			MaxBytes: bc.GetData().GetEvidence().GetMaxBytes(), MismatchMeters: bc.GetData().GetEvidence().GetMismatchMeters(),
		},
	}
}

// Open opens the configured database (migrating it when configured to)
// and secret store, and builds the core over them.
func Open(ctx context.Context, bc *conf.Bootstrap, o CoreOptions) (*Core, func(), error) {
	sm, err := secrets.Open(ctx, SecretsConfig(bc))
	if err != nil {
		return nil, nil, err
	}
	dbc, err := ResolvedDatabaseConfig(ctx, bc, sm)
	if err != nil {
		_ = sm.Close()
		return nil, nil, err
	}
	db, closeDB, err := database.Open(ctx, dbc)
	if err != nil {
		_ = sm.Close()
		return nil, nil, err
	}
	if bc.GetData().GetDatabase().GetMigrateOnStart() {
		if err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
			_ = sm.Close()
			closeDB()
			return nil, nil, err
		}
	}
	core, err := NewCore(ctx, db, sm, o)
	if err != nil {
		_ = sm.Close()
		closeDB()
		return nil, nil, err
	}
	return core, func() { core.Close(); _ = sm.Close(); closeDB() }, nil
}

// ResolvedDatabaseConfig is DatabaseConfig with a secret://… DSN looked up
// in the secret store, so no credential sits in a config file.
func ResolvedDatabaseConfig(ctx context.Context, bc *conf.Bootstrap, sm secrets.Store) (database.Config, error) {
	cfg := DatabaseConfig(bc)
	dsn, err := secrets.Resolve(ctx, sm, cfg.DSN)
	if err != nil {
		return cfg, fmt.Errorf("data.database.dsn: %w", err)
	}
	cfg.DSN = dsn
	return cfg, nil
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
	Access   *server.Access
	// Seeded is the summary of the first-start onboarding, nil when none ran.
	Seeded *onboarding.Summary
	// Demo lists the demo accounts (embedded mode), printed at start-up.
	Demo []onboarding.Credential
}

// Options tune New for tests and benchmarks.
type Options struct {
	Logger log.Logger
	Tracer trace.TracerProvider
	// DisableMiddleware serves without the middleware chain (benchmarks of
	// the framework's own ceiling).
	DisableMiddleware bool
	// Core, when set, is used instead of opening the configured database
	// and secret store; the caller keeps owning it (tests hand in theirs).
	Core *Core
	// StaticViewer replaces authentication and authorization (benchmarks
	// measuring their cost only).
	StaticViewer *viewer.Viewer
}

// New opens the database and secret store (unless given a core), onboards
// the seed manifests on first start, creates the demo accounts when
// configured, and builds the servers.
func New(ctx context.Context, bc *conf.Bootstrap, o Options) (*App, func(), error) {
	if o.Logger == nil {
		o.Logger = log.NewStdLogger(os.Stderr)
	}
	core, closeCore := o.Core, func() {}
	if core == nil {
		var err error
		core, closeCore, err = Open(ctx, bc, CoreOptionsFrom(bc, o.Logger))
		if err != nil {
			return nil, nil, err
		}
	}
	fail := func(err error) (*App, func(), error) {
		closeCore()
		return nil, nil, err
	}
	app := &App{Core: core, Registry: prometheus.NewRegistry()}
	sys := viewer.SystemContext(ctx, "first-start onboarding")
	if dir := bc.GetOnboarding().GetSeedDir(); dir != "" {
		n, err := core.Tenants.Count(sys)
		if err != nil {
			return fail(err)
		}
		if n == 0 {
			if _, err := os.Stat(dir); err == nil {
				sum, err := core.OnboardDir(sys, dir, nil)
				if err != nil {
					return fail(fmt.Errorf("onboard seed tenants from %s: %w", dir, err))
				}
				app.Seeded = &sum
			}
		}
	}
	if bc.GetOnboarding().GetDemoAccounts() {
		var demo []onboarding.Credential
		err := core.DB.InTx(sys, func(ctx context.Context) error {
			var err error
			demo, err = core.Accounts.EnsureDemoAccounts(ctx, bc.GetOnboarding().GetDemoTenants())
			return err
		})
		if err != nil {
			return fail(fmt.Errorf("demo accounts: %w", err))
		}
		app.Demo = demo
		o := bc.GetOnboarding()
		for _, code := range o.GetDemoTenants() {
			if err := core.LoadSampleTerritory(sys, code, int(o.GetDemoGridCells()), int(o.GetDemoComponents())); err != nil {
				return fail(fmt.Errorf("sample territory of %s: %w", code, err))
			}
		}
	}
	app.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(core.DB.SQL, "cityops"),
	)
	tp := o.Tracer
	if tp == nil {
		tp = trace.NewNoopTracerProvider()
	}
	timeout := bc.GetServer().GetHttp().GetTimeout().AsDuration()
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	sec := bc.GetSecurity()
	access := &server.Access{
		Authenticate: func(ctx context.Context, cred string) (*server.Principal, error) {
			p, err := core.Identity.Authenticate(ctx, cred)
			if err != nil {
				return nil, err
			}
			return &server.Principal{Kind: p.Kind, ID: p.ID, Name: p.Name, TenantID: p.TenantID,
				TenantCode: p.TenantCode, TenantPath: p.TenantPath, DepartmentID: p.DepartmentID, Subject: p.Subject}, nil
		},
		Authorizer: core.Authz, Tenants: core.Tenants, Auditor: core.Audit, Tx: core.DB,
		Limiter: server.NewRateLimiter(server.RateLimits{
			AddrPerSecond: sec.GetLoginRatePerSecond(), AddrBurst: int(sec.GetLoginBurst()),
			SubjectPerSecond: sec.GetApiRatePerSecond(), SubjectBurst: int(sec.GetApiBurst()),
		}),
	}
	if o.StaticViewer == nil {
		app.Access = access
	}
	localizer := apierr.NewLocalizer(registryv1.ErrorReasonMessage, caseflowv1.ErrorReasonMessage, dispatchv1.ErrorReasonMessage,
		supervisionv1.ErrorReasonMessage, federationv1.ErrorReasonMessage, federationv1.OversightErrorReasonMessage)
	hs, gs, err := server.New(server.Options{
		HTTPAddr: bc.GetServer().GetHttp().GetAddr(), GRPCAddr: bc.GetServer().GetGrpc().GetAddr(),
		Timeout: timeout, MaxBodyBytes: bc.GetServer().GetHttp().GetMaxBodyBytes(),
		Logger: o.Logger, Tracer: tp, Registry: app.Registry, Localizer: localizer,
		Ready: core.Ready, Disabled: o.DisableMiddleware, Access: app.Access, StaticViewer: o.StaticViewer,
	}, server.Services{
		Tenant:      service.NewTenantService(core.Tenants),
		Identity:    service.NewIdentityService(core.Identity),
		Audit:       service.NewAuditService(core.Audit),
		Taxonomy:    service.NewTaxonomyService(core.Taxonomy),
		Grid:        service.NewGridService(core.Tenants, core.Grids, core.Locator),
		Component:   service.NewComponentService(core.Components),
		Case:        service.NewCaseService(core.Cases),
		Attachment:  service.NewAttachmentService(core.Cases, core.Evidence),
		Dispatch:    service.NewDispatchService(core.Dispatch),
		Supervision: service.NewSupervisionService(core.Supervision),
		Connector:   service.NewConnectorService(core.Connectors),
		Oversight:   service.NewOversightService(core.Oversight),
	})
	if err != nil {
		return fail(err)
	}
	// Citizens (Open311 GeoReport v2) and the public case status page: plain
	// routes that check their api_key themselves.
	open311.Register(hs, open311.Deps{
		Tenants: core.Tenants, Taxonomy: core.Taxonomy, Cases: core.Cases, Identity: core.Identity, Roles: core.Authz,
		AllowAnonymous: func(code string) bool {
			return slices.Contains(splitCodes(bc.GetCaseLoop().GetAnonymousReports()), code)
		},
		Localizer: localizer, Logger: o.Logger,
	})
	app.HTTP, app.GRPC = hs, gs
	return app, closeCore, nil
}
