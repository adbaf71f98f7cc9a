package taxonomy_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	datataxonomy "github.com/cityops/cityops/app/platform/internal/data/taxonomy"
)

func TestSeed(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ref := e.uc.Reference()
		for _, scheme := range []string{taxonomy.SchemeGB47678, taxonomy.SchemeCJT214} {
			tn := e.tenant(t, map[string]string{taxonomy.SchemeGB47678: "450126", taxonomy.SchemeCJT214: "450181"}[scheme])
			ctx := as(tn)
			want := ref.Classes(scheme)
			if n := e.seed(t, tn, scheme); n != len(want) {
				t.Errorf("%s: seeded %d classes, want %d (the shipped file)", scheme, n, len(want))
			}
			if n := e.seed(t, tn, scheme); n != 0 {
				t.Errorf("%s: re-seeding created %d", scheme, n)
			}
			got, err := e.uc.ListClasses(ctx, tn.Code, taxonomy.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := taxonomy.SchemeByID(scheme)
			if got.Version.Number != 1 || got.Version.Scheme != s.Standard || got.Version.EffectiveFrom.IsZero() ||
				len(got.Classes) != len(want) || countOf(got.Classes) != countOf(want) {
				t.Errorf("%s: listing v%d %s, %d classes %+v", scheme, got.Version.Number, got.Version.Scheme, len(got.Classes), countOf(got.Classes))
			}
			majors := map[string]bool{}
			for _, c := range got.Classes {
				if c.Level == taxonomy.Major {
					majors[string(c.Kind)+c.Code] = true
				}
			}
			for _, c := range got.Classes {
				if c.Level == taxonomy.Minor && !majors[string(c.Kind)+c.ParentCode] {
					t.Errorf("%s: minor %s %s has no major", scheme, c.Kind, c.Code)
				}
				if c.NationalCode != "" {
					if _, ok := ref.Lookup(taxonomy.SchemeGB47678, c.Kind, c.NationalCode); !ok {
						t.Errorf("%s: %s %s crosswalks to unknown %s", scheme, c.Kind, c.Code, c.NationalCode)
					}
				}
			}
			conds, err := e.uc.ListFilingConditions(ctx, tn.Code, taxonomy.Event, map[string]string{taxonomy.SchemeGB47678: "06001", taxonomy.SchemeCJT214: "0101"}[scheme], 0)
			if err != nil || len(conds) != 1 || len(conds[0].TimeLimits) != 1 || len(conds[0].TimeLimits[0].Stages) != 3 {
				t.Errorf("%s: 私搭乱建 conditions %+v, %v", scheme, conds, err)
			}
			minors, err := e.uc.ListClasses(ctx, tn.Code, taxonomy.Filter{Kind: taxonomy.Event, Level: taxonomy.Minor, ParentCode: "01"})
			if err != nil || len(minors.Classes) == 0 || minors.Classes[0].ParentCode != "01" || minors.Classes[0].Kind != taxonomy.Event {
				t.Errorf("%s: filtered listing %+v, %v", scheme, minors, err)
			}
		}

		// A change of scheme is a new version; version 1 stays as it was.
		tn := e.tenant(t, "450100")
		ctx := as(tn)
		e.seed(t, tn, taxonomy.SchemeGB47678)
		if _, _, err := e.uc.UpsertLocalClass(ctx, tn.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "90", NameZH: "扩展事件"}); err != nil {
			t.Fatal(err)
		}
		if n := e.seed(t, tn, taxonomy.SchemeCJT214); n != len(ref.Classes(taxonomy.SchemeCJT214)) {
			t.Errorf("scheme change created %d", n)
		}
		v2, err := e.uc.ListClasses(ctx, tn.Code, taxonomy.Filter{})
		if err != nil || v2.Version.Number != 2 || v2.Version.Scheme != taxonomy.StandardCJT214 {
			t.Fatalf("after the change: %+v, %v", v2.Version, err)
		}
		v1, err := e.uc.ListClasses(ctx, tn.Code, taxonomy.Filter{Version: 1})
		if err != nil || len(v1.Classes) != len(ref.Classes(taxonomy.SchemeGB47678))+1 || v1.Version.Scheme != taxonomy.StandardGB47678 {
			t.Fatalf("version 1 after the change: %d classes, %v", len(v1.Classes), err)
		}
		if c, err := e.uc.GetClass(ctx, tn.Code, taxonomy.Event, "06001", 1); err != nil || c.NameZH != "私搭乱建" {
			t.Errorf("a case filed under version 1 resolves 06001: %+v, %v", c, err)
		}
		if _, err := e.uc.GetClass(ctx, tn.Code, taxonomy.Event, "06001", 0); reason(err) != "CLASS_NOT_FOUND" {
			t.Errorf("06001 in the legacy version: %v", err)
		}
		if _, err := e.uc.ListClasses(ctx, tn.Code, taxonomy.Filter{Version: 7}); reason(err) != "INVALID_ARGUMENT" {
			t.Errorf("unknown version: %v", err)
		}
		if _, err := e.uc.Seed(context.Background(), tn.ID, "gb2312"); reason(err) != "INVALID_ARGUMENT" {
			t.Errorf("unknown scheme: %v", err)
		}
	})
}

func TestLocalExtensions(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		g := e.tenant(t, "450126")
		l := e.tenant(t, "450181")
		e.seed(t, g, taxonomy.SchemeGB47678)
		e.seed(t, l, taxonomy.SchemeCJT214)
		for _, tc := range []struct {
			name     string
			tenant   string
			in       taxonomy.LocalClass
			reason   string
			created  bool
			national string // expected Crosswalk answer
		}{
			{"extension major", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "90", NameZH: "扩展事件"}, "", true, ""},
			{"minor in an extension major", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "90001", NameZH: "共享电单车乱停放", NationalCode: "09011"}, "", true, "09011"},
			{"local minor in a national major", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "06900", NameZH: "门前三包不落实"}, "", true, ""},
			{"rename keeps the class", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "06900", NameZH: "门前三包责任不落实", NameEN: "frontage duties"}, "", false, ""},
			{"细类 under a national minor", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "0600101", NameZH: "屋顶违建"}, "", true, "06001"},
			{"细类 under a local minor", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "0690001", NameZH: "门前堆物"}, "", true, ""},
			{"component extension major", g.Code, taxonomy.LocalClass{Kind: taxonomy.Component, Code: "91", NameZH: "城管设施"}, "", true, ""},
			{"national major", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "11", NameZH: "新大类"}, "CODE_INVALID", false, ""},
			{"minor outside the local range", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "06053", NameZH: "新小类"}, "CODE_INVALID", false, ""},
			{"code the transcription lacks", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "06031", NameZH: "占用"}, "CODE_INVALID", false, ""},
			{"national class", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "06001", NameZH: "改名"}, "CODE_INVALID", false, ""},
			{"wrong length", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "0690", NameZH: "四位"}, "CODE_INVALID", false, ""},
			{"细类 numbered 00", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "0600100", NameZH: "零"}, "CODE_INVALID", false, ""},
			{"missing parent minor", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "9100101", NameZH: "孤儿"}, "CODE_INVALID", false, ""},
			{"missing parent major", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "92001", NameZH: "孤儿"}, "CODE_INVALID", false, ""},
			{"unknown national code", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "06901", NameZH: "x", NationalCode: "06031"}, "CODE_INVALID", false, ""},
			{"empty name", g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "06902", NameZH: " "}, "INVALID_ARGUMENT", false, ""},
			{"legacy local minor", l.Code, taxonomy.LocalClass{Kind: taxonomy.Component, Code: "0195", NameZH: "军用井盖", NationalCode: "01022"}, "", true, "01022"},
			{"legacy 99 is 其他", l.Code, taxonomy.LocalClass{Kind: taxonomy.Component, Code: "0199", NameZH: "其他"}, "CODE_INVALID", false, ""},
			{"legacy 2026-length code", l.Code, taxonomy.LocalClass{Kind: taxonomy.Component, Code: "01901", NameZH: "x"}, "CODE_INVALID", false, ""},
			{"legacy 细类", l.Code, taxonomy.LocalClass{Kind: taxonomy.Component, Code: "011801", NameZH: "高杆灯"}, "", true, "01037"},
		} {
			tn := g
			if tc.tenant == l.Code {
				tn = l
			}
			ctx := as(tn)
			c, created, err := e.uc.UpsertLocalClass(ctx, tc.tenant, tc.in)
			if reason(err) != tc.reason || created != tc.created {
				t.Errorf("%s: created %v, %v; want %q", tc.name, created, err, tc.reason)
				continue
			}
			if err != nil {
				continue
			}
			if !c.Local || !c.Active || c.Scheme != taxonomy.SchemeLocal || c.NameZH != tc.in.NameZH || c.NameEN != tc.in.NameEN {
				t.Errorf("%s: class %+v", tc.name, c)
			}
			if got, err := e.uc.Crosswalk(ctx, tc.tenant, tc.in.Kind, tc.in.Code); err != nil || got != tc.national {
				t.Errorf("%s: crosswalk %q, %v; want %q", tc.name, got, err, tc.national)
			}
		}

		ctx := as(g)
		// Deactivation cascades and keeps the rows; new children need an
		// active parent.
		c, desc, err := e.uc.DeactivateClass(ctx, g.Code, taxonomy.Event, "90")
		if err != nil || c.Active || !slices.Equal(desc, []string{"90001"}) {
			t.Fatalf("deactivate 90 = %+v %v, %v", c, desc, err)
		}
		if c, err := e.uc.GetClass(ctx, g.Code, taxonomy.Event, "90001", 0); err != nil || c.Active {
			t.Errorf("90001 after deactivating 90: %+v, %v", c, err)
		}
		if _, _, err := e.uc.UpsertLocalClass(ctx, g.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "90002", NameZH: "x"}); reason(err) != "CODE_INVALID" {
			t.Errorf("child of a deactivated major: %v", err)
		}
		active, err := e.uc.ListClasses(ctx, g.Code, taxonomy.Filter{Kind: taxonomy.Event, ParentCode: "90"})
		all, err2 := e.uc.ListClasses(ctx, g.Code, taxonomy.Filter{Kind: taxonomy.Event, ParentCode: "90", IncludeInactive: true})
		if err != nil || err2 != nil || len(active.Classes) != 0 || len(all.Classes) != 1 {
			t.Errorf("listing under 90: %d active, %d in all (%v %v)", len(active.Classes), len(all.Classes), err, err2)
		}
		if _, _, err := e.uc.DeactivateClass(ctx, g.Code, taxonomy.Event, "06031"); reason(err) != "CLASS_NOT_FOUND" {
			t.Errorf("deactivate a missing class: %v", err)
		}
		if got, err := e.uc.Crosswalk(as(l), l.Code, taxonomy.Component, "0130"); err != nil || got != "" {
			t.Errorf("0130 环卫设施井盖 has no counterpart: %q, %v", got, err)
		}
		if got, err := e.uc.Crosswalk(as(l), l.Code, taxonomy.Component, "0101"); err != nil || got != "01001" {
			t.Errorf("0101 上水井盖 → %q, %v", got, err)
		}
	})
}

// Tenant A cannot see or change tenant B's classes: naming B answers
// TENANT_NOT_FOUND, and B's rows stay invisible to A's viewer even when
// the repository is asked for them directly.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		a := e.tenant(t, "450126")
		b := e.tenant(t, "450181")
		e.seed(t, a, taxonomy.SchemeGB47678)
		e.seed(t, b, taxonomy.SchemeGB47678)
		if _, _, err := e.uc.UpsertLocalClass(as(b), b.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "90", NameZH: "横州扩展"}); err != nil {
			t.Fatal(err)
		}
		ctxA := as(a, viewer.RoleDispatcher)
		calls := map[string]func() error{
			"ListClasses": func() error { _, err := e.uc.ListClasses(ctxA, b.Code, taxonomy.Filter{}); return err },
			"GetClass":    func() error { _, err := e.uc.GetClass(ctxA, b.Code, taxonomy.Event, "90", 0); return err },
			"UpsertLocalClass": func() error {
				_, _, err := e.uc.UpsertLocalClass(ctxA, b.Code, taxonomy.LocalClass{Kind: taxonomy.Event, Code: "90", NameZH: "改"})
				return err
			},
			"DeactivateClass": func() error { _, _, err := e.uc.DeactivateClass(ctxA, b.Code, taxonomy.Event, "90"); return err },
			"Crosswalk":       func() error { _, err := e.uc.Crosswalk(ctxA, b.Code, taxonomy.Event, "06001"); return err },
			"ListFilingConditions": func() error {
				_, err := e.uc.ListFilingConditions(ctxA, b.Code, taxonomy.Event, "06001", 0)
				return err
			},
			"UpsertFilingCondition": func() error {
				_, _, err := e.uc.UpsertFilingCondition(ctxA, b.Code, taxonomy.FilingCondition{Kind: taxonomy.Event, ClassCode: "06001", Code: "x",
					FilingText: "x", TimeLimits: []limit{{Amount: 1, Unit: taxonomy.UnitWorkDay}}})
				return err
			},
			"Export": func() error { _, err := e.uc.Export(ctxA, b.Code, taxonomy.ExportInput{}); return err },
			"Import": func() error {
				_, err := e.uc.Import(ctxA, b.Code, taxonomy.ImportInput{Data: []byte("x"), DefaultKind: taxonomy.Event})
				return err
			},
		}
		for name, call := range calls {
			if err := call(); reason(err) != "TENANT_NOT_FOUND" {
				t.Errorf("%s on tenant B as A: %v", name, err)
			}
		}
		// In its own tenant, A does not find B's local class.
		if _, err := e.uc.GetClass(ctxA, a.Code, taxonomy.Event, "90", 0); reason(err) != "CLASS_NOT_FOUND" {
			t.Errorf("B's local class from A: %v", err)
		}
		// Below the use case, the privacy rules (and on PostgreSQL row-level
		// security) hide B's rows from A's viewer.
		repo := datataxonomy.NewRepo(db.Ent)
		if _, err := repo.GetClass(ctxA, b.ID, 1, taxonomy.Event, "90"); reason(err) != "CLASS_NOT_FOUND" {
			t.Errorf("repository read of B as A: %v", err)
		}
		if vs, err := repo.Versions(ctxA, b.ID); err != nil || len(vs) != 0 {
			t.Errorf("B's versions as A: %v, %v", vs, err)
		}
		off := false
		_ = repo.UpdateClasses(ctxA, b.ID, 1, taxonomy.Event, []string{"90"}, taxonomy.ClassUpdate{Active: &off})
		if c, err := e.uc.GetClass(as(b), b.Code, taxonomy.Event, "90", 0); err != nil || !c.Active || c.NameZH != "横州扩展" {
			t.Errorf("B's class after A's attempts: %+v, %v", c, err)
		}
		if err := repo.CreateClasses(ctxA, b.ID, []taxonomy.Class{{Kind: taxonomy.Event, Level: taxonomy.Major, Code: "95", NameZH: "x",
			Scheme: taxonomy.SchemeLocal, Version: 1, Local: true, Active: true}}); err == nil {
			t.Error("A created a class in B")
		}
	})
}

func BenchmarkSeed(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			db := testdb.SQLite(b)
			if dialect == "postgres" {
				db = testdb.Postgres(b)
			}
			e := newEnv(b, db)
			for _, scheme := range []string{taxonomy.SchemeGB47678, taxonomy.SchemeCJT214} {
				b.Run(scheme, func(b *testing.B) {
					for b.Loop() {
						b.StopTimer()
						tn := e.tenant(b, fmt.Sprintf("B%07d", tenantSeq.Add(1)))
						b.StartTimer()
						e.seed(b, tn, scheme)
					}
				})
			}
		})
	}
}
