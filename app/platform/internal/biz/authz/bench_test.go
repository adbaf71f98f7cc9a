package authz_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/authz"
	data "github.com/cityops/cityops/app/platform/internal/data/authz"
)

// Benchmark size: 50 cities of 19 counties each, 1,000 tenants, with one
// subject per role (12 roles: all but platform_operator) in each.
const (
	benchCities          = 50
	benchCountiesPerCity = 19
)

// benchAuthorizer loads the benchmark policy into a SQLite database and
// returns an Authorizer on it, a county path, its city's path, and the
// subjects holding dispatcher in that county and overseer in that city.
func benchAuthorizer(b *testing.B) (a *authz.Authorizer, county, city, dispatcher, cityOverseer string) {
	b.Helper()
	ctx := context.Background()
	db := testdb.SQLite(b)
	var bindings [][]string
	id := 0
	bind := func(path string) (subjects map[string]string) {
		subjects = map[string]string{}
		for _, r := range viewer.AllRoles {
			if r == viewer.RolePlatformOperator {
				continue
			}
			id++
			s, dom := fmt.Sprintf("user:%d", id), path
			switch r {
			case viewer.RoleConnector, viewer.RoleChannel:
				s = fmt.Sprintf("apikey:%d", id)
			case viewer.RoleOverseer:
				dom = path + "/*"
			}
			bindings = append(bindings, []string{s, "role:" + r, dom})
			subjects[r] = s
		}
		return subjects
	}
	for c := 1; c <= benchCities; c++ {
		cityPath := fmt.Sprintf("000000/450000/45%02d00", c)
		cs := bind(cityPath)
		for k := 1; k <= benchCountiesPerCity; k++ {
			countyPath := fmt.Sprintf("%s/45%02d%02d", cityPath, c, k)
			ks := bind(countyPath)
			if c == benchCities/2 && k == benchCountiesPerCity/2 {
				county, city, dispatcher, cityOverseer = countyPath, cityPath, ks[viewer.RoleDispatcher], cs[viewer.RoleOverseer]
			}
		}
	}
	bindings = append(bindings, []string{"user:999999", "role:platform_operator", "*"})
	if _, err := data.NewRepo(db.Ent).Replace(ctx, authz.PTypeBinding, "", bindings); err != nil {
		b.Fatal(err)
	}
	a = newAuthorizer(b, db, 0)
	return a, county, city, dispatcher, cityOverseer
}

// BenchmarkAllowed measures one decision against 1,000 tenants × 12 roles
// of bindings.
func BenchmarkAllowed(b *testing.B) {
	a, county, city, dispatcher, cityOverseer := benchAuthorizer(b)
	cases := []struct {
		name, subject, domain, op string
		want                      bool
	}{
		{"own-tenant-allow", dispatcher, county, opGetTenant, true},
		{"own-tenant-deny", dispatcher, county, opCreateTenant, false},
		{"overseer-descendant", cityOverseer, county, opGetTenant, true},
		{"overseer-own-city-deny", cityOverseer, city, opGetTenant, false},
		{"platform-operator-tenant", "user:999999", county, opGetTenant, true},
		{"platform-operator-no-tenant", "user:999999", "", opListTenants, true},
		{"unknown-tenant-deny", dispatcher, "000000/990000", opGetTenant, false},
	}
	for _, c := range cases {
		if got := a.Allowed(c.subject, c.domain, c.op); got != c.want {
			b.Fatalf("%s: Allowed = %v, want %v", c.name, got, c.want)
		}
		if got := a.Enforce(c.subject, c.domain, c.op); got != c.want {
			b.Fatalf("%s: Enforce = %v, want %v", c.name, got, c.want)
		}
		// enforce: casbin's evaluation, what the first request of a
		// subject, tenant and operation after a reload pays.
		b.Run(c.name+"/enforce", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a.Enforce(c.subject, c.domain, c.op)
			}
		})
		// memo: Allowed answering from the snapshot's memo.
		b.Run(c.name+"/memo", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a.Allowed(c.subject, c.domain, c.op)
			}
		})
	}
	b.Run("own-tenant-allow-parallel/enforce", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				a.Enforce(dispatcher, county, opGetTenant)
			}
		})
	})
	b.Run("RolesIn-overseer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.RolesIn(cityOverseer, county)
		}
	})
}

// BenchmarkReload measures a full reload (read every rule, build the
// enforcer, swap) of the same 12,000-binding policy.
func BenchmarkReload(b *testing.B) {
	a, _, _, _, _ := benchAuthorizer(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Reload(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
