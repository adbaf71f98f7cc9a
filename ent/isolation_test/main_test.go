// Package isolation_test proves that tenants are kept apart twice: by the
// ent privacy rules (ent/rule), on SQLite and PostgreSQL, and by PostgreSQL
// row-level security (ent/migrations/postgres/*_row_level_security.sql),
// which holds even for SQL that bypasses ent, as long as it runs as the
// application role.
//
// Two sibling counties, 宾阳县 (450126) and 横州市 (450181), each own
// departments, users, sessions, API keys and audit entries; every test
// works in a fresh database seeded with both.
package isolation_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// Tenant codes of the two siblings.
const (
	codeA = "450126" // 宾阳县
	codeB = "450181" // 横州市
)

// owned is what one tenant owns in the seeded database.
type owned struct {
	ID                                            int // the tenant's id
	Departments, Users, Sessions, APIKeys, Audits []int
}

// world is the seeded database: tenant A, tenant B, and rows that belong
// to no tenant (a platform audit entry, an authorization rule).
type world struct {
	A, B owned
}

// now is the fixed time of the seeded rows.
func (world) now() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) }

// backend opens a fresh migrated database and says which layers guard it.
type backend struct {
	name string
	open func(testing.TB) *database.DB
	rls  bool // PostgreSQL row-level security binds the connection
}

// backends are the databases the ent-level tests run on: the ent rules
// alone on SQLite and on PostgreSQL as the owner (a superuser on the test
// server, which row-level security does not bind), and both layers on
// PostgreSQL as the application role, as in production.
var backends = []backend{
	{name: "sqlite", open: testdb.SQLite},
	{name: "postgres_owner", open: testdb.PostgresAsOwner},
	{name: "postgres", open: testdb.Postgres, rls: true},
}

// eachBackend runs fn as parallel subtests, one per backend, each with a
// freshly seeded database.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend, db *database.DB, w world)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			fn(t, b, db, seed(t, db))
		})
	}
}

// systemCtx acts as the platform, the one context that crosses tenants.
func systemCtx(t testing.TB) context.Context {
	return viewer.SystemContext(t.Context(), "isolation test")
}

// viewerOf returns ctx acting as a tenant administrator of o.
func viewerOf(ctx context.Context, o owned) context.Context {
	return viewer.NewContext(ctx, &viewer.Viewer{
		Kind: viewer.User, ActorID: o.Users[0], ActorName: "admin",
		HomeTenantID: o.ID, TenantID: o.ID,
		Roles: []string{viewer.RoleTenantAdmin},
	})
}

// seed creates both tenants and their rows as the system.
func seed(t testing.TB, db *database.DB) world {
	t.Helper()
	ctx := systemCtx(t)
	c := db.Ent
	now := world{}.now()
	mk := func(code, name string) owned {
		tn, err := c.Tenant.Create().SetCode(code).SetSlug("t" + code).SetNameZh(name).
			SetLevel(tenant.LevelCounty).SetPath("000000/450000/450100/" + code).SetDepth(3).Save(ctx)
		if err != nil {
			t.Fatalf("create tenant %s: %v", code, err)
		}
		o := owned{ID: tn.ID}
		for i, d := range []string{"cgj", "gdj"} {
			dep, err := c.Department.Create().SetTenantID(tn.ID).SetCode(d).SetNameZh(name + "部门" + fmt.Sprint(i)).
				SetKind(department.KindGovernment).Save(ctx)
			if err != nil {
				t.Fatalf("create department: %v", err)
			}
			o.Departments = append(o.Departments, dep.ID)
			u, err := c.User.Create().SetTenantID(tn.ID).SetLogin(fmt.Sprintf("user%d", i)).SetDisplayName("用户").
				SetPasswordHash("$argon2id$test").SetDepartmentID(dep.ID).Save(ctx)
			if err != nil {
				t.Fatalf("create user: %v", err)
			}
			o.Users = append(o.Users, u.ID)
		}
		s, err := c.Session.Create().SetTenantID(tn.ID).SetUserID(o.Users[0]).SetFamily("f" + code).
			SetTokenHash("token-" + code).SetCreatedAt(now).SetExpiresAt(now.Add(time.Hour)).Save(ctx)
		if err != nil {
			t.Fatalf("create session: %v", err)
		}
		o.Sessions = append(o.Sessions, s.ID)
		k, err := c.APIKey.Create().SetTenantID(tn.ID).SetName("connector").SetKeyID("key" + code).
			SetSecretHash("sha256").SetRoles([]string{viewer.RoleConnector}).Save(ctx)
		if err != nil {
			t.Fatalf("create api key: %v", err)
		}
		o.APIKeys = append(o.APIKeys, k.ID)
		for seq := range int64(2) {
			a, err := c.AuditEntry.Create().SetChain(code).SetSeq(seq + 1).SetTenantID(tn.ID).SetAt(now).
				SetActor("user:1").SetOperation("/identity.v1.Users/Create").SetOutcome("ok").
				SetHash(fmt.Sprintf("h%s%d", code, seq)).Save(ctx)
			if err != nil {
				t.Fatalf("create audit entry: %v", err)
			}
			o.Audits = append(o.Audits, a.ID)
		}
		return o
	}
	w := world{A: mk(codeA, "宾阳县"), B: mk(codeB, "横州市")}
	// Rows of no tenant: only the system sees them.
	if err := c.AuditEntry.Create().SetChain("platform").SetSeq(1).SetAt(now).SetActor("system").
		SetOperation("/tenant.v1.Tenants/Create").SetOutcome("ok").SetHash("hp").Exec(ctx); err != nil {
		t.Fatalf("create platform audit entry: %v", err)
	}
	if err := c.AuthzRule.Create().SetPtype("p").SetV0(viewer.RoleTenantAdmin).SetV1("*").Exec(ctx); err != nil {
		t.Fatalf("create authz rule: %v", err)
	}
	return w
}

// entities lists the tenant-owned entities with uniform access to them, so
// that every check runs on every one.
type entity struct {
	name string
	ids  func(owned) []int
	// tenants returns the tenant_id of every row visible under ctx.
	tenants func(ctx context.Context, c *ent.Client) ([]int, error)
	count   func(ctx context.Context, c *ent.Client) (int, error)
	get     func(ctx context.Context, c *ent.Client, id int) error
	// update changes a mutable field of the row by id (UpdateOne) and by
	// predicate (Update), returning the affected count of the latter.
	updateOne func(ctx context.Context, c *ent.Client, id int) error
	update    func(ctx context.Context, c *ent.Client, id int) (int, error)
	deleteOne func(ctx context.Context, c *ent.Client, id int) error
	delete    func(ctx context.Context, c *ent.Client, id int) (int, error)
	// createFor creates a row owned by tenantID; userID is the caller's
	// own user where the row must reference one.
	createFor func(ctx context.Context, c *ent.Client, tenantID, userID int) error
}
