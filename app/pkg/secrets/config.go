package secrets

import (
	"context"
	"fmt"
	"os"
)

// Backends for Config.Backend.
const (
	BackendLocal = "local"
	BackendVault = "vault"
)

// Config selects and configures the Manager that Open returns.
type Config struct {
	// Backend is BackendLocal (default: the embedded mode) or BackendVault.
	Backend string
	// LocalPath is the local store's file. Default DefaultLocalPath
	// (var/secrets.json).
	LocalPath string
	// Vault configures BackendVault. Fields left empty are taken from the
	// standard Vault environment variables (see Open).
	Vault VaultConfig
}

// Open returns the Manager that cfg selects. For the Vault backend, empty
// fields of cfg.Vault are filled from the environment variables Vault's own
// tools use, so a deployment configures Vault the usual way:
//
//	VAULT_ADDR       Address
//	VAULT_ROLE_ID    AppRole.RoleID   } when neither a token nor AppRole
//	VAULT_SECRET_ID  AppRole.SecretID } is configured
//	VAULT_TOKEN      Token, when neither is configured and the two
//	                 variables above are unset
//	VAULT_CACERT     CACert
//	VAULT_NAMESPACE  Namespace
//
// Explicit configuration always wins over the environment; a token in the
// environment does not override AppRole credentials in the configuration or
// the other way round.
func Open(ctx context.Context, cfg Config) (Manager, error) {
	switch cfg.Backend {
	case "", BackendLocal:
		return NewLocal(cfg.LocalPath)
	case BackendVault:
		return NewVault(ctx, vaultFromEnv(cfg.Vault, os.Getenv))
	default:
		return nil, fmt.Errorf("secrets: open: unknown backend %q (want %q or %q)", cfg.Backend, BackendLocal, BackendVault)
	}
}

// vaultFromEnv fills empty fields of c from getenv (os.Getenv outside of
// tests), following the rules documented on Open.
func vaultFromEnv(c VaultConfig, getenv func(string) string) VaultConfig {
	fill := func(dst *string, name string) {
		if *dst == "" {
			*dst = getenv(name)
		}
	}
	fill(&c.Address, "VAULT_ADDR")
	fill(&c.CACert, "VAULT_CACERT")
	fill(&c.Namespace, "VAULT_NAMESPACE")
	if c.Token == "" && c.AppRole == nil {
		role, secret := getenv("VAULT_ROLE_ID"), getenv("VAULT_SECRET_ID")
		if role != "" || secret != "" {
			c.AppRole = &AppRoleAuth{RoleID: role, SecretID: secret}
		} else {
			c.Token = getenv("VAULT_TOKEN")
		}
	}
	return c
}
