package onboarding

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/cityops/cityops/app/pkg/manifest"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// AccountCreator creates a user if absent (the identity use case's
// Bootstrap): idempotent, so onboarding can run again.
type AccountCreator func(ctx context.Context, t *tenant.Tenant, login, displayName, password string, roles []string) (created bool, err error)

// SecretStore is where first passwords live (app/pkg/secrets.Store).
type SecretStore interface {
	Get(ctx context.Context, path string) (map[string]string, error)
	Put(ctx context.Context, path string, data map[string]string) error
}

// Accounts creates each tenant's first administrator and, in embedded
// mode, the demo accounts. NotFound is the secret store's "absent" error
// (secrets.ErrNotFound), matched with errors.Is.
type Accounts struct {
	Create      AccountCreator
	Secrets     SecretStore
	NotFound    error
	Tenants     *tenant.Usecase
	GeneratePwd func() (string, error)
}

// Credential is an account whose password the operator must be told once.
type Credential struct {
	TenantCode string
	TenantName string
	Login      string
	Role       string
	Password   string
	// New is true when the password was generated just now.
	New bool
}

// password returns the password stored at ref (secret://path#field, field
// "value" by default), generating and storing one when absent.
func (a *Accounts) password(ctx context.Context, ref string) (string, bool, error) {
	path, field, ok := strings.Cut(strings.TrimPrefix(ref, "secret://"), "#")
	if !ok || field == "" {
		field = "value"
	}
	if !strings.HasPrefix(ref, "secret://") || path == "" {
		return "", false, fmt.Errorf("password reference %q is not secret://<path>", ref)
	}
	data, err := a.Secrets.Get(ctx, path)
	switch {
	case err == nil && data[field] != "":
		return data[field], false, nil
	case err != nil && !errors.Is(err, a.NotFound):
		return "", false, fmt.Errorf("read %s: %w", ref, err)
	}
	gen := a.GeneratePwd
	if gen == nil {
		gen = GeneratePassword
	}
	pw, err := gen()
	if err != nil {
		return "", false, err
	}
	if data == nil {
		data = map[string]string{}
	}
	data[field] = pw
	if err := a.Secrets.Put(ctx, path, data); err != nil {
		return "", false, fmt.Errorf("store %s: %w", ref, err)
	}
	return pw, true, nil
}

// EnsureAdmins creates each manifest's first administrator (tenant_admin)
// with the password its reference names, generating one when the secret
// store has none. It returns the accounts whose password was generated, to
// be printed once.
func (a *Accounts) EnsureAdmins(ctx context.Context, ts []*manifest.Tenant) ([]Credential, error) {
	var out []Credential
	for _, m := range ts {
		if m.Admin == nil {
			continue
		}
		t, err := a.Tenants.Get(ctx, m.Code)
		if err != nil {
			return nil, err
		}
		pw, generated, err := a.password(ctx, m.Admin.PasswordRef)
		if err != nil {
			return nil, fmt.Errorf("tenant %s admin: %w", m.Code, err)
		}
		name := m.Admin.DisplayName
		if name == "" {
			name = m.NameZH + "管理员"
		}
		created, err := a.Create(ctx, t, m.Admin.Login, name, pw, []string{viewer.RoleTenantAdmin})
		if err != nil {
			return nil, fmt.Errorf("tenant %s admin: %w", m.Code, err)
		}
		if created && generated {
			out = append(out, Credential{TenantCode: t.Code, TenantName: t.NameZH, Login: m.Admin.Login, Role: viewer.RoleTenantAdmin, Password: pw, New: true})
		}
	}
	return out, nil
}

// demoRoles are the posts a newcomer can try in a demo tenant; each gets an
// account whose login is the role name.
var demoRoles = []struct{ role, zh string }{
	{viewer.RoleSupervisor, "监督员"}, {viewer.RoleIntake, "受理员"}, {viewer.RoleShiftLeader, "值班长"},
	{viewer.RoleDispatcher, "派遣员"}, {viewer.RoleHandler, "处置人员"}, {viewer.RoleInspector, "督察"},
	{viewer.RoleEvaluator, "考评员"}, {viewer.RoleLeader, "领导"}, {viewer.RoleTenantAdmin, "管理员"},
}

// EnsureDemoAccounts creates one account per role in each demo tenant (and
// an overseer in a city, and a platform operator in the national tenant
// when it exists), with passwords kept in the secret store under
// kv/cityops/demo/<code>/<login>. It returns every demo credential so
// `make run` can print them at each start.
func (a *Accounts) EnsureDemoAccounts(ctx context.Context, codes []string) ([]Credential, error) {
	var out []Credential
	ensure := func(t *tenant.Tenant, login, role, zh string, more ...string) error {
		pw, generated, err := a.password(ctx, "secret://kv/cityops/demo/"+t.Code+"/"+login)
		if err != nil {
			return err
		}
		created, err := a.Create(ctx, t, login, "演示"+zh, pw, append([]string{role}, more...))
		if err != nil {
			return fmt.Errorf("demo account %s/%s: %w", t.Code, login, err)
		}
		out = append(out, Credential{TenantCode: t.Code, TenantName: t.NameZH, Login: login, Role: role, Password: pw, New: created && generated})
		return nil
	}
	for _, code := range codes {
		t, err := a.Tenants.Get(ctx, code)
		if err != nil {
			return nil, fmt.Errorf("demo tenant %s: %w", code, err)
		}
		for _, r := range demoRoles {
			if err := ensure(t, strings.ReplaceAll(r.role, "_", "-"), r.role, r.zh); err != nil {
				return nil, err
			}
		}
		if t.Level == "city" || t.Level == "province" {
			// Oversight covers descendants only; the leader role gives the
			// account a footing in its own tenant too.
			if err := ensure(t, "overseer", viewer.RoleOverseer, "上级监管", viewer.RoleLeader); err != nil {
				return nil, err
			}
		}
	}
	if root, err := a.Tenants.Get(ctx, "000000"); err == nil {
		if err := ensure(root, "operator", viewer.RolePlatformOperator, "平台运维"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GeneratePassword returns an 18-character password meeting the password
// policy (letters of both cases and digits: three classes), without
// look-alikes or characters a shell or a JSON string would need escaped, so
// it can be pasted into a curl command as printed.
func GeneratePassword() (string, error) {
	const (
		lower  = "abcdefghijkmnpqrstuvwxyz"
		upper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		digits = "23456789"
	)
	pick := func(set string) (byte, error) {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return 0, err
		}
		return set[n.Int64()], nil
	}
	classes := []string{lower, upper, digits}
	b := make([]byte, 18)
	for i := range b {
		set := lower + upper + digits
		if i < len(classes) {
			set = classes[i]
		}
		c, err := pick(set)
		if err != nil {
			return "", err
		}
		b[i] = c
	}
	// Shuffle so the class of each position is not predictable.
	for i := len(b) - 1; i > 0; i-- {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		j := n.Int64()
		b[i], b[j] = b[j], b[i]
	}
	return string(b), nil
}
