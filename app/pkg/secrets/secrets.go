// Package secrets keeps CityOps's secret values and signing keys out of
// configuration files and out of the platform's memory where possible.
//
// It offers one interface, Manager, with two implementations:
//
//   - NewVault: HashiCorp Vault in production — KV version 2 for values,
//     Transit for Ed25519 signing keys (the private keys never leave Vault).
//   - NewLocal: a JSON file (var/secrets.json by default) for the embedded,
//     single-machine mode, holding values and Ed25519 keys itself.
//
// Configuration never holds a secret; it holds a reference such as
//
//	secret://kv/cityops/tenants/450126/db#dsn
//
// which Resolve looks up (the idea follows exposure-notifications-server's
// pkg/secrets resolver). The first path segment names a mount: "kv" is the
// KV store, which Vault serves from its KV v2 mount secret/ (configurable).
//
// Both implementations pass the same contract tests against real backends
// (a real Vault server from app/pkg/testvault, real files), so code above
// this package behaves the same in embedded mode and in production.
package secrets

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned (wrapped; test with errors.Is) when a secret path
// or a signing key does not exist.
var ErrNotFound = errors.New("secret not found")

// Store reads and writes secret values: small maps of named string fields.
//
// Paths look like "kv/cityops/tenants/450126/admin". The first segment names
// the mount; "kv" is the only one so far and maps to Vault's KV v2 mount
// (VaultConfig.KVMount, default "secret"). Segments consist of ASCII
// letters, digits and ". _ - @ + =", and may not be "." or "..", so a path
// means the same thing in a file and in a URL.
type Store interface {
	// Get returns the latest version of the secret at path, or an error
	// wrapping ErrNotFound when there is none (never written or deleted).
	Get(ctx context.Context, path string) (map[string]string, error)
	// Put replaces the secret at path with data (a new version in Vault).
	Put(ctx context.Context, path string, data map[string]string) error
	// Delete removes the secret at path, so Get reports ErrNotFound. It is
	// not an error when nothing is there. Vault keeps the deleted version
	// recoverable (a KV v2 soft delete) until an operator destroys it.
	Delete(ctx context.Context, path string) error
}

// Signer holds named Ed25519 signing keys — one per tenant ("tenant-450126")
// for the federation's event signatures. The private key never leaves the
// signer: Vault Transit in production, the local file in embedded mode.
//
// Keys are versioned. RotateKey adds a version that signs from then on;
// Verify accepts a signature of any version still held, as Transit does, so
// events signed before a rotation keep verifying. Signatures are raw 64-byte
// Ed25519 signatures (RFC 8032), which is what goes on the wire and what any
// Ed25519 implementation verifies against PublicKey.
type Signer interface {
	// CreateKey creates the Ed25519 key name if it does not exist yet; it
	// is idempotent, so onboarding can call it every time.
	CreateKey(ctx context.Context, name string) error
	// Sign signs data with the latest version of key name and returns the
	// raw 64-byte signature. An unknown key gives an error wrapping
	// ErrNotFound; Sign never creates keys.
	Sign(ctx context.Context, name string, data []byte) ([]byte, error)
	// Verify reports whether sig is a valid signature of data by any held
	// version of key name. A wrong signature is (false, nil); an unknown
	// key or an unreachable backend is an error.
	Verify(ctx context.Context, name string, data, sig []byte) (bool, error)
	// PublicKey returns the public half of the latest version of key name,
	// which other tenants use to verify this one's events.
	PublicKey(ctx context.Context, name string) (ed25519.PublicKey, error)
	// RotateKey adds a new version to key name; later Sign calls use it.
	RotateKey(ctx context.Context, name string) error
}

// Manager is both a Store and a Signer. Close releases its resources (for
// Vault, stops the token renewal); the Manager must not be used after.
type Manager interface {
	Store
	Signer
	Close() error
}

// mountKV is the mount name every Store path starts with today.
const mountKV = "kv"

// maxNameLen bounds key names and path segments; Vault accepts more, but
// nothing legitimate here comes close and a bound keeps errors readable.
const maxNameLen = 128

// splitPath validates path and returns its mount (first segment) and the
// rest. It is shared by both implementations so a path accepted locally is
// accepted by Vault too.
func splitPath(path string) (mount, rest string, err error) {
	if path == "" {
		return "", "", errors.New("empty secret path")
	}
	segs := strings.Split(path, "/")
	if len(segs) < 2 {
		return "", "", fmt.Errorf("secret path %q: want <mount>/<path>, e.g. kv/cityops/platform/db", path)
	}
	for _, s := range segs {
		if err := checkSegment(s); err != nil {
			return "", "", fmt.Errorf("secret path %q: %w", path, err)
		}
	}
	if segs[0] != mountKV {
		return "", "", fmt.Errorf("secret path %q: unknown mount %q (known: %q)", path, segs[0], mountKV)
	}
	return segs[0], strings.Join(segs[1:], "/"), nil
}

// checkSegment validates one path segment.
func checkSegment(s string) error {
	switch {
	case s == "":
		return errors.New("empty segment (leading, trailing or double slash)")
	case s == "." || s == "..":
		return fmt.Errorf("segment %q not allowed", s)
	case len(s) > maxNameLen:
		return fmt.Errorf("segment longer than %d bytes", maxNameLen)
	}
	for i := 0; i < len(s); i++ {
		if !isPathByte(s[i]) {
			return fmt.Errorf("segment %q: character %q not allowed (use letters, digits and . _ - @ + =)", s, s[i])
		}
	}
	return nil
}

func isPathByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '.', c == '_', c == '-', c == '@', c == '+', c == '=':
		return true
	}
	return false
}

// checkKeyName validates a signing key name. Names become one Vault path
// segment (after the key prefix), so they are stricter than paths: letters,
// digits, "-" and "_".
func checkKeyName(name string) error {
	if name == "" {
		return errors.New("empty key name")
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("key name longer than %d bytes", maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("key name %q: character %q not allowed (use letters, digits, - and _)", name, c)
		}
	}
	return nil
}

// copyData returns a copy of m, so callers can never alias a store's state.
func copyData(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// checkData rejects data a store cannot round-trip faithfully.
func checkData(data map[string]string) error {
	if len(data) == 0 {
		return errors.New("empty data: a secret needs at least one field (use Delete to remove it)")
	}
	for k := range data {
		if k == "" {
			return errors.New("empty field name")
		}
	}
	return nil
}
