package isolation_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/privacy"
)

// TestViewerSeesOnlyItsTenant: listing, counting and getting by id show a
// viewer its own tenant's rows only; another tenant's row is simply not
// found, never "forbidden", which would tell that it exists.
func TestViewerSeesOnlyItsTenant(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, _ backend, db *database.DB, w world) {
		for _, e := range entities {
			for _, pair := range [][2]owned{{w.A, w.B}, {w.B, w.A}} {
				self, other := pair[0], pair[1]
				ctx := viewerOf(t.Context(), self)
				tenants, err := e.tenants(ctx, db.Ent)
				if err != nil {
					t.Fatalf("%s: list: %v", e.name, err)
				}
				if len(tenants) != len(e.ids(self)) || slices.ContainsFunc(tenants, func(id int) bool { return id != self.ID }) {
					t.Errorf("%s: viewer of tenant %d lists rows of tenants %v, want %d of its own", e.name, self.ID, tenants, len(e.ids(self)))
				}
				if n, err := e.count(ctx, db.Ent); err != nil || n != len(e.ids(self)) {
					t.Errorf("%s: count = %d, %v; want %d", e.name, n, err, len(e.ids(self)))
				}
				for _, id := range e.ids(self) {
					if err := e.get(ctx, db.Ent, id); err != nil {
						t.Errorf("%s: get own row %d: %v", e.name, id, err)
					}
				}
				for _, id := range e.ids(other) {
					err := e.get(ctx, db.Ent, id)
					if !ent.IsNotFound(err) || errors.Is(err, privacy.Deny) {
						t.Errorf("%s: get row %d of tenant %d = %v, want not found", e.name, id, other.ID, err)
					}
				}
			}
			// The system sees both (and audit entries of no tenant).
			n, err := e.count(systemCtx(t), db.Ent)
			if want := len(e.ids(w.A)) + len(e.ids(w.B)); err != nil || n < want {
				t.Errorf("%s: system count = %d, %v; want at least %d", e.name, n, err, want)
			}
		}
	})
}

// TestCrossTenantWritesTouchNothing: updates and deletes of another
// tenant's rows find nothing to change, while the viewer's own rows can be
// changed (so the checks above are not vacuous).
func TestCrossTenantWritesTouchNothing(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, _ backend, db *database.DB, w world) {
		ctx := viewerOf(t.Context(), w.A)
		for _, e := range entities {
			if e.update == nil {
				continue
			}
			for _, id := range e.ids(w.B) {
				if err := e.updateOne(ctx, db.Ent, id); !ent.IsNotFound(err) {
					t.Errorf("%s: UpdateOne of tenant B's row %d = %v, want not found", e.name, id, err)
				}
				if n, err := e.update(ctx, db.Ent, id); err != nil || n != 0 {
					t.Errorf("%s: Update of tenant B's row %d = %d, %v; want 0 rows", e.name, id, n, err)
				}
				if err := e.deleteOne(ctx, db.Ent, id); !ent.IsNotFound(err) {
					t.Errorf("%s: DeleteOne of tenant B's row %d = %v, want not found", e.name, id, err)
				}
				if n, err := e.delete(ctx, db.Ent, id); err != nil || n != 0 {
					t.Errorf("%s: Delete of tenant B's row %d = %d, %v; want 0 rows", e.name, id, n, err)
				}
			}
			own := e.ids(w.A)[0]
			if n, err := e.update(ctx, db.Ent, own); err != nil || n != 1 {
				t.Errorf("%s: Update of the viewer's own row = %d, %v; want 1", e.name, n, err)
			}
			if err := e.updateOne(ctx, db.Ent, own); err != nil {
				t.Errorf("%s: UpdateOne of the viewer's own row: %v", e.name, err)
			}
			for _, id := range e.ids(w.B) {
				if err := e.get(systemCtx(t), db.Ent, id); err != nil {
					t.Errorf("%s: tenant B's row %d is gone: %v", e.name, id, err)
				}
			}
		}
		deps, err := db.Ent.Department.Query().Where(department.TenantID(w.B.ID)).All(systemCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range deps {
			if d.NameEn != "" {
				t.Errorf("tenant B's department %d was changed: name_en = %q", d.ID, d.NameEn)
			}
		}
	})
}

// TestCreateForAnotherTenantIsDenied: a row can only be created for the
// viewer's own tenant.
func TestCreateForAnotherTenantIsDenied(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, _ backend, db *database.DB, w world) {
		ctx := viewerOf(t.Context(), w.A)
		for _, e := range entities {
			if e.createFor == nil {
				continue
			}
			if err := e.createFor(ctx, db.Ent, w.B.ID, w.A.Users[0]); !errors.Is(err, privacy.Deny) {
				t.Errorf("%s: create for tenant B by a viewer of A = %v, want privacy.Deny", e.name, err)
			}
			if err := e.createFor(ctx, db.Ent, w.A.ID, w.A.Users[0]); err != nil {
				t.Errorf("%s: create for the viewer's own tenant: %v", e.name, err)
			}
		}
	})
}

// TestNoViewerIsDenied: forgetting to authenticate fails closed.
func TestNoViewerIsDenied(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, _ backend, db *database.DB, w world) {
		for _, ctx := range []context.Context{t.Context(), viewer.NewContext(t.Context(), nil)} {
			for _, e := range entities {
				if _, err := e.count(ctx, db.Ent); !errors.Is(err, privacy.Deny) {
					t.Errorf("%s: count without a viewer = %v, want privacy.Deny", e.name, err)
				}
				if err := e.get(ctx, db.Ent, e.ids(w.A)[0]); !errors.Is(err, privacy.Deny) {
					t.Errorf("%s: get without a viewer = %v, want privacy.Deny", e.name, err)
				}
				if e.createFor == nil {
					continue
				}
				if err := e.createFor(ctx, db.Ent, w.A.ID, w.A.Users[0]); !errors.Is(err, privacy.Deny) {
					t.Errorf("%s: create without a viewer = %v, want privacy.Deny", e.name, err)
				}
			}
			if _, err := db.Ent.Tenant.Query().Count(ctx); !errors.Is(err, privacy.Deny) {
				t.Errorf("tenants without a viewer = %v, want privacy.Deny", err)
			}
		}
	})
}

// TestAuditTrailIsAppendOnly: nobody, not even the system, updates or
// deletes audit entries through ent; only the system appends.
func TestAuditTrailIsAppendOnly(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, _ backend, db *database.DB, w world) {
		id := w.A.Audits[0]
		for name, ctx := range map[string]context.Context{
			"system":          systemCtx(t),
			"tenant's viewer": viewerOf(t.Context(), w.A),
		} {
			c := db.Ent.AuditEntry
			for op, err := range map[string]error{
				"UpdateOne": c.UpdateOneID(id).Exec(ctx),
				"Update":    c.Update().Exec(ctx),
				"DeleteOne": c.DeleteOneID(id).Exec(ctx),
				"Delete":    func() error { _, err := c.Delete().Exec(ctx); return err }(),
			} {
				if !errors.Is(err, privacy.Deny) {
					t.Errorf("%s by the %s = %v, want privacy.Deny", op, name, err)
				}
			}
		}
		err := db.Ent.AuditEntry.Create().SetChain(codeA).SetSeq(9).SetTenantID(w.A.ID).SetAt(w.now()).
			SetActor("user:1").SetOperation("forged").SetOutcome("ok").SetHash("forged").Exec(viewerOf(t.Context(), w.A))
		if !errors.Is(err, privacy.Deny) {
			t.Errorf("append by a tenant's viewer = %v, want privacy.Deny (only the system appends)", err)
		}
		if n, err := db.Ent.AuditEntry.Query().Count(systemCtx(t)); err != nil || n != len(w.A.Audits)+len(w.B.Audits)+1 {
			t.Errorf("audit entries = %d, %v; want all %d still there", n, err, len(w.A.Audits)+len(w.B.Audits)+1)
		}
	})
}

// TestTenantRegistry: every viewer reads the registry; only the system or
// a platform operator writes it (on PostgreSQL through the operator flag
// of row-level security too).
func TestTenantRegistry(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, _ backend, db *database.DB, w world) {
		admin := viewerOf(t.Context(), w.A)
		if n, err := db.Ent.Tenant.Query().Count(admin); err != nil || n != 2 {
			t.Errorf("tenants read by a tenant's viewer = %d, %v; want 2", n, err)
		}
		if err := db.Ent.Tenant.UpdateOneID(w.B.ID).SetNameEn("Hengzhou").Exec(admin); !errors.Is(err, privacy.Deny) {
			t.Errorf("tenant admin renames another tenant: %v, want privacy.Deny", err)
		}
		operator := viewer.NewContext(t.Context(), &viewer.Viewer{Kind: viewer.User, ActorID: 1, TenantID: w.A.ID,
			HomeTenantID: w.A.ID, Roles: []string{viewer.RolePlatformOperator}})
		if err := db.Ent.Tenant.UpdateOneID(w.B.ID).SetNameEn("Hengzhou").Exec(operator); err != nil {
			t.Errorf("platform operator renames a tenant: %v", err)
		}
	})
}

// TestViewerChangesInsideOneTransaction: a use case running as a tenant's
// viewer appends to the audit trail as the system within the same
// transaction; each statement runs with its own viewer, in both layers.
func TestViewerChangesInsideOneTransaction(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, _ backend, db *database.DB, w world) {
		ctx := viewerOf(t.Context(), w.A)
		err := db.InTx(ctx, func(ctx context.Context) error {
			c := db.Client(ctx)
			if err := c.Department.UpdateOneID(w.A.Departments[0]).SetNameEn("renamed").Exec(ctx); err != nil {
				return err
			}
			sys := viewer.SystemContext(ctx, "audit append")
			if err := c.AuditEntry.Create().SetChain(codeA).SetSeq(3).SetTenantID(w.A.ID).SetAt(w.now()).
				SetActor("user:1").SetOperation("rename").SetOutcome("ok").SetHash("h3").Exec(sys); err != nil {
				return err
			}
			// Back to the tenant's viewer: the system's scope is gone.
			ids, err := c.Department.Query().Select(department.FieldTenantID).Ints(ctx)
			if err != nil {
				return err
			}
			if len(ids) != len(w.A.Departments) || slices.ContainsFunc(ids, func(id int) bool { return id != w.A.ID }) {
				t.Errorf("after the system's statement the viewer sees departments of tenants %v", ids)
			}
			n, err := c.AuditEntry.Query().Count(ctx)
			if err == nil && n != len(w.A.Audits)+1 {
				t.Errorf("tenant A sees %d audit entries in the transaction, want %d", n, len(w.A.Audits)+1)
			}
			return err
		})
		if err != nil {
			t.Fatalf("InTx: %v", err)
		}
	})
}
