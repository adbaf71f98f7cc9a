package isolation_test

import (
	"context"
	"strconv"
	"time"

	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/apikey"
	"github.com/cityops/cityops/ent/auditentry"
	"github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/session"
	"github.com/cityops/cityops/ent/user"
)

// entities are the tenant-owned entities (TenantMixin) with the same
// operations on each. Audit entries, read-only through ent, are checked
// for reads here and for writes in TestAuditTrailIsAppendOnly.
var entities = []entity{
	{
		name: "department",
		ids:  func(o owned) []int { return o.Departments },
		tenants: func(ctx context.Context, c *ent.Client) ([]int, error) {
			return c.Department.Query().Select(department.FieldTenantID).Ints(ctx)
		},
		count: func(ctx context.Context, c *ent.Client) (int, error) { return c.Department.Query().Count(ctx) },
		get: func(ctx context.Context, c *ent.Client, id int) error {
			_, err := c.Department.Get(ctx, id)
			return err
		},
		updateOne: func(ctx context.Context, c *ent.Client, id int) error {
			return c.Department.UpdateOneID(id).SetNameEn("changed").Exec(ctx)
		},
		update: func(ctx context.Context, c *ent.Client, id int) (int, error) {
			return c.Department.Update().Where(department.ID(id)).SetNameEn("changed").Save(ctx)
		},
		deleteOne: func(ctx context.Context, c *ent.Client, id int) error { return c.Department.DeleteOneID(id).Exec(ctx) },
		delete: func(ctx context.Context, c *ent.Client, id int) (int, error) {
			return c.Department.Delete().Where(department.ID(id)).Exec(ctx)
		},
		createFor: func(ctx context.Context, c *ent.Client, tenantID, _ int) error {
			return c.Department.Create().SetTenantID(tenantID).SetCode("new").SetNameZh("新部门").
				SetKind(department.KindOther).Exec(ctx)
		},
	},
	{
		name: "user",
		ids:  func(o owned) []int { return o.Users },
		tenants: func(ctx context.Context, c *ent.Client) ([]int, error) {
			return c.User.Query().Select(user.FieldTenantID).Ints(ctx)
		},
		count: func(ctx context.Context, c *ent.Client) (int, error) { return c.User.Query().Count(ctx) },
		get: func(ctx context.Context, c *ent.Client, id int) error {
			_, err := c.User.Get(ctx, id)
			return err
		},
		updateOne: func(ctx context.Context, c *ent.Client, id int) error {
			return c.User.UpdateOneID(id).SetDisplayName("changed").Exec(ctx)
		},
		update: func(ctx context.Context, c *ent.Client, id int) (int, error) {
			return c.User.Update().Where(user.ID(id)).SetDisplayName("changed").Save(ctx)
		},
		deleteOne: func(ctx context.Context, c *ent.Client, id int) error { return c.User.DeleteOneID(id).Exec(ctx) },
		delete: func(ctx context.Context, c *ent.Client, id int) (int, error) {
			return c.User.Delete().Where(user.ID(id)).Exec(ctx)
		},
		createFor: func(ctx context.Context, c *ent.Client, tenantID, _ int) error {
			return c.User.Create().SetTenantID(tenantID).SetLogin("intruder").SetDisplayName("x").
				SetPasswordHash("$argon2id$x").Exec(ctx)
		},
	},
	{
		name: "session",
		ids:  func(o owned) []int { return o.Sessions },
		tenants: func(ctx context.Context, c *ent.Client) ([]int, error) {
			return c.Session.Query().Select(session.FieldTenantID).Ints(ctx)
		},
		count: func(ctx context.Context, c *ent.Client) (int, error) { return c.Session.Query().Count(ctx) },
		get: func(ctx context.Context, c *ent.Client, id int) error {
			_, err := c.Session.Get(ctx, id)
			return err
		},
		updateOne: func(ctx context.Context, c *ent.Client, id int) error {
			return c.Session.UpdateOneID(id).SetRevokeReason("changed").Exec(ctx)
		},
		update: func(ctx context.Context, c *ent.Client, id int) (int, error) {
			return c.Session.Update().Where(session.ID(id)).SetRevokeReason("changed").Save(ctx)
		},
		deleteOne: func(ctx context.Context, c *ent.Client, id int) error { return c.Session.DeleteOneID(id).Exec(ctx) },
		delete: func(ctx context.Context, c *ent.Client, id int) (int, error) {
			return c.Session.Delete().Where(session.ID(id)).Exec(ctx)
		},
		createFor: func(ctx context.Context, c *ent.Client, tenantID, userID int) error {
			now := time.Now()
			return c.Session.Create().SetTenantID(tenantID).SetUserID(userID).SetFamily("x").
				SetTokenHash("forged-" + strconv.Itoa(tenantID)).
				SetCreatedAt(now).SetExpiresAt(now.Add(time.Hour)).Exec(ctx)
		},
	},
	{
		name: "api_key",
		ids:  func(o owned) []int { return o.APIKeys },
		tenants: func(ctx context.Context, c *ent.Client) ([]int, error) {
			return c.APIKey.Query().Select(apikey.FieldTenantID).Ints(ctx)
		},
		count: func(ctx context.Context, c *ent.Client) (int, error) { return c.APIKey.Query().Count(ctx) },
		get: func(ctx context.Context, c *ent.Client, id int) error {
			_, err := c.APIKey.Get(ctx, id)
			return err
		},
		updateOne: func(ctx context.Context, c *ent.Client, id int) error {
			return c.APIKey.UpdateOneID(id).SetCreatedBy("changed").Exec(ctx)
		},
		update: func(ctx context.Context, c *ent.Client, id int) (int, error) {
			return c.APIKey.Update().Where(apikey.ID(id)).SetCreatedBy("changed").Save(ctx)
		},
		deleteOne: func(ctx context.Context, c *ent.Client, id int) error { return c.APIKey.DeleteOneID(id).Exec(ctx) },
		delete: func(ctx context.Context, c *ent.Client, id int) (int, error) {
			return c.APIKey.Delete().Where(apikey.ID(id)).Exec(ctx)
		},
		createFor: func(ctx context.Context, c *ent.Client, tenantID, _ int) error {
			return c.APIKey.Create().SetTenantID(tenantID).SetName("forged").SetKeyID("forged" + strconv.Itoa(tenantID)).
				SetSecretHash("x").Exec(ctx)
		},
	},
	{
		name: "audit_entry",
		ids:  func(o owned) []int { return o.Audits },
		tenants: func(ctx context.Context, c *ent.Client) ([]int, error) {
			// tenant_id is nullable here (platform entries have none): 0.
			rows, err := c.AuditEntry.Query().Select(auditentry.FieldTenantID).All(ctx)
			var ids []int
			for _, r := range rows {
				if r.TenantID == nil {
					ids = append(ids, 0)
				} else {
					ids = append(ids, *r.TenantID)
				}
			}
			return ids, err
		},
		count: func(ctx context.Context, c *ent.Client) (int, error) { return c.AuditEntry.Query().Count(ctx) },
		get: func(ctx context.Context, c *ent.Client, id int) error {
			_, err := c.AuditEntry.Get(ctx, id)
			return err
		},
	},
}
