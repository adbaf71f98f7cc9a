// Package dispatch stores a tenant's dispatch rules and auto-dispatch class
// switches with ent, implementing the repositories the dispatch use cases
// declare. Every method takes part in the transaction carried by its
// context, so the engine's reads and its counter updates join the case
// loop's filing transaction.
package dispatch

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/dispatch"
	"github.com/cityops/cityops/ent"
	entdep "github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/dispatchclassswitch"
	"github.com/cityops/cityops/ent/dispatchrule"
	"github.com/cityops/cityops/ent/predicate"
)

type repo struct{ db *database.DB }

// NewRepo returns the ent-backed dispatch rule repository.
func NewRepo(db *database.DB) biz.Repo { return &repo{db: db} }

var _ biz.Repo = (*repo)(nil)

func (r *repo) c(ctx context.Context) *ent.Client { return r.db.Client(ctx) }

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toBiz(e *ent.DispatchRule) *biz.Rule {
	return &biz.Rule{
		Code: e.Code, Name: e.Name, Kind: biz.Kind(e.Kind), ClassCode: e.ClassCode,
		FilingConditionCode: e.FilingConditionCode, RegionLevel: biz.RegionLevel(e.RegionLevel),
		RegionCode: e.RegionCode, AreaClass: e.AreaClass, TimeFrom: e.TimeFrom, TimeTo: e.TimeTo,
		DepartmentCode: e.DepartmentCode, CoDepartmentCodes: strs(e.CoDepartmentCodes),
		RotationDepartments: strs(e.RotationDepartments), RotationPeriod: biz.RotationPeriod(e.RotationPeriod),
		RotationAnchor: utc(e.RotationAnchor), Priority: e.Priority, Enabled: e.Enabled,
		DispatchCount: e.DispatchCount, ReturnCount: e.ReturnCount, Note: e.Note,
		CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(),
	}
}

// now is the time at the precision both databases keep (PostgreSQL
// microseconds), so that what Create returns equals what Get reads.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func (r *repo) Create(ctx context.Context, tenantID int, in *biz.Rule) (*biz.Rule, error) {
	t := now()
	e, err := r.c(ctx).DispatchRule.Create().SetTenantID(tenantID).SetCreatedAt(t).SetUpdatedAt(t).SetCode(in.Code).SetName(in.Name).
		SetKind(dispatchrule.Kind(in.Kind)).SetClassCode(in.ClassCode).SetFilingConditionCode(in.FilingConditionCode).
		SetRegionLevel(dispatchrule.RegionLevel(in.RegionLevel)).SetRegionCode(in.RegionCode).SetAreaClass(in.AreaClass).
		SetTimeFrom(in.TimeFrom).SetTimeTo(in.TimeTo).SetDepartmentCode(in.DepartmentCode).
		SetCoDepartmentCodes(strs(in.CoDepartmentCodes)).SetRotationDepartments(strs(in.RotationDepartments)).
		SetRotationPeriod(dispatchrule.RotationPeriod(in.RotationPeriod)).SetNillableRotationAnchor(utc(in.RotationAnchor)).
		SetPriority(in.Priority).SetEnabled(in.Enabled).SetNote(in.Note).Save(ctx)
	if err != nil {
		if ent.IsConstraintError(err) {
			return nil, biz.Exists(in.Code)
		}
		return nil, fmt.Errorf("create dispatch rule %s: %w", in.Code, err)
	}
	return toBiz(e), nil
}

func (r *repo) Update(ctx context.Context, tenantID int, in *biz.Rule, resetCounters bool) (*biz.Rule, error) {
	u := r.c(ctx).DispatchRule.Update().Where(dispatchrule.TenantID(tenantID), dispatchrule.Code(in.Code)).
		SetUpdatedAt(now()).SetName(in.Name).SetKind(dispatchrule.Kind(in.Kind)).SetClassCode(in.ClassCode).
		SetFilingConditionCode(in.FilingConditionCode).SetRegionLevel(dispatchrule.RegionLevel(in.RegionLevel)).
		SetRegionCode(in.RegionCode).SetAreaClass(in.AreaClass).SetTimeFrom(in.TimeFrom).SetTimeTo(in.TimeTo).
		SetDepartmentCode(in.DepartmentCode).SetCoDepartmentCodes(strs(in.CoDepartmentCodes)).
		SetRotationDepartments(strs(in.RotationDepartments)).SetRotationPeriod(dispatchrule.RotationPeriod(in.RotationPeriod)).
		SetPriority(in.Priority).SetEnabled(in.Enabled).SetNote(in.Note)
	if in.RotationAnchor != nil {
		u.SetRotationAnchor(in.RotationAnchor.UTC())
	} else {
		u.ClearRotationAnchor()
	}
	if resetCounters {
		u.SetDispatchCount(0).SetReturnCount(0)
	}
	n, err := u.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("update dispatch rule %s: %w", in.Code, err)
	}
	if n == 0 {
		return nil, biz.NotFound(in.Code)
	}
	return r.Get(ctx, tenantID, in.Code)
}

func (r *repo) Delete(ctx context.Context, tenantID int, code string) error {
	n, err := r.c(ctx).DispatchRule.Delete().Where(dispatchrule.TenantID(tenantID), dispatchrule.Code(code)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete dispatch rule %s: %w", code, err)
	}
	if n == 0 {
		return biz.NotFound(code)
	}
	return nil
}

func (r *repo) Get(ctx context.Context, tenantID int, code string) (*biz.Rule, error) {
	e, err := r.c(ctx).DispatchRule.Query().Where(dispatchrule.TenantID(tenantID), dispatchrule.Code(code)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, biz.NotFound(code)
		}
		return nil, fmt.Errorf("get dispatch rule %s: %w", code, err)
	}
	return toBiz(e), nil
}

func all(rows []*ent.DispatchRule) []*biz.Rule {
	out := make([]*biz.Rule, len(rows))
	for i, e := range rows {
		out[i] = toBiz(e)
	}
	return out
}

// byReturnRate orders the worst rules first; a rule that never
// dispatched has rate 0.
func byReturnRate(s *entsql.Selector) {
	dc, rc := s.C(dispatchrule.FieldDispatchCount), s.C(dispatchrule.FieldReturnCount)
	s.OrderExpr(entsql.Expr(fmt.Sprintf("CASE WHEN %s > 0 THEN 1.0 * %s / %s ELSE 0 END DESC", dc, rc, dc)))
}

func (r *repo) List(ctx context.Context, tenantID int, f biz.Filter, o biz.Order, p biz.Page) ([]*biz.Rule, error) {
	q := r.c(ctx).DispatchRule.Query().Where(dispatchrule.TenantID(tenantID))
	if f.Kind != "" {
		q.Where(dispatchrule.KindEQ(dispatchrule.Kind(f.Kind)))
	}
	if f.ClassCode != "" {
		q.Where(dispatchrule.ClassCode(f.ClassCode))
	}
	if f.RegionLevel != "" {
		q.Where(dispatchrule.RegionLevelEQ(dispatchrule.RegionLevel(f.RegionLevel)))
	}
	if f.RegionCode != "" {
		q.Where(dispatchrule.RegionCode(f.RegionCode))
	}
	if f.DepartmentCode != "" {
		q.Where(dispatchrule.DepartmentCode(f.DepartmentCode))
	}
	if f.Enabled != nil {
		q.Where(dispatchrule.Enabled(*f.Enabled))
	}
	if o == biz.OrderReturnRate {
		q.Order(byReturnRate, dispatchrule.ByDispatchCount(entsql.OrderDesc()), dispatchrule.ByCode())
	} else {
		q.Order(dispatchrule.ByCode())
	}
	rows, err := q.Offset(p.Offset).Limit(p.Limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list dispatch rules: %w", err)
	}
	return all(rows), nil
}

func (r *repo) All(ctx context.Context, tenantID int) ([]*biz.Rule, error) {
	rows, err := r.c(ctx).DispatchRule.Query().Where(dispatchrule.TenantID(tenantID)).Order(dispatchrule.ByCode()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list dispatch rules: %w", err)
	}
	return all(rows), nil
}

// matchFields are the columns the engine reads: on the hot path of every
// filing, skipping the timestamps, counters and note saves their decoding.
var matchFields = []string{
	dispatchrule.FieldCode, dispatchrule.FieldName, dispatchrule.FieldKind, dispatchrule.FieldClassCode,
	dispatchrule.FieldFilingConditionCode, dispatchrule.FieldRegionLevel, dispatchrule.FieldRegionCode,
	dispatchrule.FieldAreaClass, dispatchrule.FieldTimeFrom, dispatchrule.FieldTimeTo, dispatchrule.FieldDepartmentCode,
	dispatchrule.FieldCoDepartmentCodes, dispatchrule.FieldRotationDepartments, dispatchrule.FieldRotationPeriod,
	dispatchrule.FieldRotationAnchor, dispatchrule.FieldPriority, dispatchrule.FieldEnabled,
}

// Candidates narrows by the indexed (tenant_id, class_code) and the
// equality keys; the engine checks the time window and the rest.
func (r *repo) Candidates(ctx context.Context, tenantID int, s biz.Subject) ([]*biz.Rule, error) {
	region := []predicate.DispatchRule{dispatchrule.RegionLevelEQ(dispatchrule.RegionLevelAny)}
	for _, x := range []struct {
		level dispatchrule.RegionLevel
		code  string
	}{
		{dispatchrule.RegionLevelGrid, s.GridCode}, {dispatchrule.RegionLevelCommunity, s.CommunityCode},
		{dispatchrule.RegionLevelStreet, s.StreetCode}, {dispatchrule.RegionLevelDistrict, s.DistrictCode},
	} {
		if x.code != "" {
			region = append(region, dispatchrule.And(dispatchrule.RegionLevelEQ(x.level), dispatchrule.RegionCode(x.code)))
		}
	}
	orEmpty := func(v string) []string {
		if v == "" {
			return []string{""}
		}
		return []string{"", v}
	}
	rows, err := r.c(ctx).DispatchRule.Query().Where(
		dispatchrule.TenantID(tenantID), dispatchrule.Enabled(true),
		dispatchrule.ClassCodeIn(append([]string{""}, s.ClassPrefixes()...)...),
		dispatchrule.FilingConditionCodeIn(orEmpty(s.FilingConditionCode)...),
		dispatchrule.AreaClassIn(orEmpty(s.AreaClass)...),
		dispatchrule.Or(region...),
	).Select(matchFields...).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("match dispatch rules: %w", err)
	}
	return all(rows), nil
}

// Count runs one UPDATE … SET n = COALESCE(n, 0) + k: atomic under
// concurrent filings, and it leaves updated_at alone, which says when the
// rule's settings last changed.
func (r *repo) Count(ctx context.Context, tenantID int, code string, dispatched, returned int64) error {
	if dispatched == 0 && returned == 0 {
		return nil
	}
	// The statement is raw SQL, which ent's privacy rules do not see, so
	// the viewer's tenant is checked here (row-level security checks it
	// again on PostgreSQL).
	if v, ok := viewer.FromContext(ctx); !ok || (!v.IsSystem() && v.TenantID != tenantID) {
		return biz.NotFound(code)
	}
	return r.db.InTx(ctx, func(ctx context.Context) error {
		u := entsql.Dialect(r.db.Dialect).Update(dispatchrule.Table)
		if dispatched != 0 {
			u.Add(dispatchrule.FieldDispatchCount, dispatched)
		}
		if returned != 0 {
			u.Add(dispatchrule.FieldReturnCount, returned)
		}
		query, args := u.Where(entsql.And(entsql.EQ(dispatchrule.FieldTenantID, tenantID), entsql.EQ(dispatchrule.FieldCode, code))).Query()
		if _, err := database.TxFromContext(ctx).ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("count dispatch rule %s: %w", code, err)
		}
		return nil
	})
}

func switchToBiz(e *ent.DispatchClassSwitch) *biz.Switch {
	return &biz.Switch{ClassCode: e.ClassCode, Auto: e.Auto, UpdatedBy: e.UpdatedBy, UpdatedAt: e.UpdatedAt.UTC()}
}

func (r *repo) SetSwitch(ctx context.Context, tenantID int, s *biz.Switch) (*biz.Switch, error) {
	c := r.c(ctx)
	err := c.DispatchClassSwitch.Create().SetTenantID(tenantID).SetClassCode(s.ClassCode).SetAuto(s.Auto).SetUpdatedBy(s.UpdatedBy).
		OnConflictColumns(dispatchclassswitch.FieldTenantID, dispatchclassswitch.FieldClassCode).
		Update(func(u *ent.DispatchClassSwitchUpsert) {
			u.SetAuto(s.Auto).SetUpdatedBy(s.UpdatedBy).UpdateUpdatedAt()
		}).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("set dispatch switch %s: %w", s.ClassCode, err)
	}
	e, err := c.DispatchClassSwitch.Query().
		Where(dispatchclassswitch.TenantID(tenantID), dispatchclassswitch.ClassCode(s.ClassCode)).Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("set dispatch switch %s: %w", s.ClassCode, err)
	}
	return switchToBiz(e), nil
}

func (r *repo) ListSwitches(ctx context.Context, tenantID int) ([]*biz.Switch, error) {
	rows, err := r.c(ctx).DispatchClassSwitch.Query().Where(dispatchclassswitch.TenantID(tenantID)).
		Order(dispatchclassswitch.ByClassCode()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list dispatch switches: %w", err)
	}
	out := make([]*biz.Switch, len(rows))
	for i, e := range rows {
		out[i] = switchToBiz(e)
	}
	return out, nil
}

func (r *repo) AutoOn(ctx context.Context, tenantID int, classCode string) (bool, error) {
	ok, err := r.c(ctx).DispatchClassSwitch.Query().Where(dispatchclassswitch.TenantID(tenantID),
		dispatchclassswitch.ClassCode(classCode), dispatchclassswitch.Auto(true)).Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("dispatch switch %s: %w", classCode, err)
	}
	return ok, nil
}

// stampOf is an aggregate fingerprinting the selected rows: their number
// and the sum of their updated_at in the finest unit both databases keep
// exactly (PostgreSQL microseconds, SQLite milliseconds). A sum rather
// than max(updated_at): a row changed with an earlier time than the
// current maximum — a transaction committing after a later one, or a
// replica whose clock lags — still moves it. Counters do not touch
// updated_at, so counting moves nothing.
func stampOf(dia string) ent.AggregateFunc {
	return func(s *entsql.Selector) string {
		c := s.C("updated_at")
		if dia == dialect.Postgres {
			return fmt.Sprintf("COUNT(*) || ':' || COALESCE(SUM((EXTRACT(EPOCH FROM %s) * 1000000)::bigint), 0)", c)
		}
		// julianday keeps milliseconds exactly (SQLite computes in
		// integer milliseconds), and the integer sum cannot round.
		return fmt.Sprintf("COUNT(*) || ':' || COALESCE(SUM(CAST(ROUND((julianday(%s) - 2440587.5) * 86400000.0) AS INTEGER)), 0)", c)
	}
}

// Stamp is stampOf the tenant's rules and class switches: two aggregate
// queries (one statement each), no row read.
func (r *repo) Stamp(ctx context.Context, tenantID int) (string, error) {
	c := r.c(ctx)
	rs, err := c.DispatchRule.Query().Where(dispatchrule.TenantID(tenantID)).Aggregate(stampOf(r.db.Dialect)).String(ctx)
	if err != nil {
		return "", fmt.Errorf("stamp dispatch rules: %w", err)
	}
	ss, err := c.DispatchClassSwitch.Query().Where(dispatchclassswitch.TenantID(tenantID)).Aggregate(stampOf(r.db.Dialect)).String(ctx)
	if err != nil {
		return "", fmt.Errorf("stamp dispatch switches: %w", err)
	}
	return "r" + rs + ";s" + ss, nil
}

type departments struct{ db *database.DB }

// NewDepartments returns the department look-up of the dispatch engine.
func NewDepartments(db *database.DB) biz.Departments { return &departments{db: db} }

var _ biz.Departments = (*departments)(nil)

func (d *departments) Active(ctx context.Context, tenantID int, codes []string) (map[string]bool, error) {
	out := make(map[string]bool, len(codes))
	if len(codes) == 0 {
		return out, nil
	}
	found, err := d.db.Client(ctx).Department.Query().
		Where(entdep.TenantID(tenantID), entdep.CodeIn(codes...), entdep.StatusEQ(entdep.StatusActive)).
		Select(entdep.FieldCode).Strings(ctx)
	if err != nil {
		return nil, fmt.Errorf("departments: %w", err)
	}
	for _, c := range found {
		out[c] = true
	}
	return out, nil
}

func (d *departments) ActiveCodes(ctx context.Context, tenantID int, limit int) ([]string, error) {
	codes, err := d.db.Client(ctx).Department.Query().Where(entdep.TenantID(tenantID), entdep.StatusEQ(entdep.StatusActive)).
		Limit(limit).Select(entdep.FieldCode).Strings(ctx)
	if err != nil {
		return nil, fmt.Errorf("departments: %w", err)
	}
	return codes, nil
}

// Stamp is stampOf the tenant's departments, whatever their status.
func (d *departments) Stamp(ctx context.Context, tenantID int) (string, error) {
	s, err := d.db.Client(ctx).Department.Query().Where(entdep.TenantID(tenantID)).Aggregate(stampOf(d.db.Dialect)).String(ctx)
	if err != nil {
		return "", fmt.Errorf("stamp departments: %w", err)
	}
	return "d" + s, nil
}
