package secrets_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testvault"
)

// rootClient is a Vault client with the test server's root token, for
// setting up what the code under test only consumes (policies, AppRole).
func rootClient(t testing.TB) *vault.Client {
	t.Helper()
	addr, token := testvault.Start(t)
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

func write(t testing.TB, c *vault.Client, path string, data map[string]any) *vault.Secret {
	t.Helper()
	s, err := c.Logical().Write(path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return s
}

// appRole enables AppRole at a mount of its own, creates a role with the
// given policies and token settings and returns its credentials.
func appRole(t testing.TB, root *vault.Client, mount string, role map[string]any) *secrets.AppRoleAuth {
	t.Helper()
	write(t, root, "sys/auth/"+mount, map[string]any{"type": "approle"})
	write(t, root, "auth/"+mount+"/role/platform", role)
	rid, err := root.Logical().Read("auth/" + mount + "/role/platform/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid := write(t, root, "auth/"+mount+"/role/platform/secret-id", nil)
	return &secrets.AppRoleAuth{
		RoleID:    rid.Data["role_id"].(string),
		SecretID:  sid.Data["secret_id"].(string),
		MountPath: mount,
	}
}

// TestVaultAppRoleWithPlatformPolicy logs in with AppRole under the policy
// the deployment ships (deploy/vault/platform-policy.hcl) and checks that
// the Manager's mapping of paths and key names stays inside it: reading
// configuration secrets and the whole signing-key life cycle work, writing
// configuration and keys outside cityops-tenant-* are denied.
func TestVaultAppRoleWithPlatformPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := rootClient(t)
	u := testvault.Unique(t)
	policy, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "vault", "platform-policy.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, root, "sys/policies/acl/cityops-platform-"+u, map[string]any{"policy": string(policy)})
	creds := appRole(t, root, "approle-"+u, map[string]any{
		"token_policies": []string{"cityops-platform-" + u},
		"token_ttl":      "1h",
	})
	if _, err := root.KVv2("secret").Put(ctx, "cityops/tenants/"+u+"/db", map[string]any{"dsn": "postgres://tenant"}); err != nil {
		t.Fatal(err)
	}

	addr, _ := testvault.Start(t)
	m, err := secrets.NewVault(ctx, secrets.VaultConfig{Address: addr, AppRole: creds})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	got, err := secrets.Resolve(ctx, m, "secret://kv/cityops/tenants/"+u+"/db#dsn")
	if err != nil || got != "postgres://tenant" {
		t.Fatalf("Resolve under the platform policy = %q, %v", got, err)
	}
	if err := m.Put(ctx, "kv/cityops/tenants/"+u+"/db", map[string]string{"dsn": "x"}); err == nil {
		t.Error("the platform policy allowed writing a configuration secret")
	}

	key := "tenant-" + u
	if err := m.CreateKey(ctx, key); err != nil {
		t.Fatalf("CreateKey(%s): %v", key, err)
	}
	sig, err := m.Sign(ctx, key, []byte("event"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RotateKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, m, key, []byte("event"), sig, true)
	if _, err := m.PublicKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateKey(ctx, "other-"+u); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("CreateKey outside cityops-tenant-*: error = %v, want permission denied", err)
	}
}

// TestVaultKeyNames checks the documented mapping name -> <KeyPrefix><name>.
func TestVaultKeyNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := rootClient(t)
	addr, token := testvault.Start(t)
	u := testvault.Unique(t)
	for prefix, want := range map[string]string{"": "cityops-tenant-" + u, "it-": "it-tenant-" + u} {
		m, err := secrets.NewVault(ctx, secrets.VaultConfig{Address: addr, Token: token, KeyPrefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.CreateKey(ctx, "tenant-"+u); err != nil {
			t.Fatal(err)
		}
		pub, _ := m.PublicKey(ctx, "tenant-"+u)
		_ = m.Close()
		s, err := root.Logical().Read("transit/keys/" + want)
		if err != nil || s == nil {
			t.Fatalf("prefix %q: transit/keys/%s: %v, %v", prefix, want, s, err)
		}
		if s.Data["type"] != "ed25519" {
			t.Errorf("transit/keys/%s has type %v", want, s.Data["type"])
		}
		v1, _ := s.Data["keys"].(map[string]any)["1"].(map[string]any)
		if v1["public_key"] != base64.StdEncoding.EncodeToString(pub) {
			t.Errorf("transit/keys/%s version 1 = %v, want PublicKey %x", want, v1, pub)
		}
	}
}

// TestVaultVerifySeesRotationElsewhere: a verifier in another process has
// cached the old public keys; a signature by the version rotated in since
// must still verify.
func TestVaultVerifySeesRotationElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	signer := openVault(t)
	verifier := openVault(t)
	key := "tenant-" + testvault.Unique(t)
	if err := signer.CreateKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	sig1, _ := signer.Sign(ctx, key, []byte("e1"))
	mustVerify(t, verifier, key, []byte("e1"), sig1, true) // caches version 1
	if err := signer.RotateKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	sig2, _ := signer.Sign(ctx, key, []byte("e2"))
	// Re-reads are rate-limited to one per second per key (see refreshAfter).
	time.Sleep(1100 * time.Millisecond)
	mustVerify(t, verifier, key, []byte("e2"), sig2, true)
	mustVerify(t, verifier, key, []byte("e1"), sig1, true)
}

// TestVaultGetHandWrittenValues: secrets written with the vault CLI or UI
// may hold numbers or objects; Get renders them instead of failing.
func TestVaultGetHandWrittenValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := rootClient(t)
	u := testvault.Unique(t)
	if _, err := root.KVv2("secret").Put(ctx, "cityops/"+u, map[string]any{"port": 5432, "tls": true, "name": "db"}); err != nil {
		t.Fatal(err)
	}
	m := openVault(t)
	got, err := m.Get(ctx, "kv/cityops/"+u)
	if err != nil {
		t.Fatal(err)
	}
	if got["port"] != "5432" || got["tls"] != "true" || got["name"] != "db" {
		t.Errorf("Get = %v", got)
	}
}

func TestVaultConfigErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addr, token := testvault.Start(t)
	for name, tt := range map[string]struct {
		cfg  secrets.VaultConfig
		want string
	}{
		"no address":  {secrets.VaultConfig{Token: "t"}, "address is required"},
		"bad scheme":  {secrets.VaultConfig{Address: "vault:8200", Token: "t"}, "want http(s)://host:port"},
		"no creds":    {secrets.VaultConfig{Address: addr}, "no credentials"},
		"both creds":  {secrets.VaultConfig{Address: addr, Token: "t", AppRole: &secrets.AppRoleAuth{RoleID: "r", SecretID: "s"}}, "use one"},
		"half role":   {secrets.VaultConfig{Address: addr, AppRole: &secrets.AppRoleAuth{RoleID: "r"}}, "both a role id and a secret id"},
		"bad prefix":  {secrets.VaultConfig{Address: addr, Token: token, KeyPrefix: "a/b-"}, "key prefix"},
		"bad mount":   {secrets.VaultConfig{Address: addr, Token: token, KVMount: "/secret/"}, "kv mount"},
		"bad token":   {secrets.VaultConfig{Address: addr, Token: "not-a-token"}, "permission denied"},
		"bad approle": {secrets.VaultConfig{Address: addr, AppRole: &secrets.AppRoleAuth{RoleID: "r", SecretID: "s", MountPath: "nowhere"}}, "approle login"},
	} {
		_, err := secrets.NewVault(ctx, tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want it to contain %q", name, err, tt.want)
		}
	}
}

// TestVaultUnreachable: an outage is an error, never ErrNotFound, so a
// caller does not mistake it for a missing secret.
func TestVaultUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := secrets.NewVault(ctx, secrets.VaultConfig{Address: "http://127.0.0.1:1", Token: "t", Timeout: time.Second})
	if err == nil || errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("NewVault against a closed port: error = %v", err)
	}
}

func TestVaultSignaturesAreRawEd25519(t *testing.T) {
	t.Parallel()
	// The same message signed twice gives the same bytes: Ed25519 is
	// deterministic, and no version prefix or encoding is mixed in.
	ctx := context.Background()
	m := openVault(t)
	key := "tenant-" + testvault.Unique(t)
	if err := m.CreateKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	a, _ := m.Sign(ctx, key, []byte("same"))
	b, _ := m.Sign(ctx, key, []byte("same"))
	if !bytes.Equal(a, b) {
		t.Error("two signatures of the same message differ")
	}
}
