// Package admin exposes the platform's administrative operations —
// migrations, tenant onboarding, the tenant tree — to cityctl, built from the
// same configuration and use cases as the platform itself.
package admin

import (
	"context"

	"github.com/cityops/cityops/app/pkg/database"
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

// TreeNode is a tenant with its children.
type TreeNode = tenantbiz.TreeNode

// Admin holds an open database and the use cases over it.
type Admin struct {
	core *platform.Core
	// Driver is the database driver in use ("sqlite" or "postgres").
	Driver string
}

// Open reads the platform configuration (path, or the embedded defaults
// when empty, with CITYOPS_* overrides from environ) and opens its database.
func Open(ctx context.Context, path string, environ []string) (*Admin, func(), error) {
	bc, err := conf.Load(path, environ)
	if err != nil {
		return nil, nil, err
	}
	cfg := platform.DatabaseConfig(bc)
	db, closeDB, err := database.Open(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return &Admin{core: platform.NewCore(db), Driver: cfg.Driver}, closeDB, nil
}

// Migrate applies pending migrations and returns the versions before and
// after.
func (a *Admin) Migrate(ctx context.Context) (from, to int64, err error) {
	db := a.core.DB
	from, _, err = migrations.Status(ctx, db.SQL, db.Dialect)
	if err != nil {
		return 0, 0, err
	}
	if err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
		return from, from, err
	}
	to, _, err = migrations.Status(ctx, db.SQL, db.Dialect)
	return from, to, err
}

// MigrationStatus returns the applied and the latest known version.
func (a *Admin) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	return migrations.Status(ctx, a.core.DB.SQL, a.core.DB.Dialect)
}

// Onboard validates the manifests under path (one tenant directory, or a
// directory of them) and applies them in one transaction. Validation
// problems come back as manifest.Problems, and nothing is written.
func (a *Admin) Onboard(ctx context.Context, path string, progress func(Step)) (Summary, error) {
	return a.core.OnboardDir(viewer.SystemContext(ctx, "cityctl tenant onboard"), path, progress)
}

// Tree returns the tenant subtree rooted at code.
func (a *Admin) Tree(ctx context.Context, code string) (*TreeNode, error) {
	return a.core.Tenants.Tree(viewer.SystemContext(ctx, "cityctl tenant tree"), code, 0)
}
