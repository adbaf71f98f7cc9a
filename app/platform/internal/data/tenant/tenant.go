// Package tenant stores tenants and their departments with ent, implementing
// the repositories the tenant use cases declare.
package tenant

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent/dialect/sql"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	biz "github.com/cityops/cityops/app/platform/internal/biz/tenant"
	"github.com/cityops/cityops/ent"
	entdep "github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/schematype"
	enttenant "github.com/cityops/cityops/ent/tenant"
)

type tenantRepo struct{ client *ent.Client }

// NewTenantRepo returns the ent-backed tenant repository. Inside a
// transaction started by InTx it uses that transaction.
func NewTenantRepo(client *ent.Client) biz.Repo { return &tenantRepo{client: client} }

var _ biz.Repo = (*tenantRepo)(nil)

func (r *tenantRepo) c(ctx context.Context) *ent.Client {
	return database.ClientFromContext(ctx, r.client)
}

func toBiz(t *ent.Tenant, parentCode string) *biz.Tenant {
	return &biz.Tenant{
		ID: t.ID, Code: t.Code, Slug: t.Slug, NameZH: t.NameZh, NameEN: t.NameEn,
		Level: region.Level(t.Level), ParentCode: parentCode, Path: t.Path, Depth: t.Depth,
		Status: biz.Status(t.Status), SuspendedReason: t.SuspendedReason,
		Isolation: biz.Isolation(t.Isolation), TimeZone: t.TimeZone, ManagementArea: t.ManagementArea,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}
}

// parentOf derives the parent's code from the materialized path, which
// saves a join on every read.
func parentOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return ""
	}
	j := strings.LastIndexByte(path[:i], '/')
	return path[j+1 : i]
}

func fromEnt(t *ent.Tenant) *biz.Tenant { return toBiz(t, parentOf(t.Path)) }

func (r *tenantRepo) Create(ctx context.Context, t *biz.Tenant) (*biz.Tenant, error) {
	c := r.c(ctx)
	// Unique conflicts are checked first so the error names the field; the
	// unique indexes still guard against a concurrent insert.
	if n, err := c.Tenant.Query().Where(enttenant.Code(t.Code)).Count(ctx); err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	} else if n > 0 {
		return nil, exists("code", t.Code)
	}
	if n, err := c.Tenant.Query().Where(enttenant.Slug(t.Slug)).Count(ctx); err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	} else if n > 0 {
		return nil, exists("slug", t.Slug)
	}
	q := c.Tenant.Create().
		SetCode(t.Code).SetSlug(t.Slug).SetNameZh(t.NameZH).SetNameEn(t.NameEN).
		SetLevel(enttenant.Level(t.Level)).SetManagementArea(t.ManagementArea).
		SetPath(t.Path).SetDepth(t.Depth).SetStatus(enttenant.Status(t.Status)).
		SetIsolation(enttenant.Isolation(t.Isolation)).SetTimeZone(t.TimeZone)
	if t.ParentCode != "" {
		p, err := c.Tenant.Query().Where(enttenant.Code(t.ParentCode)).Only(ctx)
		if err != nil {
			if ent.IsNotFound(err) {
				return nil, biz.NotFound(t.ParentCode)
			}
			return nil, fmt.Errorf("create tenant: parent: %w", err)
		}
		q.SetParentID(p.ID)
	}
	row, err := q.Save(ctx)
	if err != nil {
		if ent.IsConstraintError(err) {
			return nil, exists("code", t.Code)
		}
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	return toBiz(row, t.ParentCode), nil
}

func exists(field, value string) error {
	return errorsv1.ErrorTenantAlreadyExists("tenant %s %s exists", field, value).WithMetadata(map[string]string{
		"field": field, "value": value,
		"field_zh": map[string]string{"code": "区划代码", "slug": "标识"}[field], "field_en": field,
	})
}

func (r *tenantRepo) GetByCode(ctx context.Context, code string) (*biz.Tenant, error) {
	t, err := r.c(ctx).Tenant.Query().Where(enttenant.Code(code)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, biz.NotFound(code)
		}
		return nil, fmt.Errorf("get tenant: %w", err)
	}
	return fromEnt(t), nil
}

func (r *tenantRepo) FindByCodes(ctx context.Context, codes []string) (map[string]*biz.Tenant, error) {
	rows, err := r.c(ctx).Tenant.Query().Where(enttenant.CodeIn(codes...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("find tenants: %w", err)
	}
	out := make(map[string]*biz.Tenant, len(rows))
	for _, t := range rows {
		out[t.Code] = fromEnt(t)
	}
	return out, nil
}

func (r *tenantRepo) List(ctx context.Context, f biz.ListFilter) ([]*biz.Tenant, error) {
	q := r.c(ctx).Tenant.Query()
	if f.Level != "" {
		q.Where(enttenant.LevelEQ(enttenant.Level(f.Level)))
	}
	if f.Status != "" {
		q.Where(enttenant.StatusEQ(enttenant.Status(f.Status)))
	}
	if f.ParentCode != "" {
		q.Where(enttenant.HasParentWith(enttenant.Code(f.ParentCode)))
	}
	if f.AfterCode != "" {
		q.Where(enttenant.CodeGT(f.AfterCode))
	}
	rows, err := q.Order(enttenant.ByCode()).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	out := make([]*biz.Tenant, 0, len(rows))
	for _, t := range rows {
		out = append(out, fromEnt(t))
	}
	return out, nil
}

func (r *tenantRepo) Subtree(ctx context.Context, path string, maxDepth int) ([]*biz.Tenant, error) {
	root, err := r.c(ctx).Tenant.Query().Where(enttenant.Path(path)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, biz.NotFound(path[strings.LastIndexByte(path, '/')+1:])
		}
		return nil, fmt.Errorf("tenant subtree: %w", err)
	}
	q := r.c(ctx).Tenant.Query().Where(enttenant.Or(
		enttenant.Path(path),
		// A prefix match on the path; codes hold no LIKE wildcards.
		enttenant.PathHasPrefix(path+"/"),
	))
	if maxDepth > 0 {
		q.Where(enttenant.DepthLTE(root.Depth + maxDepth))
	}
	rows, err := q.Order(enttenant.ByPath(sql.OrderAsc())).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("tenant subtree: %w", err)
	}
	out := make([]*biz.Tenant, 0, len(rows))
	for _, t := range rows {
		out = append(out, fromEnt(t))
	}
	return out, nil
}

func (r *tenantRepo) Update(ctx context.Context, code string, u biz.Update) (*biz.Tenant, error) {
	q := r.c(ctx).Tenant.Update().Where(enttenant.Code(code))
	if u.NameZH != nil {
		q.SetNameZh(*u.NameZH)
	}
	if u.NameEN != nil {
		q.SetNameEn(*u.NameEN)
	}
	if u.TimeZone != nil {
		q.SetTimeZone(*u.TimeZone)
	}
	if u.Isolation != nil {
		q.SetIsolation(enttenant.Isolation(*u.Isolation))
	}
	n, err := q.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("update tenant: %w", err)
	}
	if n == 0 {
		return nil, biz.NotFound(code)
	}
	return r.GetByCode(ctx, code)
}

func (r *tenantRepo) SetStatus(ctx context.Context, code string, s biz.Status, reason string) (*biz.Tenant, error) {
	n, err := r.c(ctx).Tenant.Update().Where(enttenant.Code(code)).
		SetStatus(enttenant.Status(s)).SetSuspendedReason(reason).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("set tenant status: %w", err)
	}
	if n == 0 {
		return nil, biz.NotFound(code)
	}
	return r.GetByCode(ctx, code)
}

func (r *tenantRepo) Count(ctx context.Context) (int, error) {
	n, err := r.c(ctx).Tenant.Query().Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count tenants: %w", err)
	}
	return n, nil
}

type departmentRepo struct{ client *ent.Client }

// NewDepartmentRepo returns the ent-backed department repository.
func NewDepartmentRepo(client *ent.Client) biz.DepartmentRepo { return &departmentRepo{client: client} }

var _ biz.DepartmentRepo = (*departmentRepo)(nil)

func (r *departmentRepo) c(ctx context.Context) *ent.Client {
	return database.ClientFromContext(ctx, r.client)
}

func contactsToEnt(cs []biz.Contact) []schematype.DepartmentContact {
	out := make([]schematype.DepartmentContact, 0, len(cs))
	for _, c := range cs {
		out = append(out, schematype.DepartmentContact{Name: c.Name, Title: c.Title, Phone: c.Phone})
	}
	return out
}

func (r *departmentRepo) List(ctx context.Context, tenantID int) ([]biz.Department, error) {
	rows, err := r.c(ctx).Department.Query().Where(entdep.TenantID(tenantID)).Order(entdep.ByCode()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	out := make([]biz.Department, 0, len(rows))
	for _, d := range rows {
		bd := biz.Department{Code: d.Code, NameZH: d.NameZh, NameEN: d.NameEn, Kind: string(d.Kind), Status: string(d.Status)}
		for _, c := range d.Contacts {
			bd.Contacts = append(bd.Contacts, biz.Contact{Name: c.Name, Title: c.Title, Phone: c.Phone})
		}
		out = append(out, bd)
	}
	return out, nil
}

func (r *departmentRepo) Upsert(ctx context.Context, tenantID int, deps []biz.Department) (int, int, error) {
	c := r.c(ctx)
	existing, err := c.Department.Query().Where(entdep.TenantID(tenantID)).All(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("upsert departments: %w", err)
	}
	byCode := make(map[string]*ent.Department, len(existing))
	for _, d := range existing {
		byCode[d.Code] = d
	}
	created, updated := 0, 0
	for _, d := range deps {
		contacts := contactsToEnt(d.Contacts)
		status := d.Status
		if status == "" {
			status = "active"
		}
		cur, ok := byCode[d.Code]
		if !ok {
			if _, err := c.Department.Create().SetTenantID(tenantID).SetCode(d.Code).SetNameZh(d.NameZH).
				SetNameEn(d.NameEN).SetKind(entdep.Kind(d.Kind)).SetContacts(contacts).
				SetStatus(entdep.Status(status)).Save(ctx); err != nil {
				return 0, 0, fmt.Errorf("upsert departments: create %s: %w", d.Code, err)
			}
			created++
			continue
		}
		if cur.NameZh == d.NameZH && cur.NameEn == d.NameEN && string(cur.Kind) == d.Kind &&
			string(cur.Status) == status && slices.Equal(cur.Contacts, contacts) {
			continue
		}
		if _, err := c.Department.UpdateOne(cur).SetNameZh(d.NameZH).SetNameEn(d.NameEN).
			SetKind(entdep.Kind(d.Kind)).SetContacts(contacts).SetStatus(entdep.Status(status)).
			Save(ctx); err != nil {
			return 0, 0, fmt.Errorf("upsert departments: update %s: %w", d.Code, err)
		}
		updated++
	}
	return created, updated, nil
}
