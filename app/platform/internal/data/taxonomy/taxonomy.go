// Package taxonomy stores tenants' taxonomy classes and filing conditions
// with ent, implementing the repository the taxonomy use cases declare.
// Every query runs with the caller's viewer, so the privacy rules and
// row-level security keep it inside the acting tenant.
package taxonomy

import (
	"context"
	"fmt"
	"slices"

	"entgo.io/ent/dialect/sql"

	"github.com/cityops/cityops/app/pkg/database"
	biz "github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	"github.com/cityops/cityops/ent"
	entfc "github.com/cityops/cityops/ent/filingcondition"
	"github.com/cityops/cityops/ent/predicate"
	enttc "github.com/cityops/cityops/ent/taxonomyclass"
)

// batchSize bounds one bulk INSERT: 500 rows of 14 columns stay far below
// the bind-parameter limits of SQLite (32766) and PostgreSQL (65535).
const batchSize = 500

type repo struct{ client *ent.Client }

// NewRepo returns the ent-backed taxonomy repository. Inside a transaction
// started by InTx it uses that transaction.
func NewRepo(client *ent.Client) biz.Repo { return &repo{client: client} }

var _ biz.Repo = (*repo)(nil)

func (r *repo) c(ctx context.Context) *ent.Client { return database.ClientFromContext(ctx, r.client) }

func classToBiz(c *ent.TaxonomyClass) biz.Class {
	return biz.Class{
		Kind: biz.Kind(c.Kind), Level: biz.Level(c.Level), Code: c.Code, ParentCode: c.ParentCode,
		NameZH: c.NameZh, NameEN: c.NameEn, NationalCode: c.NationalCode, Scheme: c.Scheme,
		Version: c.Version, Local: c.Local, Active: c.Active, CreatedAt: c.CreatedAt,
	}
}

func condToBiz(c *ent.FilingCondition) biz.FilingCondition {
	return biz.FilingCondition{
		Kind: biz.Kind(c.Kind), ClassCode: c.ClassCode, Code: c.Code, FilingText: c.FilingText,
		ClosingText: c.ClosingText, Urgency: biz.Urgency(c.Urgency), TimeLimits: c.TimeLimits, Version: c.Version,
	}
}

func (r *repo) Versions(ctx context.Context, tenantID int) ([]biz.Version, error) {
	c := r.c(ctx)
	nums, err := c.TaxonomyClass.Query().Where(enttc.TenantID(tenantID)).
		GroupBy(enttc.FieldVersion).Ints(ctx)
	if err != nil {
		return nil, fmt.Errorf("taxonomy versions: %w", err)
	}
	out := make([]biz.Version, 0, len(nums))
	// A tenant has a handful of versions, so three small queries each
	// beat an aggregate whose time type differs between the dialects.
	for _, n := range nums {
		q := c.TaxonomyClass.Query().Where(enttc.TenantID(tenantID), enttc.Version(n))
		first, err := q.Clone().Order(enttc.ByID()).First(ctx)
		if err != nil {
			return nil, fmt.Errorf("taxonomy versions: %w", err)
		}
		v := biz.Version{Number: n, EffectiveFrom: first.CreatedAt, Scheme: first.Scheme}
		if national, err := q.Clone().Where(enttc.Local(false)).Order(enttc.ByID()).First(ctx); err == nil {
			v.Scheme = national.Scheme
		} else if !ent.IsNotFound(err) {
			return nil, fmt.Errorf("taxonomy versions: %w", err)
		}
		if v.Classes, err = q.Clone().Count(ctx); err != nil {
			return nil, fmt.Errorf("taxonomy versions: %w", err)
		}
		out = append(out, v)
	}
	// GROUP BY does not promise an order.
	slices.SortFunc(out, func(a, b biz.Version) int { return a.Number - b.Number })
	return out, nil
}

func (r *repo) ListClasses(ctx context.Context, tenantID int, q biz.ClassQuery) ([]biz.Class, error) {
	ps := []predicate.TaxonomyClass{enttc.TenantID(tenantID), enttc.Version(q.Version)}
	if q.Kind != "" {
		ps = append(ps, enttc.KindEQ(enttc.Kind(q.Kind)))
	}
	if q.Level != "" {
		ps = append(ps, enttc.LevelEQ(enttc.Level(q.Level)))
	}
	if q.ParentCode != "" {
		ps = append(ps, enttc.ParentCode(q.ParentCode))
	}
	if q.Codes != nil {
		ps = append(ps, enttc.CodeIn(q.Codes...))
	}
	if !q.IncludeInactive {
		ps = append(ps, enttc.Active(true))
	}
	rows, err := r.c(ctx).TaxonomyClass.Query().Where(ps...).
		Order(enttc.ByKind(sql.OrderAsc()), enttc.ByCode(sql.OrderAsc())).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list taxonomy classes: %w", err)
	}
	out := make([]biz.Class, 0, len(rows))
	for _, c := range rows {
		out = append(out, classToBiz(c))
	}
	return out, nil
}

func (r *repo) GetClass(ctx context.Context, tenantID, version int, kind biz.Kind, code string) (*biz.Class, error) {
	row, err := r.c(ctx).TaxonomyClass.Query().Where(enttc.TenantID(tenantID), enttc.Version(version),
		enttc.KindEQ(enttc.Kind(kind)), enttc.Code(code)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, biz.ClassNotFound(kind, code)
		}
		return nil, fmt.Errorf("get taxonomy class: %w", err)
	}
	c := classToBiz(row)
	return &c, nil
}

func (r *repo) CreateClasses(ctx context.Context, tenantID int, cs []biz.Class) error {
	c := r.c(ctx)
	for start := 0; start < len(cs); start += batchSize {
		batch := cs[start:min(start+batchSize, len(cs))]
		builders := make([]*ent.TaxonomyClassCreate, 0, len(batch))
		for _, x := range batch {
			builders = append(builders, c.TaxonomyClass.Create().SetTenantID(tenantID).SetScheme(x.Scheme).
				SetVersion(x.Version).SetKind(enttc.Kind(x.Kind)).SetLevel(enttc.Level(x.Level)).SetCode(x.Code).
				SetParentCode(x.ParentCode).SetNameZh(x.NameZH).SetNameEn(x.NameEN).SetNationalCode(x.NationalCode).
				SetLocal(x.Local).SetActive(x.Active))
		}
		if err := c.TaxonomyClass.CreateBulk(builders...).Exec(ctx); err != nil {
			return fmt.Errorf("create taxonomy classes: %w", err)
		}
	}
	return nil
}

func (r *repo) UpdateClasses(ctx context.Context, tenantID, version int, kind biz.Kind, codes []string, u biz.ClassUpdate) error {
	q := r.c(ctx).TaxonomyClass.Update().Where(enttc.TenantID(tenantID), enttc.Version(version),
		enttc.KindEQ(enttc.Kind(kind)), enttc.CodeIn(codes...))
	if u.NameZH != nil {
		q.SetNameZh(*u.NameZH)
	}
	if u.NameEN != nil {
		q.SetNameEn(*u.NameEN)
	}
	if u.NationalCode != nil {
		q.SetNationalCode(*u.NationalCode)
	}
	if u.Active != nil {
		q.SetActive(*u.Active)
	}
	if _, err := q.Save(ctx); err != nil {
		return fmt.Errorf("update taxonomy classes: %w", err)
	}
	return nil
}

func (r *repo) ListConditions(ctx context.Context, tenantID, version int, kind biz.Kind, classCode string) ([]biz.FilingCondition, error) {
	ps := []predicate.FilingCondition{entfc.TenantID(tenantID), entfc.Version(version)}
	if kind != "" {
		ps = append(ps, entfc.KindEQ(entfc.Kind(kind)))
	}
	if classCode != "" {
		ps = append(ps, entfc.ClassCode(classCode))
	}
	rows, err := r.c(ctx).FilingCondition.Query().Where(ps...).
		Order(entfc.ByKind(sql.OrderAsc()), entfc.ByClassCode(sql.OrderAsc()), entfc.ByCode(sql.OrderAsc())).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list filing conditions: %w", err)
	}
	out := make([]biz.FilingCondition, 0, len(rows))
	for _, c := range rows {
		out = append(out, condToBiz(c))
	}
	return out, nil
}

func (r *repo) createCondition(c *ent.Client, tenantID int, x biz.FilingCondition) *ent.FilingConditionCreate {
	limits := x.TimeLimits
	if limits == nil {
		limits = []biz.TimeLimit{}
	}
	return c.FilingCondition.Create().SetTenantID(tenantID).SetVersion(x.Version).SetKind(entfc.Kind(x.Kind)).
		SetClassCode(x.ClassCode).SetCode(x.Code).SetFilingText(x.FilingText).SetClosingText(x.ClosingText).
		SetUrgency(entfc.Urgency(x.Urgency)).SetTimeLimits(limits)
}

func (r *repo) CreateConditions(ctx context.Context, tenantID int, cs []biz.FilingCondition) error {
	c := r.c(ctx)
	for start := 0; start < len(cs); start += batchSize {
		batch := cs[start:min(start+batchSize, len(cs))]
		builders := make([]*ent.FilingConditionCreate, 0, len(batch))
		for _, x := range batch {
			builders = append(builders, r.createCondition(c, tenantID, x))
		}
		if err := c.FilingCondition.CreateBulk(builders...).Exec(ctx); err != nil {
			return fmt.Errorf("create filing conditions: %w", err)
		}
	}
	return nil
}

func (r *repo) UpsertCondition(ctx context.Context, tenantID int, x biz.FilingCondition) (bool, error) {
	c := r.c(ctx)
	cur, err := c.FilingCondition.Query().Where(entfc.TenantID(tenantID), entfc.Version(x.Version),
		entfc.KindEQ(entfc.Kind(x.Kind)), entfc.ClassCode(x.ClassCode), entfc.Code(x.Code)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		if _, err := r.createCondition(c, tenantID, x).Save(ctx); err != nil {
			return false, fmt.Errorf("create filing condition: %w", err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("upsert filing condition: %w", err)
	}
	if _, err := c.FilingCondition.UpdateOne(cur).SetFilingText(x.FilingText).SetClosingText(x.ClosingText).
		SetUrgency(entfc.Urgency(x.Urgency)).SetTimeLimits(x.TimeLimits).Save(ctx); err != nil {
		return false, fmt.Errorf("update filing condition: %w", err)
	}
	return false, nil
}
