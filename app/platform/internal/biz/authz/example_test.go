package authz_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/authz"
	data "github.com/cityops/cityops/app/platform/internal/data/authz"
	"github.com/cityops/cityops/ent/migrations"
)

// Example_oversight shows oversight by ancestry: a 南宁市 leader who also
// holds overseer reads its counties' registry entries, but not their
// department tables (oversight reads the city's own federated store), not
// its own city through the overseer binding, and nothing of a sibling city.
func Example_oversight() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "authz-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, closeDB, err := database.Open(ctx, database.Config{DSN: "file:" + filepath.Join(dir, "example.db")})
	if err != nil {
		panic(err)
	}
	defer closeDB()
	if err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
		panic(err)
	}

	a, err := authz.New(ctx, data.NewRepo(db.Ent), authz.Options{})
	if err != nil {
		panic(err)
	}
	if err := a.Seed(ctx); err != nil {
		panic(err)
	}
	const (
		nanning = "000000/450000/450100"
		binyang = nanning + "/450126"
		liuzhou = "000000/450000/450200"
		get     = "/cityops.tenant.v1.TenantService/GetTenant"
		depts   = "/cityops.tenant.v1.TenantService/ListDepartments"
		create  = "/cityops.tenant.v1.TenantService/CreateTenant"
	)
	// user:5 leads 南宁市 and oversees its counties; user:12 dispatches in 宾阳县.
	if err := a.SetRoles(ctx, "user:5", nanning, []string{viewer.RoleLeader, viewer.RoleOverseer}); err != nil {
		panic(err)
	}
	if err := a.SetRoles(ctx, "user:12", binyang, []string{viewer.RoleDispatcher}); err != nil {
		panic(err)
	}
	err = a.SetRoles(ctx, "user:12", binyang, []string{viewer.RolePlatformOperator})
	fmt.Println("宾阳县 grants platform_operator:", err != nil)

	fmt.Println("roles of user:5 in 南宁市:", a.RolesIn("user:5", nanning))
	fmt.Println("roles of user:5 in 宾阳县:", a.RolesIn("user:5", binyang))
	fmt.Println("user:5 GetTenant 宾阳县:", a.Allowed("user:5", binyang, get))
	fmt.Println("user:5 ListDepartments 宾阳县:", a.Allowed("user:5", binyang, depts))
	fmt.Println("user:5 GetTenant 柳州市:", a.Allowed("user:5", liuzhou, get))
	fmt.Println("user:12 GetTenant 宾阳县:", a.Allowed("user:12", binyang, get))
	fmt.Println("user:12 GetTenant 南宁市:", a.Allowed("user:12", nanning, get))
	fmt.Println("user:12 CreateTenant:", a.Allowed("user:12", "", create))
	// Output:
	// 宾阳县 grants platform_operator: true
	// roles of user:5 in 南宁市: [leader]
	// roles of user:5 in 宾阳县: [overseer]
	// user:5 GetTenant 宾阳县: true
	// user:5 ListDepartments 宾阳县: false
	// user:5 GetTenant 柳州市: false
	// user:12 GetTenant 宾阳县: true
	// user:12 GetTenant 南宁市: false
	// user:12 CreateTenant: false
}
