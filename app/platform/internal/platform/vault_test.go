package platform_test

import (
	"context"
	"crypto/ed25519"
	"io"
	"testing"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/testvault"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/identity"
	"github.com/cityops/cityops/app/platform/internal/platform"
)

// TestVaultBackedPlatform runs the platform's core on a real Vault server:
// onboarding creates each tenant's Ed25519 signing key in Transit, the
// access-token key ring lives in KV v2, sign-in works with it, and a
// tenant's signature verifies with its public key and not with another's.
func TestVaultBackedPlatform(t *testing.T) {
	t.Parallel()
	addr, token := testvault.Start(t)
	ctx := context.Background()
	sm, err := secrets.NewVault(ctx, secrets.VaultConfig{Address: addr, Token: token, KeyPrefix: "cityops-" + testvault.Unique(t) + "-"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sm.Close() })
	core, err := platform.NewCore(ctx, testdb.Postgres(t), sm, platform.CoreOptions{Logger: log.NewStdLogger(io.Discard), Argon2: cheapArgon2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(core.Close)
	sys := viewer.SystemContext(ctx, "test onboarding")
	sum, err := core.OnboardDir(sys, seedDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Admins) != 5 {
		t.Fatalf("first administrators: %+v", sum.Admins)
	}
	// The generated admin passwords went to Vault KV, and sign-in works
	// with the key ring Vault holds.
	for _, a := range sum.Admins {
		stored, err := sm.Get(ctx, "kv/cityops/tenants/"+a.TenantCode+"/admin")
		if err != nil || stored["value"] != a.Password {
			t.Fatalf("admin password of %s not in Vault: %v", a.TenantCode, err)
		}
	}
	a := sum.Admins[3]
	tok, err := core.Identity.Login(ctx, identity.LoginInput{TenantCode: a.TenantCode, Login: a.Login, Password: a.Password, ClientAddr: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := core.Identity.Authenticate(ctx, tok.AccessToken); err != nil || p.TenantCode != a.TenantCode {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	msg := []byte("cn.cityops.case.filed.v1 20261122001")
	sig, err := sm.Sign(ctx, platform.SigningKeyName("450126"), msg)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := sm.PublicKey(ctx, platform.SigningKeyName("450126"))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := sm.PublicKey(ctx, platform.SigningKeyName("450181"))
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(mine, msg, sig) || ed25519.Verify(theirs, msg, sig) {
		t.Fatal("a tenant's signature must verify with its own key only")
	}
}
