// Package grid stores a tenant's regions, unit grids (with their version
// history), work grids and grid revision with ent, implementing the
// repository the grid use cases declare.
package grid

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/cityops/cityops/app/pkg/database"
	biz "github.com/cityops/cityops/app/platform/internal/biz/grid"
	"github.com/cityops/cityops/ent"
	entrev "github.com/cityops/cityops/ent/gridrevision"
	"github.com/cityops/cityops/ent/predicate"
	entregion "github.com/cityops/cityops/ent/region"
	entunit "github.com/cityops/cityops/ent/unitgrid"
	entwork "github.com/cityops/cityops/ent/workgrid"
)

// batchSize bounds the rows of one INSERT: a unit grid binds 17 values, so
// 500 rows stay well under SQLite's and PostgreSQL's bind-parameter limits.
const batchSize = 500

type repo struct{ client *ent.Client }

// NewRepo returns the ent-backed grid repository. Inside a transaction
// started by InTx it uses that transaction.
func NewRepo(client *ent.Client) biz.Repo { return &repo{client: client} }

var _ biz.Repo = (*repo)(nil)

func (r *repo) c(ctx context.Context) *ent.Client {
	return database.ClientFromContext(ctx, r.client)
}

func (r *repo) Revision(ctx context.Context, tenantID int) (int64, error) {
	row, err := r.c(ctx).GridRevision.Query().Where(entrev.TenantID(tenantID)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("grid revision: %w", err)
	}
	return row.Revision, nil
}

func (r *repo) BumpRevision(ctx context.Context, tenantID int, at time.Time) (int64, error) {
	c := r.c(ctx)
	n, err := c.GridRevision.Update().Where(entrev.TenantID(tenantID)).AddRevision(1).SetUpdatedAt(at).Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("bump grid revision: %w", err)
	}
	if n == 0 {
		row, err := c.GridRevision.Create().SetTenantID(tenantID).SetRevision(1).SetUpdatedAt(at).Save(ctx)
		if err != nil {
			return 0, fmt.Errorf("bump grid revision: %w", err)
		}
		return row.Revision, nil
	}
	return r.Revision(ctx, tenantID)
}

// LockRevision is the first statement of an import's transaction: on
// PostgreSQL the row lock it takes serializes concurrent imports of one
// tenant, so two of them cannot both open a new version of the same grid.
func (r *repo) LockRevision(ctx context.Context, tenantID int, at time.Time) error {
	c := r.c(ctx)
	n, err := c.GridRevision.Update().Where(entrev.TenantID(tenantID)).AddRevision(0).Save(ctx)
	if err != nil {
		return fmt.Errorf("lock grid revision: %w", err)
	}
	if n == 0 {
		if _, err := c.GridRevision.Create().SetTenantID(tenantID).SetRevision(0).SetUpdatedAt(at).Save(ctx); err != nil {
			return fmt.Errorf("lock grid revision: %w", err)
		}
	}
	return nil
}

func unitToBiz(g *ent.UnitGrid) *biz.UnitGrid {
	return &biz.UnitGrid{
		Code: g.Code, CommunityCode: g.CommunityCode, StreetCode: g.StreetCode,
		AreaClass: g.AreaClass, LandUse: g.LandUse, Responsible: g.Responsible, Geometry: g.Geometry,
		BBox:   biz.BBox{MinLon: g.MinLon, MinLat: g.MinLat, MaxLon: g.MaxLon, MaxLat: g.MaxLat},
		AreaM2: g.AreaM2, ValidFrom: g.ValidFrom, ValidTo: g.ValidTo,
	}
}

// unitColumns are the columns of a unit grid without its geometry, for
// listings that do not draw.
var unitColumns = []string{
	entunit.FieldID, entunit.FieldCode, entunit.FieldCommunityCode, entunit.FieldStreetCode,
	entunit.FieldAreaClass, entunit.FieldLandUse, entunit.FieldResponsible,
	entunit.FieldMinLon, entunit.FieldMinLat, entunit.FieldMaxLon, entunit.FieldMaxLat,
	entunit.FieldAreaM2, entunit.FieldValidFrom, entunit.FieldValidTo,
}

func (r *repo) CurrentUnitGrids(ctx context.Context, tenantID int, withGeometry bool) ([]*biz.UnitGrid, error) {
	return r.ListUnitGrids(ctx, tenantID, biz.UnitGridFilter{WithoutGeometry: !withGeometry})
}

func (r *repo) UnitGridAt(ctx context.Context, tenantID int, code string, at *time.Time) (*biz.UnitGrid, error) {
	q := r.c(ctx).UnitGrid.Query().Where(entunit.TenantID(tenantID), entunit.Code(code))
	if at == nil {
		q.Where(entunit.ValidToIsNil())
	} else {
		q.Where(entunit.ValidFromLTE(*at), entunit.Or(entunit.ValidToIsNil(), entunit.ValidToGT(*at)))
	}
	rows, err := q.Order(entunit.ByValidFrom(sql.OrderDesc())).Limit(1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("get unit grid: %w", err)
	}
	if len(rows) == 0 {
		return nil, biz.NotFound("unit_grid", code)
	}
	return unitToBiz(rows[0]), nil
}

func (r *repo) ListUnitGrids(ctx context.Context, tenantID int, f biz.UnitGridFilter) ([]*biz.UnitGrid, error) {
	ps := []predicate.UnitGrid{entunit.TenantID(tenantID), entunit.ValidToIsNil()}
	if f.CommunityCode != "" {
		ps = append(ps, entunit.CommunityCode(f.CommunityCode))
	}
	if f.StreetCode != "" {
		ps = append(ps, entunit.StreetCode(f.StreetCode))
	}
	if f.AreaClass != "" {
		ps = append(ps, entunit.AreaClass(f.AreaClass))
	}
	if b := f.BBox; b != nil {
		ps = append(ps, entunit.MinLonLTE(b.MaxLon), entunit.MaxLonGTE(b.MinLon),
			entunit.MinLatLTE(b.MaxLat), entunit.MaxLatGTE(b.MinLat))
	}
	if f.AfterCode != "" {
		ps = append(ps, entunit.CodeGT(f.AfterCode))
	}
	q := r.c(ctx).UnitGrid.Query().Where(ps...).Order(entunit.ByCode())
	if f.Limit > 0 {
		q.Limit(f.Limit)
	}
	if f.WithoutGeometry {
		q.Select(unitColumns...)
	}
	rows, err := q.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list unit grids: %w", err)
	}
	out := make([]*biz.UnitGrid, 0, len(rows))
	for _, g := range rows {
		out = append(out, unitToBiz(g))
	}
	return out, nil
}

func (r *repo) CreateUnitGrids(ctx context.Context, tenantID int, gs []*biz.UnitGrid) error {
	c := r.c(ctx)
	for start := 0; start < len(gs); start += batchSize {
		part := gs[start:min(start+batchSize, len(gs))]
		err := c.UnitGrid.MapCreateBulk(part, func(b *ent.UnitGridCreate, i int) {
			g := part[i]
			b.SetTenantID(tenantID).SetCode(g.Code).SetCommunityCode(g.CommunityCode).SetStreetCode(g.StreetCode).
				SetAreaClass(g.AreaClass).SetLandUse(g.LandUse).SetResponsible(g.Responsible).SetGeometry(g.Geometry).
				SetMinLon(g.BBox.MinLon).SetMinLat(g.BBox.MinLat).SetMaxLon(g.BBox.MaxLon).SetMaxLat(g.BBox.MaxLat).
				SetAreaM2(g.AreaM2).SetValidFrom(g.ValidFrom).SetNillableValidTo(g.ValidTo)
		}).Exec(ctx)
		if err != nil {
			return fmt.Errorf("create unit grids: %w", err)
		}
	}
	return nil
}

func (r *repo) CloseUnitGrids(ctx context.Context, tenantID int, codes []string, at time.Time) (int, error) {
	c := r.c(ctx)
	total := 0
	for start := 0; start < len(codes); start += batchSize {
		part := codes[start:min(start+batchSize, len(codes))]
		n, err := c.UnitGrid.Update().
			Where(entunit.TenantID(tenantID), entunit.CodeIn(part...), entunit.ValidToIsNil()).
			SetValidTo(at).Save(ctx)
		if err != nil {
			return total, fmt.Errorf("close unit grids: %w", err)
		}
		total += n
	}
	return total, nil
}

func regionToBiz(g *ent.Region) *biz.Region {
	return &biz.Region{Level: biz.Level(g.Level), Code: g.Code, ParentCode: g.ParentCode, NameZH: g.NameZh, Geometry: g.Geometry}
}

func (r *repo) Regions(ctx context.Context, tenantID int, level biz.Level) ([]*biz.Region, error) {
	q := r.c(ctx).Region.Query().Where(entregion.TenantID(tenantID))
	if level != "" {
		q.Where(entregion.LevelEQ(entregion.Level(level)))
	}
	rows, err := q.Order(entregion.ByCode()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	out := make([]*biz.Region, 0, len(rows))
	for _, g := range rows {
		out = append(out, regionToBiz(g))
	}
	return out, nil
}

func (r *repo) SaveRegions(ctx context.Context, tenantID int, create, update []*biz.Region) error {
	c := r.c(ctx)
	for start := 0; start < len(create); start += batchSize {
		part := create[start:min(start+batchSize, len(create))]
		err := c.Region.MapCreateBulk(part, func(b *ent.RegionCreate, i int) {
			g := part[i]
			b.SetTenantID(tenantID).SetLevel(entregion.Level(g.Level)).SetCode(g.Code).
				SetParentCode(g.ParentCode).SetNameZh(g.NameZH).SetGeometry(g.Geometry)
		}).Exec(ctx)
		if err != nil {
			return fmt.Errorf("create regions: %w", err)
		}
	}
	for _, g := range update {
		_, err := c.Region.Update().Where(entregion.TenantID(tenantID), entregion.Code(g.Code)).
			SetLevel(entregion.Level(g.Level)).SetParentCode(g.ParentCode).SetNameZh(g.NameZH).SetGeometry(g.Geometry).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("update region %s: %w", g.Code, err)
		}
	}
	return nil
}

func workToBiz(g *ent.WorkGrid) *biz.WorkGrid {
	return &biz.WorkGrid{
		Kind: biz.WorkKind(g.Kind), Code: g.Code, NameZH: g.NameZh, Geometry: g.Geometry,
		UnitGridCodes: g.UnitGridCodes, Assignees: g.Assignees, DepartmentCode: g.DepartmentCode,
	}
}

func (r *repo) WorkGrids(ctx context.Context, tenantID int, kind biz.WorkKind) ([]*biz.WorkGrid, error) {
	q := r.c(ctx).WorkGrid.Query().Where(entwork.TenantID(tenantID))
	if kind != "" {
		q.Where(entwork.KindEQ(entwork.Kind(kind)))
	}
	rows, err := q.Order(entwork.ByKind(), entwork.ByCode()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list work grids: %w", err)
	}
	out := make([]*biz.WorkGrid, 0, len(rows))
	for _, g := range rows {
		out = append(out, workToBiz(g))
	}
	return out, nil
}

func (r *repo) SaveWorkGrids(ctx context.Context, tenantID int, create, update []*biz.WorkGrid) error {
	c := r.c(ctx)
	for _, g := range create {
		_, err := c.WorkGrid.Create().SetTenantID(tenantID).SetKind(entwork.Kind(g.Kind)).SetCode(g.Code).
			SetNameZh(g.NameZH).SetGeometry(g.Geometry).SetUnitGridCodes(g.UnitGridCodes).
			SetAssignees(g.Assignees).SetDepartmentCode(g.DepartmentCode).Save(ctx)
		if err != nil {
			return fmt.Errorf("create work grid %s: %w", g.Code, err)
		}
	}
	for _, g := range update {
		_, err := c.WorkGrid.Update().
			Where(entwork.TenantID(tenantID), entwork.KindEQ(entwork.Kind(g.Kind)), entwork.Code(g.Code)).
			SetNameZh(g.NameZH).SetGeometry(g.Geometry).SetUnitGridCodes(g.UnitGridCodes).
			SetAssignees(g.Assignees).SetDepartmentCode(g.DepartmentCode).Save(ctx)
		if err != nil {
			return fmt.Errorf("update work grid %s: %w", g.Code, err)
		}
	}
	return nil
}
