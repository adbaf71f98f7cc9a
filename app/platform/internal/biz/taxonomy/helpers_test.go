package taxonomy_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	kerrors "github.com/go-kratos/kratos/v2/errors"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	datataxonomy "github.com/cityops/cityops/app/platform/internal/data/taxonomy"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// env is one test database with the taxonomy use cases over it.
type env struct {
	db *database.DB
	uc *taxonomy.Usecase
}

func newEnv(t testing.TB, db *database.DB) *env {
	t.Helper()
	tenants := tenant.NewUsecase(datatenant.NewTenantRepo(db.Ent), datatenant.NewDepartmentRepo(db.Ent), db)
	uc, err := taxonomy.NewUsecase(datataxonomy.NewRepo(db.Ent), tenants, db)
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: db, uc: uc}
}

// tenantSeq makes tenant codes and slugs unique within a database.
var tenantSeq atomic.Int64

// tenant creates a county tenant through the repository (the region rules
// are the tenant use case's business, not this package's).
func (e *env) tenant(t testing.TB, code string) *tenant.Tenant {
	t.Helper()
	tn, err := datatenant.NewTenantRepo(e.db.Ent).Create(viewer.SystemContext(context.Background(), "test"), &tenant.Tenant{
		Code: code, Slug: fmt.Sprintf("t%d", tenantSeq.Add(1)), NameZH: "测试县 " + code, Level: region.County, Path: code,
		Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: tenant.DefaultTimeZone,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// as is a context acting as a user of tn with roles.
func as(tn *tenant.Tenant, roles ...string) context.Context {
	if len(roles) == 0 {
		roles = []string{viewer.RoleTenantAdmin}
	}
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.User, ActorID: 1, HomeTenantID: tn.ID, HomeTenantCode: tn.Code,
		TenantID: tn.ID, TenantCode: tn.Code, TenantPath: tn.Path, Roles: roles,
	})
}

// seed seeds a scheme into tn or fails the test.
func (e *env) seed(t testing.TB, tn *tenant.Tenant, scheme string) int {
	t.Helper()
	n, err := e.uc.Seed(context.Background(), tn.ID, scheme)
	if err != nil {
		t.Fatalf("seed %s: %v", scheme, err)
	}
	return n
}

// reason is the kratos reason of err ("" for nil or a plain error).
func reason(err error) string {
	var ke *kerrors.Error
	if errors.As(err, &ke) {
		return ke.Reason
	}
	return ""
}
