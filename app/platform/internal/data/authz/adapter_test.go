package authz_test

import (
	"context"
	"errors"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	biz "github.com/cityops/cityops/app/platform/internal/biz/authz"
	data "github.com/cityops/cityops/app/platform/internal/data/authz"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const (
	opGet   = "/cityops.tenant.v1.TenantService/GetTenant"
	opList  = "/cityops.tenant.v1.TenantService/ListTenants"
	binyang = "000000/450000/450100/450126"
)

func revision(t *testing.T, r biz.Repo) int64 {
	t.Helper()
	rev, err := r.Revision(context.Background())
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return rev
}

func rules(t *testing.T, r biz.Repo, ptype, v0 string) [][]string {
	t.Helper()
	got, err := r.Rules(context.Background(), ptype, v0)
	if err != nil {
		t.Fatalf("Rules(%s, %q): %v", ptype, v0, err)
	}
	return got
}

func replace(t *testing.T, r biz.Repo, ptype, v0 string, rs [][]string) bool {
	t.Helper()
	changed, err := r.Replace(context.Background(), ptype, v0, rs)
	if err != nil {
		t.Fatalf("Replace(%s, %q): %v", ptype, v0, err)
	}
	return changed
}

func TestReplace(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		r := data.NewRepo(db.Ent)
		if got := revision(t, r); got != 0 {
			t.Fatalf("fresh revision = %d, want 0", got)
		}
		policy := [][]string{
			{"role:dispatcher", "*", opGet, "call"},
			{"role:platform_operator", "*", opList, "call"},
		}
		if !replace(t, r, "p", "", policy) {
			t.Fatal("first Replace reported no change")
		}
		if got := revision(t, r); got != 1 {
			t.Fatalf("revision after first Replace = %d, want 1", got)
		}
		if replace(t, r, "p", "", policy) {
			t.Error("identical Replace reported a change")
		}
		if got := revision(t, r); got != 1 {
			t.Errorf("identical Replace bumped the revision to %d", got)
		}

		// Bindings of two subjects; replacing one leaves the other and the
		// policy alone.
		replace(t, r, "g", "user:1", [][]string{{"user:1", "role:dispatcher", binyang}})
		replace(t, r, "g", "user:2", [][]string{{"user:2", "role:leader", binyang}, {"user:2", "role:overseer", "000000/450000/*"}})
		if !replace(t, r, "g", "user:2", [][]string{{"user:2", "role:leader", binyang}}) {
			t.Error("dropping a binding reported no change")
		}
		if got := revision(t, r); got != 4 {
			t.Errorf("revision = %d, want 4 (one bump per change)", got)
		}
		if diff := cmp.Diff([][]string{{"user:1", "role:dispatcher", binyang}}, rules(t, r, "g", "user:1")); diff != "" {
			t.Errorf("user:1 bindings (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([][]string{{"user:2", "role:leader", binyang}}, rules(t, r, "g", "user:2")); diff != "" {
			t.Errorf("user:2 bindings (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(policy, rules(t, r, "p", "")); diff != "" {
			t.Errorf("policy touched by binding changes (-want +got):\n%s", diff)
		}

		// The policy shrinks: the line no longer wanted goes, the rest stays.
		replace(t, r, "p", "", policy[:1])
		if diff := cmp.Diff(policy[:1], rules(t, r, "p", "")); diff != "" {
			t.Errorf("policy after shrinking (-want +got):\n%s", diff)
		}
		replace(t, r, "g", "user:1", nil)
		if got := rules(t, r, "g", "user:1"); len(got) != 0 {
			t.Errorf("user:1 bindings after removing all = %q", got)
		}
	})
}

func TestReplaceRejects(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		r := data.NewRepo(db.Ent)
		ctx := context.Background()
		if _, err := r.Replace(ctx, "g", "user:1", [][]string{{"user:2", "role:leader", binyang}}); err == nil {
			t.Error("Replace accepted a rule of another subject")
		}
		if _, err := r.Replace(ctx, "p", "", [][]string{{"a", "b", "c", "d", "e", "f", "g"}}); err == nil {
			t.Error("Replace accepted seven values")
		}
		if got := revision(t, r); got != 0 {
			t.Errorf("revision after refused writes = %d, want 0", got)
		}
	})
}

// TestOnCommit checks that a change made inside the caller's transaction
// is announced after commit only, and not at all after a rollback.
func TestOnCommit(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		r := data.NewRepo(db.Ent)
		ctx := context.Background()
		binding := [][]string{{"user:7", "role:leader", binyang}}

		called := 0
		err := db.InTx(ctx, func(ctx context.Context) error {
			if _, err := r.Replace(ctx, "g", "user:7", binding); err != nil {
				return err
			}
			r.OnCommit(ctx, func(ctx context.Context) {
				called++
				if database.TxFromContext(ctx) != nil {
					t.Error("OnCommit callback got the finished transaction")
				}
				// The callback sees the committed change.
				if got := rules(t, r, "g", "user:7"); len(got) != 1 {
					t.Errorf("after commit: bindings = %q", got)
				}
			})
			if called != 0 {
				t.Error("OnCommit ran before commit")
			}
			return nil
		})
		if err != nil {
			t.Fatalf("InTx: %v", err)
		}
		if called != 1 {
			t.Errorf("OnCommit callback ran %d times, want 1", called)
		}

		errBoom := errors.New("boom")
		err = db.InTx(ctx, func(ctx context.Context) error {
			if _, err := r.Replace(ctx, "g", "user:7", nil); err != nil {
				return err
			}
			r.OnCommit(ctx, func(context.Context) { t.Error("OnCommit ran after rollback") })
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		if got := rules(t, r, "g", "user:7"); len(got) != 1 {
			t.Errorf("rolled-back removal took effect: %q", got)
		}
		if got := revision(t, r); got != 1 {
			t.Errorf("revision = %d, want 1 (the rollback undid its bump)", got)
		}

		// Without a transaction the callback runs at once.
		ran := false
		r.OnCommit(ctx, func(context.Context) { ran = true })
		if !ran {
			t.Error("OnCommit without a transaction did not run")
		}
	})
}

// TestCasbinAdapter drives the adapter through casbin's own enforcer: the
// auto-save writes, filtered removal and SavePolicy, each bumping the
// revision.
func TestCasbinAdapter(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		a := data.NewAdapter(db.Ent)
		m, err := model.NewModelFromString(biz.ModelText)
		if err != nil {
			t.Fatal(err)
		}
		e, err := casbin.NewEnforcer(m, a)
		if err != nil {
			t.Fatalf("NewEnforcer: %v", err)
		}
		mustOK := func(ok bool, err error) {
			t.Helper()
			if err != nil || !ok {
				t.Fatalf("casbin call = %v, %v", ok, err)
			}
		}
		mustOK(e.AddPolicy("role:leader", "*", opGet, "call"))
		mustOK(e.AddPolicies([][]string{{"role:tenant_admin", "*", opGet, "call"}, {"role:tenant_admin", "*", opList, "call"}}))
		mustOK(e.AddGroupingPolicy("user:1", "role:leader", binyang))
		mustOK(e.AddGroupingPolicy("user:2", "role:tenant_admin", binyang))
		mustOK(e.RemovePolicy("role:tenant_admin", "*", opList, "call"))
		mustOK(e.RemoveFilteredGroupingPolicy(0, "user:2"))
		if got := revision(t, a); got != 6 {
			t.Errorf("revision after 6 writes = %d", got)
		}

		// A second enforcer loading from the table sees the same rules.
		e2, err := casbin.NewEnforcer(m.Copy(), a)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := e2.GetPolicy()
		g, _ := e2.GetGroupingPolicy()
		if diff := cmp.Diff([][]string{{"role:leader", "*", opGet, "call"}, {"role:tenant_admin", "*", opGet, "call"}}, p); diff != "" {
			t.Errorf("loaded policy (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([][]string{{"user:1", "role:leader", binyang}}, g); diff != "" {
			t.Errorf("loaded bindings (-want +got):\n%s", diff)
		}

		// SavePolicy replaces the whole table with the enforcer's model.
		if _, err := e2.RemovePolicy("role:leader", "*", opGet, "call"); err != nil {
			t.Fatal(err)
		}
		if err := e.SavePolicy(); err != nil {
			t.Fatalf("SavePolicy: %v", err)
		}
		if got := rules(t, a, "p", ""); len(got) != 2 {
			t.Errorf("after SavePolicy of the first enforcer: p rules = %q", got)
		}
		if got := revision(t, a); got != 8 {
			t.Errorf("revision = %d, want 8", got)
		}
	})
}
