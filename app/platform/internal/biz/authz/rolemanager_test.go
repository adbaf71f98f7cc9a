package authz

import (
	"slices"
	"strconv"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestRoleManagerMatchesCasbin compares the decisions of our role manager
// with those of casbin's default domain manager given the same domain
// matching function, over the embedded policy and a set of bindings at
// every kind of domain pattern.
func TestRoleManagerMatchesCasbin(t *testing.T) {
	t.Parallel()
	const (
		guangxi  = "000000/450000"
		nanning  = guangxi + "/450100"
		binyang  = nanning + "/450126"
		hengzhou = nanning + "/450181"
		liuzhou  = guangxi + "/450200"
	)
	p, err := parsePolicy(policyCSV, publicTxt)
	if err != nil {
		t.Fatal(err)
	}
	bindings := [][]string{
		{"user:1", "role:dispatcher", binyang},
		{"user:1", "role:supervisor", binyang},
		{"user:2", "role:tenant_admin", hengzhou},
		{"user:3", "role:leader", nanning},
		{"user:3", "role:overseer", nanning + "/*"},
		{"user:4", "role:overseer", guangxi + "/*"},
		{"user:4", "role:tenant_admin", guangxi},
		{"user:5", "role:platform_operator", "*"},
		{"user:5", "role:leader", "000000"},
		{"apikey:6", "role:connector", liuzhou},
		{"apikey:7", "role:channel", binyang},
		{"user:8", "role:overseer", "000000/*"},
	}
	build := func(e *casbin.Enforcer) *casbin.Enforcer {
		t.Helper()
		for _, r := range p.rules {
			if err := e.GetModel().AddPolicy("p", "p", r); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range bindings {
			if err := e.GetModel().AddPolicy("g", "g", b); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.BuildRoleLinks(); err != nil {
			t.Fatal(err)
		}
		return e
	}
	ours, err := newEnforcer()
	if err != nil {
		t.Fatal(err)
	}
	build(ours)
	m, err := model.NewModelFromString(ModelText)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := casbin.NewEnforcer(m)
	if err != nil {
		t.Fatal(err)
	}
	ref.AddNamedDomainMatchingFunc("g", "tenantPath", MatchDomain)
	build(ref)

	domains := []string{"", "000000", guangxi, nanning, binyang, hengzhou, liuzhou, liuzhou + "/450202", "000000/990000"}
	ops := append(slices.Clone(p.operations), "/cityops.tenant.v1.TenantService/DeleteTenant")
	subjects := []string{"user:1", "user:2", "user:3", "user:4", "user:5", "apikey:6", "apikey:7", "user:8", "user:99"}
	decisions := 0
	for _, s := range subjects {
		for _, d := range domains {
			got, want := ours.GetRolesForUserInDomain(s, d), ref.GetRolesForUserInDomain(s, d)
			slices.Sort(got)
			slices.Sort(want)
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("roles of %s in %q (-casbin +ours):\n%s", s, d, diff)
			}
			for _, op := range ops {
				g, gerr := ours.Enforce(s, d, op, ActionCall)
				w, werr := ref.Enforce(s, d, op, ActionCall)
				if g != w || gerr != nil || werr != nil {
					t.Errorf("Enforce(%s, %q, %s): ours %v (%v), casbin %v (%v)", s, d, op, g, gerr, w, werr)
				}
				if w {
					decisions++
				}
			}
		}
	}
	if decisions == 0 {
		t.Fatal("no request was allowed; the comparison proves nothing")
	}
}

func TestRoleManagerInheritance(t *testing.T) {
	t.Parallel()
	rm := newRoleManager()
	rm.AddDomainMatchingFunc("", MatchDomain)
	const county = "000000/450000/450100/450126"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rm.AddLink("user:1", "role:a", county))
	must(rm.AddLink("role:a", "role:b", "*"))
	must(rm.AddLink("role:b", "role:a", "*")) // a cycle must not hang
	if ok, _ := rm.HasLink("user:1", "role:b", county); !ok {
		t.Error("inherited role not found")
	}
	if ok, _ := rm.HasLink("user:1", "role:b", "000000/450000/450100/450181"); ok {
		t.Error("inherited role found outside the domain of the binding")
	}
	if ok, _ := rm.HasLink("role:x", "role:x", county); ok {
		t.Error("a name holds itself")
	}
	roles, _ := rm.GetImplicitRoles("user:1", county)
	slices.Sort(roles)
	if diff := cmp.Diff([]string{"role:a", "role:b"}, roles); diff != "" {
		t.Errorf("GetImplicitRoles (-want +got):\n%s", diff)
	}
	users, _ := rm.GetImplicitUsers("role:b", county)
	if diff := cmp.Diff([]string{"role:a", "role:b", "user:1"}, users); diff != "" {
		t.Errorf("GetImplicitUsers (-want +got):\n%s", diff)
	}
	must(rm.DeleteLink("user:1", "role:a", county))
	if ok, _ := rm.HasLink("user:1", "role:a", county); ok {
		t.Error("deleted link still held")
	}
	if _, err := rm.HasLink("user:1", "role:a"); err == nil {
		t.Error("HasLink without a domain did not fail")
	}
}

func TestDecisionMemoIsBounded(t *testing.T) {
	t.Parallel()
	var d decisionMemo
	for i := range maxMemoizedDecisions + 10 {
		d.store(strconv.Itoa(i), i%2 == 0)
	}
	if n := d.n.Load(); n > maxMemoizedDecisions {
		t.Errorf("memo holds %d entries, bound %d", n, maxMemoizedDecisions)
	}
	last := maxMemoizedDecisions + 9
	if v, ok := d.load(strconv.Itoa(last)); !ok || v != (last%2 == 0) {
		t.Errorf("latest entry = %v, %v", v, ok)
	}
	if _, ok := d.load("0"); ok {
		t.Error("the memo did not start over when full")
	}
}
