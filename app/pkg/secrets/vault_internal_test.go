package secrets

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	vault "github.com/hashicorp/vault/api"

	"github.com/cityops/cityops/app/pkg/testvault"
)

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

// tokenAlive reports whether Vault still accepts token.
func tokenAlive(root *vault.Client, token string) bool {
	s, err := root.Logical().Write("auth/token/lookup", map[string]any{"token": token})
	return err == nil && s != nil
}

// TestVaultTokenRenewal gives the Manager a token that lives 2 seconds:
// it must outlive that while the Manager is open (renewed by the
// goroutine), and expire once Close has stopped the goroutine.
func TestVaultTokenRenewal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := rootClient(t)
	s, err := root.Logical().Write("auth/token/create", map[string]any{
		"policies":  []string{"default"},
		"ttl":       "2s",
		"renewable": true,
	})
	if err != nil {
		t.Fatal(err)
	}
	token := s.Auth.ClientToken
	addr, _ := testvault.Start(t)
	mgr, err := NewVault(ctx, VaultConfig{Address: addr, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	m := mgr.(*vaultManager)

	time.Sleep(4 * time.Second)
	if !tokenAlive(root, token) {
		t.Fatal("the token expired although the Manager was open: renewal does not work")
	}

	closed := make(chan struct{})
	go func() { _ = m.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return: the renewal goroutine does not stop")
	}
	select {
	case <-m.renewDone:
	default:
		t.Fatal("Close returned before the renewal goroutine ended")
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	deadline := time.Now().Add(10 * time.Second)
	for tokenAlive(root, token) {
		if time.Now().After(deadline) {
			t.Fatal("the token is still alive 10s after Close: something keeps renewing it")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestVaultRootTokenNeedsNoRenewal: a token without TTL starts no watcher.
func TestVaultRootTokenNeedsNoRenewal(t *testing.T) {
	t.Parallel()
	addr, token := testvault.Start(t)
	mgr, err := NewVault(context.Background(), VaultConfig{Address: addr, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-mgr.(*vaultManager).renewDone:
	case <-time.After(2 * time.Second):
		t.Error("a renewal goroutine runs for a token that never expires")
	}
	_ = mgr.Close()
}

// TestVaultAppRoleRelogin: AppRole tokens that hit their max TTL cannot be
// renewed further; the Manager must log in again and keep working.
func TestVaultAppRoleRelogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := rootClient(t)
	u := testvault.Unique(t)
	if _, err := root.Logical().Write("sys/policies/acl/relogin-"+u, map[string]any{
		"policy": `path "secret/data/cityops/` + u + `/*" { capabilities = ["create", "update", "read"] }`,
	}); err != nil {
		t.Fatal(err)
	}
	mount := "approle-" + u
	if _, err := root.Logical().Write("sys/auth/"+mount, map[string]any{"type": "approle"}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write("auth/"+mount+"/role/platform", map[string]any{
		"token_policies": []string{"relogin-" + u},
		"token_ttl":      "2s",
		"token_max_ttl":  "3s",
	}); err != nil {
		t.Fatal(err)
	}
	rid, err := root.Logical().Read("auth/" + mount + "/role/platform/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := root.Logical().Write("auth/"+mount+"/role/platform/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}

	addr, _ := testvault.Start(t)
	mgr, err := NewVault(ctx, VaultConfig{Address: addr, AppRole: &AppRoleAuth{
		RoleID:    rid.Data["role_id"].(string),
		SecretID:  sid.Data["secret_id"].(string),
		MountPath: mount,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	m := mgr.(*vaultManager)
	first := m.client.Token()

	path := "kv/cityops/" + u + "/x"
	if err := m.Put(ctx, path, map[string]string{"value": "1"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for m.client.Token() == first {
		if time.Now().After(deadline) {
			t.Fatal("no new AppRole login within 15s of a 3s max TTL")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Past the first token's max TTL, the Manager still works.
	time.Sleep(3 * time.Second)
	if tokenAlive(root, first) {
		t.Error("the first token outlived its max TTL")
	}
	got, err := m.Get(ctx, path)
	if err != nil || got["value"] != "1" {
		t.Fatalf("Get after re-login = %v, %v", got, err)
	}
}

func TestVaultFromEnv(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	all := env(map[string]string{
		"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "tok", "VAULT_ROLE_ID": "rid",
		"VAULT_SECRET_ID": "sid", "VAULT_CACERT": "/ca.pem", "VAULT_NAMESPACE": "ns",
	})
	tokenOnly := env(map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "tok"})
	tests := []struct {
		name string
		in   VaultConfig
		env  func(string) string
		want VaultConfig
	}{
		{"env fills everything, AppRole preferred", VaultConfig{}, all,
			VaultConfig{Address: "https://vault:8200", AppRole: &AppRoleAuth{RoleID: "rid", SecretID: "sid"}, CACert: "/ca.pem", Namespace: "ns"}},
		{"token from env", VaultConfig{}, tokenOnly,
			VaultConfig{Address: "https://vault:8200", Token: "tok"}},
		{"explicit wins", VaultConfig{Address: "http://127.0.0.1:8200", Token: "mine"}, all,
			VaultConfig{Address: "http://127.0.0.1:8200", Token: "mine", CACert: "/ca.pem", Namespace: "ns"}},
		{"configured AppRole is not overridden by an env token", VaultConfig{AppRole: &AppRoleAuth{RoleID: "r", SecretID: "s"}}, tokenOnly,
			VaultConfig{Address: "https://vault:8200", AppRole: &AppRoleAuth{RoleID: "r", SecretID: "s"}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, vaultFromEnv(tt.in, tt.env)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestParseTransitSignature(t *testing.T) {
	t.Parallel()
	sig := make([]byte, 64)
	sig[0] = 7
	raw, v, err := parseTransitSignature("vault:v3:BwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")
	if err != nil || v != 3 || !cmp.Equal(raw, sig) {
		t.Fatalf("parseTransitSignature = %x, %d, %v", raw, v, err)
	}
	for _, bad := range []string{"", "vault:v1", "vault:vx:AAAA", "vault:v0:AAAA", "x:v1:AAAA", "vault:v1:AAAA", "vault:v1:!!"} {
		if _, _, err := parseTransitSignature(bad); err == nil {
			t.Errorf("parseTransitSignature(%q) succeeded", bad)
		}
	}
}
