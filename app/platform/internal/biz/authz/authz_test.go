package authz_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/go-kratos/kratos/v2/log"
	"github.com/google/go-cmp/cmp"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/authz"
	data "github.com/cityops/cityops/app/platform/internal/data/authz"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// The sample region: 广西 → 南宁市 → 宾阳县, 横州市; 柳州市 beside 南宁市.
const (
	national = "000000"
	guangxi  = "000000/450000"
	nanning  = "000000/450000/450100"
	binyang  = "000000/450000/450100/450126"
	hengzhou = "000000/450000/450100/450181"
	liuzhou  = "000000/450000/450200"
)

// Operations, spelled out so that a renamed RPC shows up here.
const (
	tenantSvc   = "/cityops.tenant.v1.TenantService/"
	identitySvc = "/cityops.identity.v1.IdentityService/"
	caseSvc     = "/cityops.caseflow.v1.CaseService/"
	auditSvc    = "/cityops.audit.v1.AuditService/"

	opGetTenant       = tenantSvc + "GetTenant"
	opCreateTenant    = tenantSvc + "CreateTenant"
	opListTenants     = tenantSvc + "ListTenants"
	opListDepartments = tenantSvc + "ListDepartments"
	opSetUserRoles    = identitySvc + "SetUserRoles"
)

// newAuthorizer returns a seeded Authorizer on db.
func newAuthorizer(t testing.TB, db *database.DB, poll time.Duration) *authz.Authorizer {
	t.Helper()
	ctx := context.Background()
	a, err := authz.New(ctx, data.NewRepo(db.Ent), authz.Options{PollInterval: poll, Logger: log.NewStdLogger(io.Discard)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := a.Seed(ctx); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return a
}

func setRoles(t testing.TB, a *authz.Authorizer, subject, home string, roles ...string) {
	t.Helper()
	if err := a.SetRoles(context.Background(), subject, home, roles); err != nil {
		t.Fatalf("SetRoles(%s, %s, %q): %v", subject, home, roles, err)
	}
}

var (
	humanRoles = []string{
		viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher,
		viewer.RoleHandler, viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleLeader, viewer.RoleTenantAdmin,
	}
	machineRoles = []string{viewer.RoleConnector, viewer.RoleChannel}
	po           = viewer.RolePlatformOperator
	overseer     = viewer.RoleOverseer
)

func with(base []string, more ...string) []string { return append(slices.Clone(base), more...) }

// spec is who may call what, written from the requirements rather than
// from policy.csv: the matrix test compares the two. Public operations are
// listed separately. A new line in policy.csv needs its entry here.
var spec = map[string][]string{
	tenantSvc + "CreateTenant":    {po},
	tenantSvc + "UpdateTenant":    {po},
	tenantSvc + "SuspendTenant":   {po},
	tenantSvc + "ResumeTenant":    {po},
	tenantSvc + "ListTenants":     {po},
	tenantSvc + "GetTenant":       with(humanRoles, overseer, po),
	tenantSvc + "GetTenantTree":   with(humanRoles, overseer, po),
	tenantSvc + "ListDepartments": with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),

	identitySvc + "WhoAmI":        viewer.AllRoles,
	identitySvc + "CreateUser":    {viewer.RoleTenantAdmin, po},
	identitySvc + "GetUser":       {viewer.RoleTenantAdmin, po, viewer.RoleLeader},
	identitySvc + "ListUsers":     {viewer.RoleTenantAdmin, po, viewer.RoleLeader},
	identitySvc + "UpdateUser":    {viewer.RoleTenantAdmin, po},
	identitySvc + "SetUserStatus": {viewer.RoleTenantAdmin, po},
	identitySvc + "ResetPassword": {viewer.RoleTenantAdmin, po},
	identitySvc + "SetUserRoles":  {viewer.RoleTenantAdmin, po},
	identitySvc + "CreateAPIKey":  {viewer.RoleTenantAdmin, po},
	identitySvc + "ListAPIKeys":   {viewer.RoleTenantAdmin, po},
	identitySvc + "RevokeAPIKey":  {viewer.RoleTenantAdmin, po},

	auditSvc + "SearchAudit": {viewer.RoleTenantAdmin, viewer.RoleLeader, po},
	auditSvc + "VerifyAudit": {viewer.RoleTenantAdmin, po},

	"/cityops.registry.v1.TaxonomyService/ListClasses":            with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.TaxonomyService/GetClass":               with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.TaxonomyService/ListFilingConditions":   with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.TaxonomyService/Crosswalk":              with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.TaxonomyService/ExportTaxonomy":         with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.TaxonomyService/UpsertLocalClass":       {viewer.RoleTenantAdmin, po},
	"/cityops.registry.v1.TaxonomyService/DeactivateClass":        {viewer.RoleTenantAdmin, po},
	"/cityops.registry.v1.TaxonomyService/UpsertFilingCondition":  {viewer.RoleTenantAdmin, po},
	"/cityops.registry.v1.TaxonomyService/ImportTaxonomy":         {viewer.RoleTenantAdmin, po},
	"/cityops.registry.v1.GridService/Locate":                     with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.GridService/GetUnitGrid":                with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.GridService/ListUnitGrids":              with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.GridService/ListRegions":                with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.GridService/ListWorkGrids":              with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.GridService/GetCoverage":                with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.GridService/ImportGrids":                {viewer.RoleTenantAdmin, po},
	"/cityops.registry.v1.ComponentService/GetComponent":          with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.ComponentService/ListComponents":        with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.ComponentService/Nearby":                with(humanRoles, po, viewer.RoleConnector, viewer.RoleChannel),
	"/cityops.registry.v1.ComponentService/UpdateComponentStatus": {viewer.RoleTenantAdmin, po, viewer.RoleHandler, viewer.RoleSupervisor},
	"/cityops.registry.v1.ComponentService/ImportComponents":      {viewer.RoleTenantAdmin, po},
	"/cityops.registry.v1.ComponentService/ExportComponents":      {viewer.RoleTenantAdmin, po},

	caseSvc + "SubmitCase":                                              {viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleChannel, po},
	caseSvc + "FindDuplicates":                                          {viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleLeader, viewer.RoleChannel, po},
	caseSvc + "TransitionCase":                                          {viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleHandler, po},
	caseSvc + "GetCase":                                                 with(humanRoles, po),
	caseSvc + "ListCaseTimeline":                                        with(humanRoles, po),
	caseSvc + "SearchCases":                                             with(humanRoles, po),
	caseSvc + "CountCases":                                              with(humanRoles, po),
	caseSvc + "ListWorkQueue":                                           with(humanRoles, po),
	"/cityops.caseflow.v1.AttachmentService/UploadAttachment":           {viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleHandler, viewer.RoleChannel, po},
	"/cityops.caseflow.v1.AttachmentService/GetAttachment":              with(humanRoles, po),
	"/cityops.dispatch.v1.DispatchRuleService/CreateDispatchRule":       {viewer.RoleTenantAdmin, viewer.RoleShiftLeader, po},
	"/cityops.dispatch.v1.DispatchRuleService/UpdateDispatchRule":       {viewer.RoleTenantAdmin, viewer.RoleShiftLeader, po},
	"/cityops.dispatch.v1.DispatchRuleService/DeleteDispatchRule":       {viewer.RoleTenantAdmin, viewer.RoleShiftLeader, po},
	"/cityops.dispatch.v1.DispatchRuleService/SetAutoDispatch":          {viewer.RoleTenantAdmin, viewer.RoleShiftLeader, po},
	"/cityops.dispatch.v1.DispatchRuleService/ImportDispatchRules":      {viewer.RoleTenantAdmin, viewer.RoleShiftLeader, po},
	"/cityops.dispatch.v1.DispatchRuleService/GetDispatchRule":          {viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleLeader, viewer.RoleTenantAdmin, po},
	"/cityops.dispatch.v1.DispatchRuleService/ListDispatchRules":        {viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleLeader, viewer.RoleTenantAdmin, po},
	"/cityops.dispatch.v1.DispatchRuleService/ListAutoDispatch":         {viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleLeader, viewer.RoleTenantAdmin, po},
	"/cityops.dispatch.v1.DispatchRuleService/ExportDispatchRules":      {viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleLeader, viewer.RoleTenantAdmin, po},
	"/cityops.dispatch.v1.DispatchRuleService/PreviewDispatch":          {viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleLeader, viewer.RoleTenantAdmin, po},
	"/cityops.supervision.v1.SupervisionService/SuperviseCase":          {viewer.RoleLeader, viewer.RoleShiftLeader, po},
	"/cityops.supervision.v1.SupervisionService/CloseSupervisionOrder":  {viewer.RoleLeader, viewer.RoleShiftLeader, po},
	"/cityops.supervision.v1.SupervisionService/AnswerSupervisionOrder": {viewer.RoleHandler, po},
	"/cityops.supervision.v1.SupervisionService/ListSupervisionOrders":  {viewer.RoleLeader, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleHandler, viewer.RoleInspector, viewer.RoleTenantAdmin, po},
	"/cityops.supervision.v1.SupervisionService/GetSupervisionOrder":    {viewer.RoleLeader, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleHandler, viewer.RoleInspector, viewer.RoleTenantAdmin, po},
	"/cityops.supervision.v1.SupervisionService/ListNotifications":      {viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleHandler, viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleLeader, viewer.RoleTenantAdmin, po},
	"/cityops.supervision.v1.SupervisionService/MarkNotificationsRead":  {viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleHandler, viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleLeader, viewer.RoleTenantAdmin, po},
	"/cityops.supervision.v1.SupervisionService/GetEscalationChain":     {viewer.RoleLeader, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleInspector, viewer.RoleTenantAdmin, po},
	"/cityops.supervision.v1.SupervisionService/ListEscalationChains":   {viewer.RoleLeader, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleInspector, viewer.RoleTenantAdmin, po},
	"/cityops.supervision.v1.SupervisionService/SetEscalationChain":     {viewer.RoleTenantAdmin, viewer.RoleLeader, po},
	"/cityops.federation.v1.ConnectorService/CreateConnector":           {viewer.RoleTenantAdmin, po},
	"/cityops.federation.v1.ConnectorService/UpdateConnector":           {viewer.RoleTenantAdmin, po},
	"/cityops.federation.v1.ConnectorService/DeleteConnector":           {viewer.RoleTenantAdmin, po},
	"/cityops.federation.v1.ConnectorService/GetConnector":              {viewer.RoleTenantAdmin, viewer.RoleLeader, po, overseer},
	"/cityops.federation.v1.ConnectorService/ListConnectors":            {viewer.RoleTenantAdmin, viewer.RoleLeader, po, overseer},
	"/cityops.federation.v1.ConnectorService/ListDeadLetters":           {viewer.RoleTenantAdmin, po},
	"/cityops.federation.v1.ConnectorService/GetDeadLetter":             {viewer.RoleTenantAdmin, po},
	"/cityops.federation.v1.ConnectorService/ReplayDeadLetter":          {viewer.RoleTenantAdmin, po},
	"/cityops.federation.v1.OversightService/ListChildCases":            {viewer.RoleLeader, viewer.RoleShiftLeader, viewer.RoleInspector, viewer.RoleEvaluator, po, overseer},
	"/cityops.federation.v1.OversightService/GetChildCase":              {viewer.RoleLeader, viewer.RoleShiftLeader, viewer.RoleInspector, viewer.RoleEvaluator, po, overseer},
	"/cityops.federation.v1.OversightService/ListChildIndicators":       {viewer.RoleLeader, viewer.RoleShiftLeader, viewer.RoleInspector, viewer.RoleEvaluator, po, overseer},
	"/cityops.federation.v1.OversightService/GetFeedHealth":             {viewer.RoleLeader, viewer.RoleShiftLeader, viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleTenantAdmin, po, overseer},
	"/cityops.federation.v1.OversightService/IssueCommand":              {po, overseer},
	"/cityops.federation.v1.OversightService/ListCommands":              {viewer.RoleLeader, viewer.RoleShiftLeader, viewer.RoleInspector, po, overseer},
	"/cityops.federation.v1.OversightService/AnswerCommand":             {viewer.RoleLeader, viewer.RoleShiftLeader, po},
	caseSvc + "SuggestClass":                                            {viewer.RoleSupervisor, viewer.RoleIntake, viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleLeader, viewer.RoleChannel, po},
	caseSvc + "ExportCases":                                             {viewer.RoleShiftLeader, viewer.RoleDispatcher, viewer.RoleHandler, viewer.RoleInspector, viewer.RoleEvaluator, viewer.RoleLeader, viewer.RoleTenantAdmin, po},
}

var publicOps = []string{
	identitySvc + "Login", identitySvc + "Refresh", identitySvc + "Logout", identitySvc + "ChangePassword",
}

// holder is a subject of the matrix and where it holds its role.
type holder struct {
	subject string
	role    string
	home    string // the tenant path of an ordinary role; "" for overseer and platform operator
}

// matrixHolders binds every ordinary role in 宾阳县, 横州市 and 南宁市 (machine
// roles to API keys), an overseer at 南宁市 and a platform operator, and
// returns them.
func matrixHolders(t *testing.T, a *authz.Authorizer) []holder {
	t.Helper()
	var hs []holder
	id := 100
	for _, home := range []string{binyang, hengzhou, nanning} {
		for _, r := range viewer.AllRoles {
			if r == overseer || r == po {
				continue
			}
			id++
			kind := "user:"
			if slices.Contains(machineRoles, r) {
				kind = "apikey:"
			}
			h := holder{subject: kind + itoa(id), role: r, home: home}
			setRoles(t, a, h.subject, home, r)
			hs = append(hs, h)
		}
	}
	setRoles(t, a, "user:900", nanning, overseer)
	setRoles(t, a, "user:901", national, po)
	return append(hs, holder{subject: "user:900", role: overseer}, holder{subject: "user:901", role: po})
}

func itoa(n int) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// want is the decision the requirements give.
func want(h holder, domain, op string) bool {
	if slices.Contains(publicOps, op) {
		return true
	}
	if !slices.Contains(spec[op], h.role) {
		return false
	}
	switch h.role {
	case po:
		return true
	case overseer:
		return strings.HasPrefix(domain, nanning+"/")
	default:
		return domain == h.home
	}
}

func TestMatrix(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		a := newAuthorizer(t, db, 0)
		holders := matrixHolders(t, a)

		// The policy names exactly the operations the spec covers.
		wantOps := slices.Concat(publicOps, mapKeys(spec))
		slices.Sort(wantOps)
		if diff := cmp.Diff(wantOps, a.Operations()); diff != "" {
			t.Fatalf("Operations() differ from the spec of this test (-spec +policy.csv):\n%s", diff)
		}

		domains := []string{binyang, hengzhou, nanning, liuzhou, ""}
		for _, op := range a.Operations() {
			for _, h := range holders {
				for _, d := range domains {
					if got, w := a.Allowed(h.subject, d, op), want(h, d, op); got != w {
						t.Errorf("Allowed(%s as %s, %q, %s) = %v, want %v", h.subject, h.role, d, op, got, w)
					}
				}
			}
		}

		// RolesIn: what a holder holds where.
		for _, h := range holders {
			for _, d := range domains {
				var w []string
				switch {
				case h.role == po,
					h.role == overseer && strings.HasPrefix(d, nanning+"/"),
					h.home != "" && h.home == d:
					w = []string{h.role}
				}
				if diff := cmp.Diff(w, a.RolesIn(h.subject, d)); diff != "" {
					t.Errorf("RolesIn(%s as %s, %q) (-want +got):\n%s", h.subject, h.role, d, diff)
				}
			}
		}

		// The cases a reader looks for, by name.
		checks := []struct {
			name                string
			subject, domain, op string
			want                bool
		}{
			{"宾阳县 dispatcher reads 宾阳县", subjectOf(holders, viewer.RoleDispatcher, binyang), binyang, opGetTenant, true},
			{"宾阳县 dispatcher cannot read 横州市", subjectOf(holders, viewer.RoleDispatcher, binyang), hengzhou, opGetTenant, false},
			{"南宁市 overseer reads 宾阳县", "user:900", binyang, opGetTenant, true},
			{"南宁市 overseer reads no department list of 宾阳县", "user:900", binyang, opListDepartments, false},
			{"南宁市 overseer has nothing in 南宁市 itself", "user:900", nanning, opGetTenant, false},
			{"南宁市 overseer has nothing in sibling 柳州市", "user:900", liuzhou, opGetTenant, false},
			{"南宁市 overseer has nothing in 广西", "user:900", guangxi, opGetTenant, false},
			{"tenant admin cannot create tenants", subjectOf(holders, viewer.RoleTenantAdmin, nanning), nanning, opCreateTenant, false},
			{"tenant admin cannot create tenants platform-wide", subjectOf(holders, viewer.RoleTenantAdmin, nanning), "", opCreateTenant, false},
			{"platform operator creates tenants", "user:901", "", opCreateTenant, true},
			{"platform operator lists tenants", "user:901", "", opListTenants, true},
			{"connector lists departments", subjectOf(holders, viewer.RoleConnector, binyang), binyang, opListDepartments, true},
			{"connector cannot read the tenant", subjectOf(holders, viewer.RoleConnector, binyang), binyang, opGetTenant, false},
			{"tenant admin sets roles at home", subjectOf(holders, viewer.RoleTenantAdmin, binyang), binyang, opSetUserRoles, true},
			{"tenant admin sets no roles next door", subjectOf(holders, viewer.RoleTenantAdmin, binyang), hengzhou, opSetUserRoles, false},
			{"a role name is no subject", "role:platform_operator", binyang, opGetTenant, false},
			{"a pattern is no tenant", "user:900", nanning + "/*", opGetTenant, false},
			{"strangers get nothing", "user:99999", binyang, opGetTenant, false},
		}
		for _, c := range checks {
			if got := a.Allowed(c.subject, c.domain, c.op); got != c.want {
				t.Errorf("%s: Allowed(%s, %q, %s) = %v, want %v", c.name, c.subject, c.domain, c.op, got, c.want)
			}
		}
	})
}

func subjectOf(hs []holder, role, home string) string {
	for _, h := range hs {
		if h.role == role && h.home == home {
			return h.subject
		}
	}
	panic("no holder of " + role + " in " + home)
}

func mapKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestDefaultDeny: what the policy does not name is denied to everyone,
// platform operators included; public operations are the only exception.
func TestDefaultDeny(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		a := newAuthorizer(t, db, 0)
		holders := matrixHolders(t, a)
		unnamed := []string{
			tenantSvc + "DeleteTenant",             // does not exist
			"/cityops.caseflow.v1.CaseService/Get", // a service yet to come
			strings.ToLower(opGetTenant),           // operations are case-sensitive
			opGetTenant + "/",                      // and exact
			"",
		}
		for _, op := range unnamed {
			if a.IsPublic(op) {
				t.Errorf("IsPublic(%q) = true", op)
			}
			for _, h := range holders {
				for _, d := range []string{binyang, hengzhou, nanning, national, ""} {
					if a.Allowed(h.subject, d, op) {
						t.Errorf("Allowed(%s as %s, %q, %q) = true, want default deny", h.subject, h.role, d, op)
					}
				}
			}
		}
		for _, op := range publicOps {
			if !a.IsPublic(op) || !a.Allowed("", "", op) {
				t.Errorf("%s: IsPublic = %v, Allowed(anonymous) = %v; want both true", op, a.IsPublic(op), a.Allowed("", "", op))
			}
		}
	})
}

// TestUnseededDeniesAll: a database without the policy lines answers no to
// everything but the public operations; it never fails open.
func TestUnseededDeniesAll(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a, err := authz.New(ctx, data.NewRepo(db.Ent), authz.Options{})
		if err != nil {
			t.Fatal(err)
		}
		setRoles(t, a, "user:1", national, po)
		if a.Allowed("user:1", binyang, opGetTenant) {
			t.Error("platform operator allowed before Seed")
		}
		if err := a.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		if !a.Allowed("user:1", binyang, opGetTenant) {
			t.Error("platform operator denied after Seed")
		}
	})
}

func TestSeed(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a := newAuthorizer(t, db, 0)
		repo := data.NewRepo(db.Ent)
		rev := a.Revision()
		if rev != 1 {
			t.Fatalf("revision after the first Seed = %d, want 1", rev)
		}
		if err := a.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := repo.Revision(ctx); got != rev {
			t.Errorf("second Seed moved the revision %d → %d", rev, got)
		}

		// A stray line (hand-written, or left by an older release) goes; a
		// binding stays.
		setRoles(t, a, "user:1", binyang, viewer.RoleDispatcher)
		stray := []string{"role:dispatcher", "*", opCreateTenant, "call"}
		if err := data.NewAdapter(db.Ent).AddPolicyCtx(ctx, "p", "p", stray); err != nil {
			t.Fatal(err)
		}
		if err := a.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if !a.Allowed("user:1", binyang, opCreateTenant) {
			t.Fatal("the stray line did not take effect; the test proves nothing")
		}
		if err := a.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		if a.Allowed("user:1", binyang, opCreateTenant) {
			t.Error("Seed left a line that is not in policy.csv")
		}
		if !a.Allowed("user:1", binyang, opGetTenant) {
			t.Error("Seed touched the bindings")
		}
		p, err := repo.Rules(ctx, "p", "")
		if err != nil {
			t.Fatal(err)
		}
		lines := 0
		for _, op := range a.Operations() {
			lines += len(spec[op])
		}
		if len(p) != lines {
			t.Errorf("stored %d policy lines, the spec has %d", len(p), lines)
		}
	})
}

func TestSetRoles(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a := newAuthorizer(t, db, 0)

		setRoles(t, a, "user:1", binyang, viewer.RoleLeader, viewer.RoleDispatcher, viewer.RoleLeader)
		roles, err := a.Roles(ctx, "user:1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{viewer.RoleDispatcher, viewer.RoleLeader}, roles); diff != "" {
			t.Errorf("Roles (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{viewer.RoleDispatcher, viewer.RoleLeader}, a.RolesIn("user:1", binyang)); diff != "" {
			t.Errorf("RolesIn (-want +got):\n%s", diff)
		}

		// Replacing: the old set is gone, not merged.
		setRoles(t, a, "user:1", binyang, viewer.RoleEvaluator)
		if diff := cmp.Diff([]string{viewer.RoleEvaluator}, a.RolesIn("user:1", binyang)); diff != "" {
			t.Errorf("RolesIn after replacing (-want +got):\n%s", diff)
		}

		// A city leader who oversees the counties.
		setRoles(t, a, "user:2", nanning, viewer.RoleLeader, overseer)
		if diff := cmp.Diff([]string{viewer.RoleLeader}, a.RolesIn("user:2", nanning)); diff != "" {
			t.Errorf("RolesIn at home (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{overseer}, a.RolesIn("user:2", hengzhou)); diff != "" {
			t.Errorf("RolesIn in a county (-want +got):\n%s", diff)
		}

		rev := a.Revision()
		refused := []struct {
			name, subject, home string
			roles               []string
			reason              func(error) bool
			role                string
		}{
			{"escalation to platform operator", "user:1", binyang, []string{viewer.RoleLeader, po}, errorsv1.IsRoleInvalid, po},
			{"platform operator from a province", "user:1", guangxi, []string{po}, errorsv1.IsRoleInvalid, po},
			{"unknown role", "user:1", binyang, []string{"mayor"}, errorsv1.IsRoleInvalid, "mayor"},
			{"role with prefix", "user:1", binyang, []string{"role:leader"}, errorsv1.IsRoleInvalid, "role:leader"},
			{"machine role for a user", "user:1", binyang, []string{viewer.RoleConnector}, errorsv1.IsRoleInvalid, viewer.RoleConnector},
			{"role as subject", "role:leader", binyang, []string{viewer.RoleLeader}, errorsv1.IsInvalidArgument, ""},
			{"relative home", "user:1", "450000/450100", []string{viewer.RoleLeader}, errorsv1.IsInvalidArgument, ""},
			{"pattern home", "user:1", nanning + "/*", []string{viewer.RoleLeader}, errorsv1.IsInvalidArgument, ""},
			{"empty home", "user:1", "", []string{viewer.RoleLeader}, errorsv1.IsInvalidArgument, ""},
		}
		for _, r := range refused {
			err := a.SetRoles(ctx, r.subject, r.home, r.roles)
			if !r.reason(err) {
				t.Errorf("%s: SetRoles = %v", r.name, err)
				continue
			}
			if r.role != "" {
				if got := kerrors.FromError(err).Metadata["role"]; got != r.role {
					t.Errorf("%s: metadata role = %q, want %q", r.name, got, r.role)
				}
			}
		}
		if a.Revision() != rev {
			t.Error("a refused SetRoles changed the revision")
		}
		if diff := cmp.Diff([]string{viewer.RoleEvaluator}, a.RolesIn("user:1", binyang)); diff != "" {
			t.Errorf("a refused SetRoles changed the bindings (-want +got):\n%s", diff)
		}

		// Allowed: the national tenant grants platform operators; an API
		// key may be a connector.
		setRoles(t, a, "user:3", national, po, viewer.RoleTenantAdmin)
		setRoles(t, a, "apikey:4", binyang, viewer.RoleConnector)
		if diff := cmp.Diff([]string{viewer.RoleTenantAdmin, po}, a.RolesIn("user:3", national)); diff != "" {
			t.Errorf("RolesIn national (-want +got):\n%s", diff)
		}

		// Unchanged roles write nothing.
		setRoles(t, a, "apikey:4", binyang, viewer.RoleConnector)
		if got := a.Revision(); got != rev+2 {
			t.Errorf("revision = %d, want %d (two changes since)", got, rev+2)
		}

		// Removing.
		setRoles(t, a, "user:2", nanning)
		if got := a.RolesIn("user:2", hengzhou); len(got) != 0 {
			t.Errorf("SetRoles with no roles left %q", got)
		}
		if err := a.RemoveSubject(ctx, "user:1"); err != nil {
			t.Fatal(err)
		}
		roles, err = a.Roles(ctx, "user:1")
		if err != nil || len(roles) != 0 || len(a.RolesIn("user:1", binyang)) != 0 {
			t.Errorf("after RemoveSubject: Roles = %q, %v; RolesIn = %q", roles, err, a.RolesIn("user:1", binyang))
		}
		if err := a.RemoveSubject(ctx, ""); !errorsv1.IsInvalidArgument(err) {
			t.Errorf("RemoveSubject(\"\") = %v, want INVALID_ARGUMENT", err)
		}
		if got, _ := a.Roles(ctx, "user:3"); len(got) != 2 {
			t.Errorf("RemoveSubject of user:1 touched user:3: %q", got)
		}
	})
}

// TestSetRolesInCallerTx: inside the caller's transaction the change takes
// effect locally when it commits, and never when it rolls back.
func TestSetRolesInCallerTx(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a := newAuthorizer(t, db, 0)
		err := db.InTx(ctx, func(ctx context.Context) error {
			if err := a.SetRoles(ctx, "user:1", binyang, []string{viewer.RoleLeader}); err != nil {
				return err
			}
			if a.Allowed("user:1", binyang, opGetTenant) {
				t.Error("uncommitted binding already in force")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !a.Allowed("user:1", binyang, opGetTenant) {
			t.Error("committed binding not in force")
		}

		errBoom := errors.New("boom")
		err = db.InTx(ctx, func(ctx context.Context) error {
			if err := a.RemoveSubject(ctx, "user:1"); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatal(err)
		}
		if err := a.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if !a.Allowed("user:1", binyang, opGetTenant) {
			t.Error("rolled-back removal took effect")
		}
	})
}

// TestHotReload: two replicas on one database. A grant made through one is
// in force there at once and in the other after its next poll.
func TestHotReload(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		a1 := newAuthorizer(t, db, time.Hour)
		a2 := newAuthorizer(t, db, 10*time.Millisecond)
		a3 := newAuthorizer(t, db, time.Hour) // never polls: Reload only
		var wg sync.WaitGroup
		runCtx, stop := context.WithCancel(ctx)
		wg.Go(func() { a2.Run(runCtx) })
		defer wg.Wait()
		defer stop()

		eventually := func(what string, cond func() bool) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for !cond() {
				if time.Now().After(deadline) {
					t.Fatalf("%s: not within 5s", what)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}

		setRoles(t, a1, "user:1", binyang, viewer.RoleDispatcher)
		if !a1.Allowed("user:1", binyang, opGetTenant) {
			t.Error("the replica that made the change does not apply it at once")
		}
		eventually("grant reaches the polling replica", func() bool { return a2.Allowed("user:1", binyang, opGetTenant) })
		if a3.Allowed("user:1", binyang, opGetTenant) {
			t.Error("a replica that neither polled nor reloaded changed")
		}
		if err := a3.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if !a3.Allowed("user:1", binyang, opGetTenant) {
			t.Error("Reload did not pick up the grant")
		}

		if err := a1.RemoveSubject(ctx, "user:1"); err != nil {
			t.Fatal(err)
		}
		eventually("revocation reaches the polling replica", func() bool { return !a2.Allowed("user:1", binyang, opGetTenant) })
		if a1.Revision() != a2.Revision() {
			t.Errorf("revisions differ after reload: %d vs %d", a1.Revision(), a2.Revision())
		}
	})
}

// TestConcurrentReads runs decisions while policies are swapped under
// them; with -race it proves the swap is safe.
func TestConcurrentReads(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		a := newAuthorizer(t, db, 0)
		setRoles(t, a, "user:1", binyang, viewer.RoleDispatcher)
		done := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					if !a.Allowed("user:1", binyang, opGetTenant) {
						t.Error("a stable grant flickered during reloads")
						return
					}
					_ = a.RolesIn("user:2", hengzhou)
				}
			})
		}
		for i := range 10 {
			setRoles(t, a, "user:2", hengzhou, humanRoles[i%len(humanRoles)])
		}
		close(done)
		wg.Wait()
	})
}
