package isolation_test

import (
	"testing"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/ent/department"
)

// TestInjectionStringsAreInert: values in ent filters travel as bind
// parameters (and LIKE patterns are escaped), so SQL in them matches only
// itself, widens no filter across tenants and executes nothing.
func TestInjectionStringsAreInert(t *testing.T) {
	t.Parallel()
	// stored is the name of a department of tenant A: the one value that
	// must match exactly.
	const stored = "城管局' OR '1'='1"
	values := []struct {
		value               string
		wantEqual, wantLike int // matches of name_zh = value and name_zh LIKE %value%
	}{
		{value: stored, wantEqual: 1, wantLike: 1},
		{value: "' OR '1'='1", wantEqual: 0, wantLike: 1},
		{value: "' OR 1=1 --", wantEqual: 0, wantLike: 0},
		{value: `\' OR 1=1 --`, wantEqual: 0, wantLike: 0},
		{value: "x'; DROP TABLE departments; --", wantEqual: 0, wantLike: 0},
		{value: codeB + "' OR tenant_id <> 0 --", wantEqual: 0, wantLike: 0},
		{value: `" OR ""="`, wantEqual: 0, wantLike: 0},
		{value: "$1", wantEqual: 0, wantLike: 0},
		{value: "?", wantEqual: 0, wantLike: 0},
		{value: "%", wantEqual: 0, wantLike: 0}, // a literal %, not "anything"
		{value: "_", wantEqual: 0, wantLike: 0},
	}
	eachBackend(t, func(t *testing.T, _ backend, db *database.DB, w world) {
		ctx := viewerOf(t.Context(), w.A)
		if err := db.Ent.Department.Create().SetTenantID(w.A.ID).SetCode("inj").SetNameZh(stored).
			SetKind(department.KindOther).Exec(ctx); err != nil {
			t.Fatalf("create department named %q: %v", stored, err)
		}
		for _, v := range values {
			eq, err := db.Ent.Department.Query().Where(department.NameZh(v.value)).Count(ctx)
			if err != nil || eq != v.wantEqual {
				t.Errorf("name_zh = %q: %d, %v; want %d", v.value, eq, err, v.wantEqual)
			}
			like, err := db.Ent.Department.Query().Where(department.NameZhContains(v.value)).Count(ctx)
			if err != nil || like != v.wantLike {
				t.Errorf("name_zh contains %q: %d, %v; want %d", v.value, like, err, v.wantLike)
			}
			in, err := db.Ent.Department.Query().Where(department.CodeIn(v.value, "cgj")).
				Select(department.FieldTenantID).Ints(ctx)
			if err != nil || len(in) != 1 || in[0] != w.A.ID {
				t.Errorf("code in (%q, cgj): tenants %v, %v; want only A's cgj", v.value, in, err)
			}
		}
		// Nothing was executed: both tenants' departments are all there.
		n, err := db.Ent.Department.Query().Count(systemCtx(t))
		if want := len(w.A.Departments) + len(w.B.Departments) + 1; err != nil || n != want {
			t.Errorf("departments after the injections = %d, %v; want %d", n, err, want)
		}
	})
}
