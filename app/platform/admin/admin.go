// Package admin exposes the platform's administrative operations —
// migrations, tenant onboarding, the tenant tree, the audit trail, key
// rotation — to cityctl, built from the same configuration and use cases as
// the platform itself.
package admin

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/onboarding"
	tenantbiz "github.com/cityops/cityops/app/platform/internal/biz/tenant"
	"github.com/cityops/cityops/app/platform/internal/conf"
	"github.com/cityops/cityops/app/platform/internal/platform"
	"github.com/cityops/cityops/ent/migrations"
)

// Step is one onboarded tenant, reported for progress output.
type Step = onboarding.Step

// Summary counts what an onboarding changed.
type Summary = onboarding.Summary

// Credential is an account whose generated password must be shown once.
type Credential = onboarding.Credential

// TreeNode is a tenant with its children.
type TreeNode = tenantbiz.TreeNode

// Admin holds an open database; the use cases over it (which need the
// secret store and a migrated schema) are built on first use, so that
// `cityctl migrate` works on an empty database.
type Admin struct {
	bc   *conf.Bootstrap
	db   *database.DB
	core *platform.Core
	sm   secrets.Manager
	// Driver is the database driver in use ("sqlite" or "postgres").
	Driver string
}

// Open reads the platform configuration (path, or the embedded defaults
// when empty, with CITYOPS_*/VAULT_* overrides from environ) and opens its
// database.
func Open(ctx context.Context, path string, environ []string) (*Admin, func(), error) {
	bc, err := conf.Load(path, environ)
	if err != nil {
		return nil, nil, err
	}
	sm, err := secrets.Open(ctx, platform.SecretsConfig(bc))
	if err != nil {
		return nil, nil, err
	}
	cfg, err := platform.ResolvedDatabaseConfig(ctx, bc, sm)
	if err != nil {
		_ = sm.Close()
		return nil, nil, err
	}
	db, closeDB, err := database.Open(ctx, cfg)
	if err != nil {
		_ = sm.Close()
		return nil, nil, err
	}
	a := &Admin{bc: bc, db: db, sm: sm, Driver: cfg.Driver}
	return a, func() {
		if a.core != nil {
			a.core.Close()
		}
		_ = sm.Close()
		closeDB()
	}, nil
}

// use builds the use cases on first call.
func (a *Admin) use(ctx context.Context) (*platform.Core, error) {
	if a.core != nil {
		return a.core, nil
	}
	o := platform.CoreOptionsFrom(a.bc, log.NewStdLogger(io.Discard))
	core, err := platform.NewCore(ctx, a.db, a.sm, o)
	if err != nil {
		return nil, err
	}
	a.core = core
	return core, nil
}

// Migrate applies pending migrations and returns the versions before and
// after. With grantRole set (PostgreSQL), it then grants that application
// role the privileges it needs and no more (it cannot bypass row-level
// security, nor change the audit trail).
func (a *Admin) Migrate(ctx context.Context, grantRole string) (from, to int64, err error) {
	from, _, err = migrations.Status(ctx, a.db.SQL, a.db.Dialect)
	if err != nil {
		return 0, 0, err
	}
	if err := migrations.Apply(ctx, a.db.SQL, a.db.Dialect); err != nil {
		return from, from, err
	}
	to, _, err = migrations.Status(ctx, a.db.SQL, a.db.Dialect)
	if err != nil {
		return from, to, err
	}
	if grantRole != "" {
		if err := database.GrantApp(ctx, a.db.SQL, grantRole); err != nil {
			return from, to, err
		}
	}
	if from != to || grantRole != "" {
		detail := fmt.Sprintf("from=%d to=%d", from, to)
		if grantRole != "" {
			detail += " grant_app=" + grantRole
		}
		err = a.AppendAudit(ctx, AuditEntry{At: time.Now(), Actor: "system", ActorName: "cityctl migrate",
			Operation: "cityctl.migrate", Target: a.Driver, Outcome: "ok", Detail: detail})
	}
	return from, to, err
}

// MigrationStatus returns the applied and the latest known version.
func (a *Admin) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	return migrations.Status(ctx, a.db.SQL, a.db.Dialect)
}

// Onboard validates the manifests under path (one tenant directory, or a
// directory of them) and applies them in one transaction, creating each
// tenant's first administrator. Validation problems come back as
// manifest.Problems, and nothing is written.
func (a *Admin) Onboard(ctx context.Context, path string, progress func(Step)) (Summary, error) {
	core, err := a.use(ctx)
	if err != nil {
		return Summary{}, err
	}
	return core.OnboardDir(viewer.SystemContext(ctx, "cityctl tenant onboard"), path, progress)
}

// Tree returns the tenant subtree rooted at code.
func (a *Admin) Tree(ctx context.Context, code string) (*TreeNode, error) {
	core, err := a.use(ctx)
	if err != nil {
		return nil, err
	}
	return core.Tenants.Tree(viewer.SystemContext(ctx, "cityctl tenant tree"), code, 0)
}

// RotateSigningKey adds a new access-token signing key; tokens signed by
// the previous key stay valid until they expire, so nobody is logged out.
func (a *Admin) RotateSigningKey(ctx context.Context) (string, error) {
	core, err := a.use(ctx)
	if err != nil {
		return "", err
	}
	kid, err := core.Keys.Rotate(ctx)
	if err != nil {
		return "", err
	}
	return kid, a.AppendAudit(ctx, AuditEntry{At: time.Now(), Actor: "system", ActorName: "cityctl auth rotate-key",
		Operation: "cityctl.auth.rotate_key", Target: "kid=" + kid, Outcome: "ok"})
}
