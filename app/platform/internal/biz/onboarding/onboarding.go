// Package onboarding applies declarative tenant manifests (tenants/<slug>/)
// to the platform: every check first, then every change in one transaction,
// so a manifest with any problem writes nothing, and applying the same
// manifests twice changes nothing.
package onboarding

import (
	"context"
	"errors"
	"fmt"

	kerrors "github.com/go-kratos/kratos/v2/errors"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/manifest"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Usecase onboards tenants.
type Usecase struct {
	tenants *tenant.Usecase
}

// NewUsecase returns the onboarding use case.
func NewUsecase(tenants *tenant.Usecase) *Usecase { return &Usecase{tenants: tenants} }

// Step reports one applied tenant, for progress output.
type Step struct {
	Index, Total int
	Tenant       *manifest.Tenant
	Result       *tenant.ApplyResult
}

// Summary counts what an onboarding changed.
type Summary struct {
	Tenants            int
	Created            int
	Updated            int
	Unchanged          int
	DepartmentsCreated int
	DepartmentsUpdated int
	// Admins are the first administrators created with a generated
	// password, to be shown once.
	Admins []Credential
}

// KnownParent looks a parent code up among the tenants already stored, so
// that a single county's manifest can be onboarded under a city onboarded
// earlier. It is meant for manifest.Options.
func (u *Usecase) KnownParent(ctx context.Context) func(code string) (region.Node, bool) {
	return func(code string) (region.Node, bool) {
		t, err := u.tenants.Get(ctx, code)
		if err != nil {
			return region.Node{}, false
		}
		return t.Node(), true
	}
}

// Apply onboards validated manifests, ordered parent-first, in one
// transaction. A conflict with what is stored (a changed level or parent, a
// slug taken by another tenant) is reported as a manifest problem at the
// offending line, and nothing is written.
func (u *Usecase) Apply(ctx context.Context, ts []*manifest.Tenant, progress func(Step)) (Summary, error) {
	var sum Summary
	var steps []Step
	err := u.tenants.InTx(ctx, func(ctx context.Context) error {
		sum, steps = Summary{}, steps[:0]
		for i, m := range ts {
			res, err := u.tenants.Apply(ctx, toInput(m))
			if err != nil {
				return asProblem(m, err)
			}
			sum.Tenants++
			switch {
			case res.Created:
				sum.Created++
			case res.Updated:
				sum.Updated++
			default:
				sum.Unchanged++
			}
			sum.DepartmentsCreated += res.DepartmentsCreated
			sum.DepartmentsUpdated += res.DepartmentsUpdated
			steps = append(steps, Step{Index: i + 1, Total: len(ts), Tenant: m, Result: res})
		}
		return nil
	})
	if err != nil {
		return Summary{}, err
	}
	// Progress is reported after the commit so that it never claims a
	// change that was rolled back.
	if progress != nil {
		for _, s := range steps {
			progress(s)
		}
	}
	return sum, nil
}

func toInput(m *manifest.Tenant) tenant.ApplyInput {
	in := tenant.ApplyInput{CreateInput: tenant.CreateInput{
		Code: m.Code, Slug: m.Slug, NameZH: m.NameZH, NameEN: m.NameEN, Level: m.Level,
		ParentCode: m.ParentCode, ManagementArea: m.ManagementArea,
		Isolation: tenant.Isolation(m.Isolation), TimeZone: m.TimeZone,
	}}
	for _, d := range m.Departments {
		bd := tenant.Department{Code: d.Code, NameZH: d.NameZH, NameEN: d.NameEN, Kind: string(d.Kind)}
		for _, c := range d.Contacts {
			bd.Contacts = append(bd.Contacts, tenant.Contact{Name: c.Name, Title: c.Title, Phone: c.Phone})
		}
		in.Departments = append(in.Departments, bd)
	}
	return in
}

// manifestField maps an error's field to the tenant.yaml key it concerns.
var manifestField = map[string]string{
	"code": "code", "slug": "slug", "name_zh": "name", "name_en": "name", "level": "level",
	"parent": "parent", "parent_code": "parent", "management_area": "management_area",
	"time_zone": "time_zone", "isolation": "isolation",
}

// asProblem turns a use-case refusal into a manifest problem; other errors
// (the database failing) pass through unchanged.
func asProblem(m *manifest.Tenant, err error) error {
	var ke *kerrors.Error
	if !errors.As(err, &ke) || ke.Code >= 500 {
		return fmt.Errorf("onboard %s: %w", m.Slug, err)
	}
	md := ke.Metadata
	field := manifestField[md["field"]]
	if field == "" {
		field = "code"
	}
	zh, en := md["detail_zh"], md["detail_en"]
	switch {
	case errorsv1.IsTenantAlreadyExists(err):
		zh = fmt.Sprintf("%s %s 已被另一个租户使用", md["field_zh"], md["value"])
		en = fmt.Sprintf("%s %s is taken by another tenant", md["field"], md["value"])
	case zh == "" || en == "":
		zh, en = ke.Message, ke.Message
	}
	return manifest.Problems{m.FieldPos(field).Problem(field, zh, en)}
}
