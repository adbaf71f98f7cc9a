package tenant

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/region"
)

// Usecase is what the API and the onboarding do with tenants.
type Usecase struct {
	repo  Repo
	deps  DepartmentRepo
	tx    Transaction
	clock func() time.Time
}

// NewUsecase wires the tenant use cases.
func NewUsecase(repo Repo, deps DepartmentRepo, tx Transaction) *Usecase {
	return &Usecase{repo: repo, deps: deps, tx: tx, clock: time.Now}
}

// CreateInput is a new tenant.
type CreateInput struct {
	Code           string
	Slug           string
	NameZH         string
	NameEN         string
	Level          region.Level
	ParentCode     string
	ManagementArea bool
	Isolation      Isolation
	TimeZone       string
}

// Invalid builds INVALID_ARGUMENT about one field with a bilingual detail.
func Invalid(field, zh, en string) error {
	return errorsv1.ErrorInvalidArgument("%s: %s", field, en).WithMetadata(map[string]string{
		"field": field, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

func hierarchy(field, zh, en string) error {
	return errorsv1.ErrorTenantHierarchyInvalid("%s: %s", field, en).WithMetadata(map[string]string{
		"field": field, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

// Place checks a new tenant against the region rules and its parent, and
// returns the parent (nil for the national tenant).
func (u *Usecase) place(ctx context.Context, in CreateInput) (*Tenant, error) {
	if err := region.ValidateCode(in.Code, in.ManagementArea); err != nil {
		var v *region.Violation
		if errors.As(err, &v) {
			return nil, Invalid("code", v.ZH, v.EN)
		}
		return nil, Invalid("code", "区划代码格式不正确："+err.Error(), "malformed region code: "+err.Error())
	}
	var parent *Tenant
	if in.ParentCode != "" {
		p, err := u.repo.GetByCode(ctx, in.ParentCode)
		if err != nil {
			if errorsv1.IsTenantNotFound(err) {
				return nil, hierarchy("parent_code", "上级租户 "+in.ParentCode+" 不存在", "parent tenant "+in.ParentCode+" does not exist")
			}
			return nil, err
		}
		parent = p
	}
	var pn *region.Node
	if parent != nil {
		n := parent.Node()
		pn = &n
	}
	child := region.Node{Code: in.Code, Level: in.Level, ManagementArea: in.ManagementArea}
	if vs := region.CheckPlacement(child, pn); len(vs) > 0 {
		v := vs[0]
		field := v.Field
		if field == "parent" {
			// The API names the parent by its code.
			field = "parent_code"
		}
		return nil, hierarchy(field, v.ZH, v.EN)
	}
	return parent, nil
}

func normalizeTZ(tz string) (string, error) {
	if tz == "" {
		return DefaultTimeZone, nil
	}
	if _, err := time.LoadLocation(tz); err != nil || strings.EqualFold(tz, "local") {
		return "", Invalid("time_zone", "未知的时区 "+tz+"（应为 IANA 名称，如 Asia/Shanghai）", "unknown time zone "+tz+" (use an IANA name such as Asia/Shanghai)")
	}
	return tz, nil
}

// Create adds a tenant under its parent.
func (u *Usecase) Create(ctx context.Context, in CreateInput) (*Tenant, error) {
	if strings.TrimSpace(in.NameZH) == "" {
		return nil, Invalid("name_zh", "中文名称不能为空", "the Chinese name must not be empty")
	}
	tz, err := normalizeTZ(in.TimeZone)
	if err != nil {
		return nil, err
	}
	if in.Isolation == "" {
		in.Isolation = IsolationShared
	}
	var out *Tenant
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		parent, err := u.place(ctx, in)
		if err != nil {
			return err
		}
		t := &Tenant{
			Code: in.Code, Slug: in.Slug, NameZH: strings.TrimSpace(in.NameZH), NameEN: strings.TrimSpace(in.NameEN),
			Level: in.Level, ManagementArea: in.ManagementArea, Isolation: in.Isolation, TimeZone: tz,
			Status: StatusActive, Path: in.Code,
		}
		if parent != nil {
			t.ParentCode, t.Path, t.Depth = parent.Code, parent.Path+"/"+in.Code, parent.Depth+1
		}
		out, err = u.repo.Create(ctx, t)
		return err
	})
	return out, err
}

// Get returns one tenant.
func (u *Usecase) Get(ctx context.Context, code string) (*Tenant, error) {
	return u.repo.GetByCode(ctx, code)
}

// DefaultPageSize and MaxPageSize bound a listing page.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// ListInput is one page request.
type ListInput struct {
	Level      region.Level
	ParentCode string
	Status     Status
	PageSize   int
	PageToken  string
}

// List returns one page of tenants ordered by code and the token of the
// next page ("" on the last page).
func (u *Usecase) List(ctx context.Context, in ListInput) ([]*Tenant, string, error) {
	size := in.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	if size > MaxPageSize {
		size = MaxPageSize
	}
	after := ""
	if in.PageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.PageToken)
		if err != nil || !strings.HasPrefix(string(raw), "c:") {
			return nil, "", Invalid("page_token", "分页令牌无效，请从第一页重新查询", "the page token is not valid; start again from the first page")
		}
		after = strings.TrimPrefix(string(raw), "c:")
	}
	rows, err := u.repo.List(ctx, ListFilter{Level: in.Level, ParentCode: in.ParentCode, Status: in.Status, Limit: size + 1, AfterCode: after})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		next = base64.RawURLEncoding.EncodeToString([]byte("c:" + rows[size-1].Code))
	}
	return rows, next, nil
}

// TreeNode is a tenant with its children.
type TreeNode struct {
	Tenant   *Tenant
	Children []*TreeNode
}

// Tree returns the subtree rooted at code, depth levels deep (0: all).
func (u *Usecase) Tree(ctx context.Context, code string, depth int) (*TreeNode, error) {
	root, err := u.repo.GetByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	rows, err := u.repo.Subtree(ctx, root.Path, depth)
	if err != nil {
		return nil, err
	}
	byCode := make(map[string]*TreeNode, len(rows))
	top := &TreeNode{Tenant: root}
	byCode[root.Code] = top
	// Rows come ordered by path, so every parent is seen before its children.
	for _, t := range rows {
		if t.Code == root.Code {
			continue
		}
		n := &TreeNode{Tenant: t}
		byCode[t.Code] = n
		if p, ok := byCode[t.ParentCode]; ok {
			p.Children = append(p.Children, n)
		}
	}
	return top, nil
}

// Update changes names, time zone or isolation.
func (u *Usecase) Update(ctx context.Context, code string, up Update) (*Tenant, error) {
	if up.NameZH != nil {
		v := strings.TrimSpace(*up.NameZH)
		if v == "" {
			return nil, Invalid("name_zh", "中文名称不能为空", "the Chinese name must not be empty")
		}
		up.NameZH = &v
	}
	if up.NameEN != nil {
		v := strings.TrimSpace(*up.NameEN)
		up.NameEN = &v
	}
	if up.TimeZone != nil {
		tz, err := normalizeTZ(*up.TimeZone)
		if err != nil {
			return nil, err
		}
		up.TimeZone = &tz
	}
	return u.repo.Update(ctx, code, up)
}

// Suspend stops a tenant's tenant-scoped calls. Suspending a suspended
// tenant only updates the reason.
func (u *Usecase) Suspend(ctx context.Context, code, reason string) (*Tenant, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, Invalid("reason", "停用原因不能为空", "give the reason for the suspension")
	}
	return u.repo.SetStatus(ctx, code, StatusSuspended, reason)
}

// Resume lifts a suspension; resuming an active tenant changes nothing.
func (u *Usecase) Resume(ctx context.Context, code string) (*Tenant, error) {
	return u.repo.SetStatus(ctx, code, StatusActive, "")
}

// RequireActive is the gate of every tenant-scoped call: the tenant must
// exist and be active.
func (u *Usecase) RequireActive(ctx context.Context, code string) (*Tenant, error) {
	t, err := u.repo.GetByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if t.Status == StatusSuspended {
		return nil, errorsv1.ErrorTenantSuspended("tenant %s is suspended", code).WithMetadata(map[string]string{"code": code, "reason": t.SuspendedReason})
	}
	return t, nil
}

// Departments lists a tenant's departments.
func (u *Usecase) Departments(ctx context.Context, t *Tenant) ([]Department, error) {
	return u.deps.List(ctx, t.ID)
}

// Count returns how many tenants exist.
func (u *Usecase) Count(ctx context.Context) (int, error) { return u.repo.Count(ctx) }

// ApplyInput is a tenant as a manifest declares it, with its departments.
type ApplyInput struct {
	CreateInput
	Departments []Department
}

// ApplyResult says what Apply changed.
type ApplyResult struct {
	Tenant             *Tenant
	Created            bool
	Updated            bool
	DepartmentsCreated int
	DepartmentsUpdated int
}

// Apply makes the stored tenant match the declaration: it creates a missing
// tenant, updates changed names, time zone and isolation, and upserts the
// departments. Level, parent and management-area flag are fixed once
// created; a manifest that changes them is refused. Running it twice with
// the same input changes nothing. Callers compose several Applies in one
// transaction.
func (u *Usecase) Apply(ctx context.Context, in ApplyInput) (*ApplyResult, error) {
	res := &ApplyResult{}
	cur, err := u.repo.GetByCode(ctx, in.Code)
	switch {
	case errorsv1.IsTenantNotFound(err):
		t, err := u.Create(ctx, in.CreateInput)
		if err != nil {
			return nil, err
		}
		res.Tenant, res.Created = t, true
	case err != nil:
		return nil, err
	default:
		if cur.Level != in.Level {
			return nil, hierarchy("level", fmt.Sprintf("租户 %s 的层级已是 %s，不能改为 %s", in.Code, cur.Level, in.Level), fmt.Sprintf("tenant %s is a %s already and cannot become a %s", in.Code, cur.Level, in.Level))
		}
		if cur.ParentCode != in.ParentCode {
			return nil, hierarchy("parent", fmt.Sprintf("租户 %s 的上级已是 %s，不能改为 %s", in.Code, cur.ParentCode, in.ParentCode), fmt.Sprintf("tenant %s is under %s already and cannot move under %s", in.Code, cur.ParentCode, in.ParentCode))
		}
		if cur.ManagementArea != in.ManagementArea {
			return nil, hierarchy("management_area", "已创建租户的开发区标记不能修改", "the management-area flag of an existing tenant cannot change")
		}
		if cur.Slug != in.Slug {
			return nil, Invalid("slug", fmt.Sprintf("租户 %s 的标识已是 %s，不能改为 %s", in.Code, cur.Slug, in.Slug), fmt.Sprintf("tenant %s has slug %s already and cannot take %s", in.Code, cur.Slug, in.Slug))
		}
		tz, err := normalizeTZ(in.TimeZone)
		if err != nil {
			return nil, err
		}
		iso := in.Isolation
		if iso == "" {
			iso = IsolationShared
		}
		var up Update
		changed := false
		if cur.NameZH != in.NameZH {
			up.NameZH, changed = &in.NameZH, true
		}
		if cur.NameEN != in.NameEN {
			up.NameEN, changed = &in.NameEN, true
		}
		if cur.TimeZone != tz {
			up.TimeZone, changed = &tz, true
		}
		if cur.Isolation != iso {
			up.Isolation, changed = &iso, true
		}
		res.Tenant = cur
		if changed {
			t, err := u.Update(ctx, in.Code, up)
			if err != nil {
				return nil, err
			}
			res.Tenant, res.Updated = t, true
		}
	}
	if len(in.Departments) > 0 {
		c, up, err := u.deps.Upsert(ctx, res.Tenant.ID, in.Departments)
		if err != nil {
			return nil, err
		}
		res.DepartmentsCreated, res.DepartmentsUpdated = c, up
	}
	return res, nil
}

// InTx exposes the transaction to callers that compose several use cases
// (the onboarding applies a whole tree at once).
func (u *Usecase) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return u.tx.InTx(ctx, fn)
}
