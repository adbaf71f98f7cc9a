package secrets

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	vault "github.com/hashicorp/vault/api"
)

// VaultConfig configures NewVault. Zero fields take the defaults documented
// here (setDefaults); Validate reports what is missing or contradictory.
type VaultConfig struct {
	// Address is the Vault server URL, e.g. https://vault.cityops:8200.
	// Required.
	Address string
	// Token authenticates with a Vault token. Exactly one of Token and
	// AppRole must be set.
	Token string
	// AppRole authenticates with the AppRole method; the token it yields is
	// renewed, and on renewal failure (or max TTL) the Manager logs in again.
	AppRole *AppRoleAuth
	// KVMount is the KV version 2 mount that store paths "kv/…" map to.
	// Default "secret": kv/cityops/platform/db is secret/data/cityops/platform/db.
	KVMount string
	// TransitMount is the Transit mount holding the signing keys. Default
	// "transit".
	TransitMount string
	// KeyPrefix is put before every key name, so the platform's keys are
	// a separate namespace that a policy can grant as a whole. Default
	// "cityops-": key "tenant-450126" is transit/keys/cityops-tenant-450126,
	// which deploy/vault/platform-policy.hcl grants (cityops-tenant-*).
	KeyPrefix string
	// CACert is a PEM file with the CA that signed Vault's certificate,
	// when it is not in the system pool.
	CACert string
	// Namespace is the Vault Enterprise namespace, if any.
	Namespace string
	// Timeout bounds each HTTP request to Vault. Default 10s.
	Timeout time.Duration
	// Logger receives token renewal and re-login events. Default: standard
	// error.
	Logger log.Logger
}

// AppRoleAuth holds AppRole credentials.
type AppRoleAuth struct {
	RoleID   string
	SecretID string
	// MountPath is where the AppRole method is enabled. Default "approle".
	MountPath string
}

// Defaults of VaultConfig.
const (
	DefaultKVMount      = "secret"
	DefaultTransitMount = "transit"
	DefaultKeyPrefix    = "cityops-"
	DefaultAppRoleMount = "approle"
	DefaultVaultTimeout = 10 * time.Second
)

func (c *VaultConfig) setDefaults() {
	if c.KVMount == "" {
		c.KVMount = DefaultKVMount
	}
	if c.TransitMount == "" {
		c.TransitMount = DefaultTransitMount
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultVaultTimeout
	}
	if c.AppRole != nil && c.AppRole.MountPath == "" {
		c.AppRole.MountPath = DefaultAppRoleMount
	}
	if c.Logger == nil {
		c.Logger = log.NewStdLogger(os.Stderr)
	}
}

// Validate checks a config after defaults are applied.
func (c *VaultConfig) Validate() error {
	var errs []error
	if c.Address == "" {
		errs = append(errs, errors.New("address is required (VAULT_ADDR)"))
	} else if u, err := url.Parse(c.Address); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("address %q: want http(s)://host:port", c.Address))
	}
	switch {
	case c.Token == "" && c.AppRole == nil:
		errs = append(errs, errors.New("no credentials: set a token (VAULT_TOKEN) or AppRole role/secret id (VAULT_ROLE_ID, VAULT_SECRET_ID)"))
	case c.Token != "" && c.AppRole != nil:
		errs = append(errs, errors.New("both a token and AppRole credentials are set; use one"))
	case c.AppRole != nil && (c.AppRole.RoleID == "" || c.AppRole.SecretID == ""):
		errs = append(errs, errors.New("AppRole needs both a role id and a secret id"))
	}
	for _, m := range []struct{ name, v string }{{"kv mount", c.KVMount}, {"transit mount", c.TransitMount}} {
		if strings.Trim(m.v, "/") != m.v || m.v == "" {
			errs = append(errs, fmt.Errorf("%s %q: want a mount name without slashes at either end", m.name, m.v))
		}
	}
	if err := checkKeyName(c.KeyPrefix + "x"); err != nil {
		errs = append(errs, fmt.Errorf("key prefix %q: %w", c.KeyPrefix, err))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s is negative", c.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("vault config: %w", err)
	}
	return nil
}

// vaultManager is the Vault-backed Manager.
type vaultManager struct {
	client *vault.Client
	kv     *vault.KVv2
	cfg    VaultConfig
	log    *log.Helper

	keysMu sync.Mutex
	keys   map[string]*publicKeys // by Vault key name

	stopRenew context.CancelFunc
	renewDone chan struct{} // closed when the renewal goroutine has exited
	closeOnce sync.Once
}

var _ Manager = (*vaultManager)(nil)

// refreshAfter is how old cached public keys must be before a failed
// verification re-reads them. Re-reading catches a rotation done by another
// process; the floor keeps a stream of forged signatures from turning into
// a stream of reads against Vault.
const refreshAfter = time.Second

// publicKeys are the public halves of one Transit key's usable versions.
type publicKeys struct {
	latest   ed25519.PublicKey
	versions []ed25519.PublicKey // newest first; versions >= min_decryption_version
	fetched  time.Time
}

// NewVault connects to Vault, authenticates and, when the token has a
// limited lifetime, starts a goroutine that keeps it renewed until Close.
//
// Signatures: Transit returns "vault:v<N>:<base64>"; Sign strips that to the
// raw 64-byte Ed25519 signature, which is what goes on the wire. Verify
// therefore cannot hand the signature back to transit/verify (which wants
// the version prefix); it verifies locally against the public keys of every
// key version at or above min_decryption_version, read from
// transit/keys/<key> and cached. Local verification needs only read access
// to the key, is as strict as Transit's (same algorithm, same versions), and
// saves a round trip per inbound event.
//
// Other standard client variables (VAULT_SKIP_VERIFY, VAULT_CLIENT_CERT,
// VAULT_MAX_RETRIES, …) are honoured by the Vault client library; the
// fields of cfg take precedence over VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT
// and VAULT_NAMESPACE.
func NewVault(ctx context.Context, cfg VaultConfig) (Manager, error) {
	if cfg.AppRole != nil {
		ar := *cfg.AppRole // setDefaults must not write to the caller's struct
		cfg.AppRole = &ar
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	vc := vault.DefaultConfig()
	if vc.Error != nil {
		return nil, fmt.Errorf("secrets: vault client config: %w", vc.Error)
	}
	vc.Address = cfg.Address
	vc.Timeout = cfg.Timeout
	if cfg.CACert != "" {
		if err := vc.ConfigureTLS(&vault.TLSConfig{CACert: cfg.CACert}); err != nil {
			return nil, fmt.Errorf("secrets: vault CA certificate %s: %w", cfg.CACert, err)
		}
	}
	client, err := vault.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("secrets: vault client: %w", err)
	}
	// NewClient picks up VAULT_TOKEN and VAULT_NAMESPACE from the
	// environment; the config decides instead.
	client.ClearToken()
	client.ClearNamespace()
	if cfg.Namespace != "" {
		client.SetNamespace(cfg.Namespace)
	}

	m := &vaultManager{
		client:    client,
		kv:        client.KVv2(cfg.KVMount),
		cfg:       cfg,
		log:       log.NewHelper(log.With(cfg.Logger, "component", "secrets.vault")),
		keys:      make(map[string]*publicKeys),
		renewDone: make(chan struct{}),
	}

	var auth *vault.Secret
	if cfg.AppRole != nil {
		if auth, err = m.login(ctx); err != nil {
			return nil, fmt.Errorf("secrets: vault: %w", err)
		}
	} else {
		client.SetToken(cfg.Token)
		if auth, err = m.lookupSelf(ctx); err != nil {
			return nil, fmt.Errorf("secrets: vault: %w", err)
		}
	}

	renewCtx, cancel := context.WithCancel(context.Background())
	m.stopRenew = cancel
	go m.renewLoop(renewCtx, auth)
	return m, nil
}

// login authenticates with AppRole and installs the new token.
func (m *vaultManager) login(ctx context.Context) (*vault.Secret, error) {
	ar := m.cfg.AppRole
	s, err := m.client.Logical().WriteWithContext(ctx, "auth/"+ar.MountPath+"/login", map[string]any{
		"role_id":   ar.RoleID,
		"secret_id": ar.SecretID,
	})
	if err != nil {
		return nil, fmt.Errorf("approle login: %w", err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return nil, errors.New("approle login: no token in response")
	}
	m.client.SetToken(s.Auth.ClientToken)
	return s, nil
}

// lookupSelf checks the configured token and describes its lifetime in the
// shape the lifetime watcher expects. A token without a TTL (root, or
// periodic with none set) needs no renewal and yields nil.
func (m *vaultManager) lookupSelf(ctx context.Context) (*vault.Secret, error) {
	s, err := m.client.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("token lookup: %w", err)
	}
	if s == nil {
		return nil, errors.New("token lookup: empty response")
	}
	ttl, err := s.TokenTTL()
	if err != nil {
		return nil, fmt.Errorf("token lookup: %w", err)
	}
	renewable, err := s.TokenIsRenewable()
	if err != nil {
		return nil, fmt.Errorf("token lookup: %w", err)
	}
	if ttl <= 0 || !renewable {
		return nil, nil
	}
	return &vault.Secret{Auth: &vault.SecretAuth{
		ClientToken:   m.client.Token(),
		Renewable:     true,
		LeaseDuration: int(ttl / time.Second),
	}}, nil
}

// renewLoop keeps the token alive until ctx ends: it renews through a
// LifetimeWatcher, and when renewal stops (an error, or the token's max TTL
// is near) it logs in again with AppRole. A configured static token cannot
// be replaced; the loop then logs that it will expire and ends.
func (m *vaultManager) renewLoop(ctx context.Context, auth *vault.Secret) {
	defer close(m.renewDone)
	for auth != nil {
		err := m.watch(ctx, auth)
		if ctx.Err() != nil {
			return
		}
		if m.cfg.AppRole == nil {
			reason := "it reached its maximum TTL"
			if err != nil {
				reason = err.Error()
			}
			m.log.Warnf("vault token can no longer be renewed and will expire (%s); restart with a fresh token or use AppRole", reason)
			return
		}
		if err != nil {
			m.log.Warnf("vault token renewal failed: %v; logging in again with AppRole", err)
		}
		auth = m.relogin(ctx)
	}
}

// watch runs one LifetimeWatcher until it finishes or ctx ends, and waits
// for its goroutine so Close leaves nothing running.
func (m *vaultManager) watch(ctx context.Context, auth *vault.Secret) error {
	w, err := m.client.NewLifetimeWatcher(&vault.LifetimeWatcherInput{Secret: auth})
	if err != nil {
		return fmt.Errorf("lifetime watcher: %w", err)
	}
	started := make(chan struct{})
	go func() {
		defer close(started)
		w.Start()
	}()
	defer func() {
		w.Stop()
		<-started
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-w.DoneCh():
			return err
		case r := <-w.RenewCh():
			m.log.Debugf("vault token renewed at %s", r.RenewedAt.Format(time.RFC3339))
		}
	}
}

// relogin logs in with AppRole until it succeeds or ctx ends, backing off
// so an unreachable Vault is not hammered.
func (m *vaultManager) relogin(ctx context.Context) *vault.Secret {
	delay := 500 * time.Millisecond
	for {
		lctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
		auth, err := m.login(lctx)
		cancel()
		if err == nil {
			m.log.Infof("vault: logged in again with AppRole")
			return auth
		}
		if ctx.Err() != nil {
			return nil
		}
		m.log.Errorf("vault: AppRole login failed, retrying in %s: %v", delay, err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// Close stops the token renewal and waits for it. It does not revoke the
// token: another replica may share an AppRole token's parent lease, and a
// token left to expire is harmless.
func (m *vaultManager) Close() error {
	m.closeOnce.Do(func() {
		m.stopRenew()
		<-m.renewDone
	})
	return nil
}

// Get implements Store.
func (m *vaultManager) Get(ctx context.Context, path string) (map[string]string, error) {
	_, rest, err := splitPath(path)
	if err != nil {
		return nil, fmt.Errorf("secrets: get: %w", err)
	}
	s, err := m.kv.Get(ctx, rest)
	if err != nil {
		if errors.Is(err, vault.ErrSecretNotFound) {
			return nil, fmt.Errorf("secrets: get %s: %w", path, ErrNotFound)
		}
		return nil, fmt.Errorf("secrets: get %s: %w", path, err)
	}
	// A deleted latest version comes back with metadata but no data.
	if s == nil || s.Data == nil {
		return nil, fmt.Errorf("secrets: get %s: %w", path, ErrNotFound)
	}
	out := make(map[string]string, len(s.Data))
	for k, v := range s.Data {
		out[k] = stringValue(v)
	}
	return out, nil
}

// stringValue renders a KV field as a string. Values written by this
// package are strings; ones written by hand (vault kv put n=1, or JSON)
// may be numbers or objects, which are returned in their JSON form rather
// than rejected.
func stringValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Sprint(t)
		}
		return string(b)
	}
}

// Put implements Store.
func (m *vaultManager) Put(ctx context.Context, path string, data map[string]string) error {
	_, rest, err := splitPath(path)
	if err != nil {
		return fmt.Errorf("secrets: put: %w", err)
	}
	if err := checkData(data); err != nil {
		return fmt.Errorf("secrets: put %s: %w", path, err)
	}
	in := make(map[string]any, len(data))
	for k, v := range data {
		in[k] = v
	}
	if _, err := m.kv.Put(ctx, rest, in); err != nil {
		return fmt.Errorf("secrets: put %s: %w", path, err)
	}
	return nil
}

// Delete implements Store with a KV v2 soft delete of the latest version:
// it needs only the "delete" capability on the data path, and an operator
// can undelete a mistake.
func (m *vaultManager) Delete(ctx context.Context, path string) error {
	_, rest, err := splitPath(path)
	if err != nil {
		return fmt.Errorf("secrets: delete: %w", err)
	}
	if err := m.kv.Delete(ctx, rest); err != nil {
		return fmt.Errorf("secrets: delete %s: %w", path, err)
	}
	return nil
}

// keyName maps a signer key name to its Transit key name.
func (m *vaultManager) keyName(name string) (string, error) {
	if err := checkKeyName(name); err != nil {
		return "", err
	}
	return m.cfg.KeyPrefix + name, nil
}

func (m *vaultManager) transitPath(parts ...string) string {
	return m.cfg.TransitMount + "/" + strings.Join(parts, "/")
}

// CreateKey implements Signer. Transit treats creating an existing key as a
// no-op, which gives idempotence; the key is then read back so an existing
// key of another type (say aes256-gcm96) is reported instead of failing
// later at the first signature.
func (m *vaultManager) CreateKey(ctx context.Context, name string) error {
	key, err := m.keyName(name)
	if err != nil {
		return fmt.Errorf("secrets: create key: %w", err)
	}
	if _, err := m.client.Logical().WriteWithContext(ctx, m.transitPath("keys", key), map[string]any{
		"type": "ed25519",
	}); err != nil {
		return fmt.Errorf("secrets: create key %s: %w", name, mapVaultErr(err))
	}
	if _, err := m.fetchKeys(ctx, key); err != nil {
		return fmt.Errorf("secrets: create key %s: %w", name, err)
	}
	return nil
}

// RotateKey implements Signer.
func (m *vaultManager) RotateKey(ctx context.Context, name string) error {
	key, err := m.keyName(name)
	if err != nil {
		return fmt.Errorf("secrets: rotate key: %w", err)
	}
	if _, err := m.client.Logical().WriteWithContext(ctx, m.transitPath("keys", key, "rotate"), nil); err != nil {
		return fmt.Errorf("secrets: rotate key %s: %w", name, mapVaultErr(err))
	}
	// Refresh now, so this process uses the new public key at once.
	if _, err := m.fetchKeys(ctx, key); err != nil {
		return fmt.Errorf("secrets: rotate key %s: %w", name, err)
	}
	return nil
}

// Sign implements Signer.
func (m *vaultManager) Sign(ctx context.Context, name string, data []byte) ([]byte, error) {
	key, err := m.keyName(name)
	if err != nil {
		return nil, fmt.Errorf("secrets: sign: %w", err)
	}
	s, err := m.client.Logical().WriteWithContext(ctx, m.transitPath("sign", key), map[string]any{
		"input": base64.StdEncoding.EncodeToString(data),
	})
	if err != nil {
		return nil, fmt.Errorf("secrets: sign with %s: %w", name, mapVaultErr(err))
	}
	if s == nil {
		return nil, fmt.Errorf("secrets: sign with %s: empty response", name)
	}
	str, _ := s.Data["signature"].(string)
	sig, _, err := parseTransitSignature(str)
	if err != nil {
		return nil, fmt.Errorf("secrets: sign with %s: %w", name, err)
	}
	return sig, nil
}

// parseTransitSignature splits "vault:v<N>:<base64>" into the raw signature
// and the key version.
func parseTransitSignature(s string) ([]byte, int, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] != "vault" || !strings.HasPrefix(parts[1], "v") {
		return nil, 0, fmt.Errorf("unexpected transit signature format %q", s)
	}
	version, err := strconv.Atoi(strings.TrimPrefix(parts[1], "v"))
	if err != nil || version < 1 {
		return nil, 0, fmt.Errorf("unexpected transit signature version %q", parts[1])
	}
	sig, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, 0, fmt.Errorf("transit signature: %w", err)
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, 0, fmt.Errorf("transit signature has %d bytes, want %d (is the key ed25519?)", len(sig), ed25519.SignatureSize)
	}
	return sig, version, nil
}

// Verify implements Signer; see NewVault for why it verifies locally.
func (m *vaultManager) Verify(ctx context.Context, name string, data, sig []byte) (bool, error) {
	key, err := m.keyName(name)
	if err != nil {
		return false, fmt.Errorf("secrets: verify: %w", err)
	}
	pk, err := m.cachedKeys(ctx, key)
	if err != nil {
		return false, fmt.Errorf("secrets: verify with %s: %w", name, err)
	}
	if len(sig) != ed25519.SignatureSize {
		return false, nil
	}
	if pk.verify(data, sig) {
		return true, nil
	}
	// The signer may have rotated since the keys were cached.
	if time.Since(pk.fetched) < refreshAfter {
		return false, nil
	}
	if pk, err = m.fetchKeys(ctx, key); err != nil {
		return false, fmt.Errorf("secrets: verify with %s: %w", name, err)
	}
	return pk.verify(data, sig), nil
}

func (p *publicKeys) verify(data, sig []byte) bool {
	for _, pub := range p.versions {
		if ed25519.Verify(pub, data, sig) {
			return true
		}
	}
	return false
}

// PublicKey implements Signer. It always reads Vault, so it reflects a
// rotation made elsewhere.
func (m *vaultManager) PublicKey(ctx context.Context, name string) (ed25519.PublicKey, error) {
	key, err := m.keyName(name)
	if err != nil {
		return nil, fmt.Errorf("secrets: public key: %w", err)
	}
	pk, err := m.fetchKeys(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("secrets: public key %s: %w", name, err)
	}
	return append(ed25519.PublicKey(nil), pk.latest...), nil
}

// cachedKeys returns the cached public keys of key, reading them on a miss.
func (m *vaultManager) cachedKeys(ctx context.Context, key string) (*publicKeys, error) {
	m.keysMu.Lock()
	pk, ok := m.keys[key]
	m.keysMu.Unlock()
	if ok {
		return pk, nil
	}
	return m.fetchKeys(ctx, key)
}

// fetchKeys reads transit/keys/<key> and caches its public keys.
func (m *vaultManager) fetchKeys(ctx context.Context, key string) (*publicKeys, error) {
	s, err := m.client.Logical().ReadWithContext(ctx, m.transitPath("keys", key))
	if err != nil {
		return nil, fmt.Errorf("read key: %w", mapVaultErr(err))
	}
	if s == nil || s.Data == nil {
		return nil, fmt.Errorf("no key %q: %w", key, ErrNotFound)
	}
	pk, err := parseTransitKey(s.Data)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", key, err)
	}
	m.keysMu.Lock()
	m.keys[key] = pk
	m.keysMu.Unlock()
	return pk, nil
}

// parseTransitKey extracts the public keys of the usable versions from a
// transit/keys/<key> response.
func parseTransitKey(data map[string]any) (*publicKeys, error) {
	if t, _ := data["type"].(string); t != "ed25519" {
		return nil, fmt.Errorf("type %q, want ed25519", t)
	}
	latest, err := intField(data, "latest_version")
	if err != nil {
		return nil, err
	}
	minDecrypt, err := intField(data, "min_decryption_version")
	if err != nil {
		return nil, err
	}
	versions, _ := data["keys"].(map[string]any)
	type ver struct {
		n   int
		pub ed25519.PublicKey
	}
	var vs []ver
	for k, v := range versions {
		n, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("version %q: %w", k, err)
		}
		if n < minDecrypt {
			continue
		}
		entry, _ := v.(map[string]any)
		b64, _ := entry["public_key"].(string)
		pub, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("version %d: bad public key", n)
		}
		vs = append(vs, ver{n, pub})
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].n > vs[j].n })
	if len(vs) == 0 || vs[0].n != latest {
		return nil, fmt.Errorf("public key of latest version %d missing", latest)
	}
	pk := &publicKeys{latest: vs[0].pub, fetched: time.Now()}
	for _, v := range vs {
		pk.versions = append(pk.versions, v.pub)
	}
	return pk, nil
}

// intField reads an integer the client decoded as json.Number.
func intField(data map[string]any, name string) (int, error) {
	switch v := data[name].(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return int(n), nil
	case float64:
		return int(v), nil
	default:
		return 0, fmt.Errorf("%s: unexpected %T", name, v)
	}
}

// mapVaultErr turns Transit's "key not found" answers into ErrNotFound so
// callers can tell a missing key from an outage. Transit reports a missing
// key as 400 "…key not found" on sign and rotate (there is no 404 there).
func mapVaultErr(err error) error {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		case re.StatusCode == http.StatusBadRequest && mentionsNotFound(re.Errors):
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
	}
	return err
}

func mentionsNotFound(msgs []string) bool {
	for _, s := range msgs {
		if strings.Contains(s, "not found") {
			return true
		}
	}
	return false
}
