package federation

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Cache lifetimes of the tenant tree and the keys. A new tenant or a
// rotated key is picked up within these; a signature that fails with the
// cached keys is re-checked against fresh ones before it is called forged.
const (
	tenantTTL   = 30 * time.Second
	missingTTL  = 5 * time.Second
	keyTTL      = time.Minute
	peerRefresh = time.Second
)

// errTenantMissing marks a code that names no tenant of the tree.
var errTenantMissing = errors.New("federation: no such tenant")

// tenantCache resolves tenant codes through a short-lived cache: every
// message needs its sender's place in the tree.
type tenantCache struct {
	tenants Tenants
	now     func() time.Time

	mu sync.Mutex
	m  map[string]tenantEntry
}

type tenantEntry struct {
	t  *tenant.Tenant // nil: missing
	at time.Time
}

func newTenantCache(t Tenants, now func() time.Time) *tenantCache {
	return &tenantCache{tenants: t, now: now, m: map[string]tenantEntry{}}
}

// get returns the tenant of code, errTenantMissing when the tree has none,
// or the lookup's error (transient).
func (c *tenantCache) get(ctx context.Context, code string) (*tenant.Tenant, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[code]
	c.mu.Unlock()
	if ok && (e.t != nil && now.Sub(e.at) < tenantTTL || e.t == nil && now.Sub(e.at) < missingTTL) {
		if e.t == nil {
			return nil, errTenantMissing
		}
		return e.t, nil
	}
	t, err := c.tenants.GetByCode(viewer.SystemContext(ctx, "federation: resolve tenant"), code)
	switch {
	case errorsv1.IsTenantNotFound(err):
		t = nil
	case err != nil:
		return nil, fmt.Errorf("resolve tenant %s: %w", code, err)
	}
	c.mu.Lock()
	c.m[code] = tenantEntry{t: t, at: now}
	c.mu.Unlock()
	if t == nil {
		return nil, errTenantMissing
	}
	return t, nil
}

// keyring verifies signatures with senders' public keys: the Signer's for
// tenants hosted here (their private keys live in Vault or the local
// store), registered peer keys for tenants hosted elsewhere.
type keyring struct {
	signer  Signer
	peers   PeerKeys
	keyName func(string) string
	now     func() time.Time

	mu sync.Mutex
	m  map[string]keyEntry
}

type keyEntry struct {
	hosted bool
	keys   []ed25519.PublicKey // empty: no key known
	at     time.Time
}

func newKeyring(s Signer, p PeerKeys, keyName func(string) string, now func() time.Time) *keyring {
	return &keyring{signer: s, peers: p, keyName: keyName, now: now, m: map[string]keyEntry{}}
}

// verify checks sig over input as tenant code's. It returns the dead-letter
// reason and detail when the signature is not acceptable ("" when it is),
// and an error only when a backend could not answer (try again later).
func (k *keyring) verify(ctx context.Context, code string, input, sig []byte) (reason, detail string, err error) {
	if len(sig) == 0 {
		return ReasonForged, "the event is not signed", nil
	}
	if len(sig) != ed25519.SignatureSize {
		return ReasonForged, fmt.Sprintf("the signature has %d bytes, not %d", len(sig), ed25519.SignatureSize), nil
	}
	e, err := k.load(ctx, code, false)
	if err != nil {
		return "", "", err
	}
	if len(e.keys) == 0 {
		return ReasonUnknownSender, "no public key is registered for tenant " + code, nil
	}
	for _, pk := range e.keys {
		if ed25519.Verify(pk, input, sig) {
			return "", "", nil
		}
	}
	if e.hosted {
		// An older key version still verifies (a rotation in between);
		// only the signer holds those.
		ok, err := k.signer.Verify(ctx, k.keyName(code), input, sig)
		switch {
		case errors.Is(err, secrets.ErrNotFound):
			return ReasonUnknownSender, "the signing key of tenant " + code + " is gone", nil
		case err != nil:
			return "", "", fmt.Errorf("verify signature of %s: %w", code, err)
		case ok:
			return "", "", nil
		}
		return ReasonForged, "the signature does not verify with the key of tenant " + code, nil
	}
	if k.now().Sub(e.at) >= peerRefresh {
		// A peer may have registered a new key since it was cached.
		if e, err = k.load(ctx, code, true); err != nil {
			return "", "", err
		}
		for _, pk := range e.keys {
			if ed25519.Verify(pk, input, sig) {
				return "", "", nil
			}
		}
	}
	return ReasonForged, "the signature does not verify with any registered key of tenant " + code, nil
}

// load returns the keys of code, from the cache unless fresh is set or the
// entry is stale.
func (k *keyring) load(ctx context.Context, code string, fresh bool) (keyEntry, error) {
	now := k.now()
	k.mu.Lock()
	e, ok := k.m[code]
	k.mu.Unlock()
	ttl := keyTTL
	if len(e.keys) == 0 {
		ttl = missingTTL
	}
	if ok && !fresh && now.Sub(e.at) < ttl {
		return e, nil
	}
	e = keyEntry{at: now}
	pk, err := k.signer.PublicKey(ctx, k.keyName(code))
	switch {
	case err == nil:
		e.hosted, e.keys = true, []ed25519.PublicKey{pk}
	case errors.Is(err, secrets.ErrNotFound):
		peers, err := k.peers.PeerKeys(viewer.SystemContext(ctx, "federation: peer keys"), code)
		if err != nil {
			return keyEntry{}, fmt.Errorf("peer keys of %s: %w", code, err)
		}
		for _, p := range peers {
			if len(p.Key) == ed25519.PublicKeySize {
				e.keys = append(e.keys, p.Key)
			}
		}
	default:
		return keyEntry{}, fmt.Errorf("public key of %s: %w", code, err)
	}
	k.mu.Lock()
	k.m[code] = e
	k.mu.Unlock()
	return e, nil
}
