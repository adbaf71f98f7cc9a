package admin

import (
	"context"
	tenantbiz "github.com/cityops/cityops/app/platform/internal/biz/tenant"
	tenantdata "github.com/cityops/cityops/app/platform/internal/data/tenant"

	"github.com/cityops/cityops/app/pkg/viewer"
	auditbiz "github.com/cityops/cityops/app/platform/internal/biz/audit"
	auditdata "github.com/cityops/cityops/app/platform/internal/data/audit"
)

// AuditReport is the result of verifying one audit chain.
type AuditReport = auditbiz.Report

// AuditProblem is one inconsistency found in an audit chain.
type AuditProblem = auditbiz.Problem

// AuditEntry is one audited write.
type AuditEntry = auditbiz.Entry

// Audit problem kinds, for callers that phrase reports themselves.
const (
	AuditAltered      = auditbiz.KindAltered
	AuditGap          = auditbiz.KindGap
	AuditBrokenLink   = auditbiz.KindBrokenLink
	AuditTailMismatch = auditbiz.KindTailMismatch
	AuditUnheaded     = auditbiz.KindUnheaded
)

// AuditMaxProblems is the most problems a report lists.
const AuditMaxProblems = auditbiz.MaxProblems

// AuditPlatformChain names the chain of entries that belong to no tenant.
const AuditPlatformChain = auditbiz.PlatformChain

// audit builds the audit use cases over the admin's database; they hold
// no state, so building them per call costs nothing worth keeping.
func (a *Admin) audit() *auditbiz.Usecase {
	return auditbiz.NewUsecase(auditdata.NewRepo(a.db), a.db)
}

// tenants is the tenant use case over the admin's database (no secret store
// needed to read the registry).
func (a *Admin) tenants() *tenantbiz.Usecase {
	return tenantbiz.NewUsecase(tenantdata.NewTenantRepo(a.db.Ent), tenantdata.NewDepartmentRepo(a.db.Ent), a.db)
}

// VerifyAudit verifies the audit chain of a tenant (by its code) or the
// platform chain (AuditPlatformChain). A tenant code that names no tenant
// answers TENANT_NOT_FOUND rather than an empty, "valid" chain, so a typo
// cannot pass for a verified trail.
func (a *Admin) VerifyAudit(ctx context.Context, chain string) (AuditReport, error) {
	ctx = viewer.SystemContext(ctx, "cityctl audit verify")
	if chain != AuditPlatformChain {
		if _, err := a.tenants().Get(ctx, chain); err != nil {
			return AuditReport{}, err
		}
	}
	return a.audit().Verify(ctx, chain)
}

// AppendAudit records a system action of cityctl (an onboarding, a
// migration) in the audit trail. An entry naming a tenant by TenantCode
// alone gets the tenant's id looked up.
func (a *Admin) AppendAudit(ctx context.Context, e AuditEntry) error {
	ctx = viewer.SystemContext(ctx, "cityctl audit")
	if e.TenantID == 0 && e.TenantCode != "" {
		t, err := a.tenants().Get(ctx, e.TenantCode)
		if err != nil {
			return err
		}
		e.TenantID = t.ID
	}
	return a.audit().Append(ctx, e)
}
