package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/cityops/cityops/app/pkg/viewer"
	taxonomybiz "github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	taxonomydata "github.com/cityops/cityops/app/platform/internal/data/taxonomy"
)

// TaxonomyImportResult says what a taxonomy import did.
type TaxonomyImportResult = taxonomybiz.ImportResult

// TaxonomyExport is an exported classification table.
type TaxonomyExport = taxonomybiz.ExportResult

// TaxonomyProblems are the bad rows of an import file; an IMPORT_REJECTED
// error carries them (errors.As).
type TaxonomyProblems = taxonomybiz.Problems

// Taxonomy schemes cityctl seeds.
const (
	TaxonomySchemeGB47678 = taxonomybiz.SchemeGB47678
	TaxonomySchemeCJT214  = taxonomybiz.SchemeCJT214
)

// TaxonomyImportOptions are the switches of an import.
type TaxonomyImportOptions struct {
	// DefaultKind (component or event) is the kind of every row of a file
	// without a 类别 column.
	DefaultKind string
	// SkipBad imports the good rows and reports the bad ones.
	SkipBad bool
	// DryRun checks the file and writes nothing.
	DryRun bool
}

// taxonomy builds the taxonomy use cases over the admin's database, like
// audit does: they hold no state worth keeping beyond the parsed
// reference data.
func (a *Admin) taxonomy() (*taxonomybiz.Usecase, error) {
	return taxonomybiz.NewUsecase(taxonomydata.NewRepo(a.db.Ent), a.tenants(), a.db)
}

// SeedTaxonomy copies a national scheme into a tenant's taxonomy (version
// 1, or N+1 when the tenant follows the other scheme; re-seeding the same
// scheme only adds what is missing) and returns the classes created and
// the tenant's current version.
func (a *Admin) SeedTaxonomy(ctx context.Context, code, scheme string) (created, version int, err error) {
	uc, err := a.taxonomy()
	if err != nil {
		return 0, 0, err
	}
	ctx = viewer.SystemContext(ctx, "cityctl taxonomy seed")
	t, err := a.tenants().Get(ctx, code)
	if err != nil {
		return 0, 0, err
	}
	if created, err = uc.Seed(ctx, t.ID, scheme); err != nil {
		return 0, 0, err
	}
	l, err := uc.ListClasses(ctx, code, taxonomybiz.Filter{Kind: taxonomybiz.Component, Level: taxonomybiz.Major})
	if err != nil {
		return created, 0, err
	}
	version = l.Version.Number
	if created > 0 {
		err = a.AppendAudit(ctx, AuditEntry{At: time.Now(), TenantID: t.ID, TenantCode: t.Code, Actor: "system",
			ActorName: "cityctl taxonomy seed", Operation: "cityctl.taxonomy.seed", Target: fmt.Sprintf("taxonomy/v%d", version),
			Outcome: "ok", Detail: fmt.Sprintf("scheme=%s created=%d", scheme, created)})
	}
	return created, version, err
}

// ImportTaxonomy imports a classification table (CSV or XLSX; format ""
// detects) into a tenant's taxonomy as a new version. A file with bad rows
// is rejected with IMPORT_REJECTED carrying TaxonomyProblems, unless
// SkipBad.
func (a *Admin) ImportTaxonomy(ctx context.Context, code string, data []byte, format string, o TaxonomyImportOptions) (*TaxonomyImportResult, error) {
	uc, err := a.taxonomy()
	if err != nil {
		return nil, err
	}
	ctx = viewer.SystemContext(ctx, "cityctl taxonomy import")
	res, err := uc.Import(ctx, code, taxonomybiz.ImportInput{Data: data, Format: taxonomybiz.Format(format),
		DefaultKind: taxonomybiz.Kind(o.DefaultKind), SkipBad: o.SkipBad, ValidateOnly: o.DryRun})
	if err != nil || o.DryRun || res.Unchanged {
		return res, err
	}
	return res, a.AppendAudit(ctx, AuditEntry{At: time.Now(), TenantCode: code, Actor: "system",
		ActorName: "cityctl taxonomy import", Operation: "cityctl.taxonomy.import", Target: fmt.Sprintf("taxonomy/v%d", res.Version),
		Outcome: "ok", Detail: fmt.Sprintf("classes=%d conditions=%d skipped=%d", res.Classes, res.Conditions, len(res.Problems))})
}

// ExportTaxonomy writes a tenant's current taxonomy as a classification
// table (format csv or xlsx); kind "" exports both kinds.
func (a *Admin) ExportTaxonomy(ctx context.Context, code, format, kind string) (*TaxonomyExport, error) {
	uc, err := a.taxonomy()
	if err != nil {
		return nil, err
	}
	return uc.Export(viewer.SystemContext(ctx, "cityctl taxonomy export"), code,
		taxonomybiz.ExportInput{Format: taxonomybiz.Format(format), Kind: taxonomybiz.Kind(kind)})
}
