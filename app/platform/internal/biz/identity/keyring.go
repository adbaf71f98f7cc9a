package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cityops/cityops/app/pkg/secrets"
)

// DefaultKeyringPath is where the signing keys live in the secret store.
const DefaultKeyringPath = "kv/cityops/platform/jwt"

// KeyringConfig configures the access-token key ring. Zero values mean the
// documented defaults.
type KeyringConfig struct {
	// Path in the secret store; default DefaultKeyringPath.
	Path string
	// Issuer of access tokens (claim iss); default "cityops".
	Issuer string
	// AccessTTL is the lifetime of an access token; default 15 minutes.
	AccessTTL time.Duration
	// Leeway tolerates clock skew between replicas when checking exp, nbf
	// and iat; default 10 seconds.
	Leeway time.Duration
	// ReloadInterval is how often Run re-reads the store so that replicas
	// pick up a rotation; default 1 minute.
	ReloadInterval time.Duration
	// ActivationDelay is how long a key added by Rotate is published for
	// verification before it signs: every replica reloads within it, so no
	// replica meets a token signed by a key it has not loaded yet. Default
	// 2×ReloadInterval. The first key of an empty ring signs at once.
	ActivationDelay time.Duration
	// Retention is how long a retired key is kept for verification after
	// it stopped signing; default AccessTTL + ReloadInterval + Leeway, so
	// every token it signed has expired before it goes.
	Retention time.Duration
	// OnReloadError is told about failed periodic reloads (the ring keeps
	// the keys it has); nil ignores them.
	OnReloadError func(error)
	// Now is the clock; default time.Now. Tests inject a fake one.
	Now func() time.Time
}

func (c *KeyringConfig) setDefaults() {
	if c.Path == "" {
		c.Path = DefaultKeyringPath
	}
	if c.Issuer == "" {
		c.Issuer = "cityops"
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.Leeway == 0 {
		c.Leeway = 10 * time.Second
	}
	if c.ReloadInterval == 0 {
		c.ReloadInterval = time.Minute
	}
	if c.ActivationDelay == 0 {
		c.ActivationDelay = 2 * c.ReloadInterval
	}
	if c.Retention == 0 {
		c.Retention = c.AccessTTL + c.ReloadInterval + c.Leeway
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports a configuration that cannot work.
func (c *KeyringConfig) Validate() error {
	switch {
	case c.AccessTTL < time.Minute || c.AccessTTL > 24*time.Hour:
		return fmt.Errorf("keyring: access token lifetime %s out of range [1m, 24h]", c.AccessTTL)
	case c.Leeway < 0 || c.Leeway > time.Minute:
		return fmt.Errorf("keyring: leeway %s out of range [0, 1m]", c.Leeway)
	case c.ReloadInterval < time.Second:
		return fmt.Errorf("keyring: reload interval %s below 1s", c.ReloadInterval)
	case c.ActivationDelay < 0:
		return errors.New("keyring: negative activation delay")
	case c.Retention < c.AccessTTL:
		return fmt.Errorf("keyring: retention %s shorter than the token lifetime %s would log people out", c.Retention, c.AccessTTL)
	}
	return nil
}

// Reasons a token is refused; Authenticate turns them into the detail of
// UNAUTHENTICATED.
var (
	ErrTokenMalformed   = errors.New("malformed token")
	ErrTokenExpired     = errors.New("token expired")
	ErrTokenNotYetValid = errors.New("token not valid yet")
	ErrTokenSignature   = errors.New("token signature invalid")
	ErrTokenUnknownKey  = errors.New("token signed by an unknown key")
	ErrTokenIssuer      = errors.New("token of another issuer")
	ErrKeyringMissing   = errors.New("no signing keys in the secret store")
)

// TokenClaims is what an access token says about its bearer.
type TokenClaims struct {
	UserID       int
	Name         string
	TenantID     int
	TenantCode   string
	TenantPath   string
	DepartmentID int
	// Set by Sign.
	ID        string
	KeyID     string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// jwtClaims is the wire form: sub "user:<id>", tid, tc, tp, dep, plus the
// registered iss, iat, exp, jti. name (the login) saves the middleware a
// database read to log who acted.
type jwtClaims struct {
	jwt.RegisteredClaims
	TenantID     int    `json:"tid"`
	TenantCode   string `json:"tc"`
	TenantPath   string `json:"tp"`
	DepartmentID int    `json:"dep,omitempty"`
	Name         string `json:"name,omitempty"`
}

// ringKey is one Ed25519 key of the ring.
type ringKey struct {
	kid       string
	priv      ed25519.PrivateKey
	pub       ed25519.PublicKey
	createdAt time.Time
	activeAt  time.Time
	retiredAt *time.Time
}

// ringState is an immutable snapshot; Verify reads it without locks.
type ringState struct {
	current string
	keys    map[string]*ringKey
	// byActive is ordered by activeAt, oldest first.
	byActive []*ringKey

	// verified remembers tokens this state has verified, so a client that
	// sends the same token on every call pays for the Ed25519 check once.
	// It lives and dies with the state: a reload that drops a key drops
	// every token the key signed.
	mu       sync.RWMutex
	verified map[string]*TokenClaims
}

// maxVerified bounds the verified-token memo (about 1 KiB an entry).
const maxVerified = 50_000

func (s *ringState) remembered(token string) *TokenClaims {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.verified[token]
}

func (s *ringState) remember(token string, c *TokenClaims) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.verified == nil || len(s.verified) >= maxVerified {
		s.verified = make(map[string]*TokenClaims)
	}
	s.verified[token] = c
}

// signer returns the newest key whose activation time has come.
func (s *ringState) signer(now time.Time) *ringKey {
	for i := len(s.byActive) - 1; i >= 0; i-- {
		if !s.byActive[i].activeAt.After(now) {
			return s.byActive[i]
		}
	}
	return nil
}

// Keyring signs and verifies access tokens with Ed25519 keys kept in the
// secret store. Verification is in memory (no database, no store round
// trip): it is on every request's path.
type Keyring struct {
	store  KeyStore
	cfg    KeyringConfig
	state  atomic.Pointer[ringState]
	rotate sync.Mutex // one Rotate at a time in this process
	parser *jwt.Parser
}

// NewKeyring returns a key ring over store. It holds no keys until Load.
func NewKeyring(store KeyStore, cfg KeyringConfig) (*Keyring, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	k := &Keyring{store: store, cfg: cfg}
	k.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(),
	)
	return k, nil
}

// AccessTTL is the lifetime of the tokens Sign issues.
func (k *Keyring) AccessTTL() time.Duration { return k.cfg.AccessTTL }

// Load reads the ring from the store and, when the store holds none yet,
// creates the first key. Call it before serving.
func (k *Keyring) Load(ctx context.Context) error {
	err := k.Reload(ctx)
	if errors.Is(err, ErrKeyringMissing) {
		_, err = k.Rotate(ctx)
	}
	return err
}

// Reload replaces the keys in memory with those in the store.
func (k *Keyring) Reload(ctx context.Context) error {
	st, err := k.read(ctx)
	if err != nil {
		return err
	}
	if st == nil {
		return ErrKeyringMissing
	}
	k.state.Store(st)
	return nil
}

// Run reloads the ring every ReloadInterval until ctx is done, so replicas
// pick up a rotation made elsewhere. A failed reload keeps the keys held.
func (k *Keyring) Run(ctx context.Context) error {
	t := time.NewTicker(k.cfg.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := k.Reload(ctx); err != nil && k.cfg.OnReloadError != nil {
				k.cfg.OnReloadError(err)
			}
		}
	}
}

// Rotate adds a new key that signs from ActivationDelay on (at once when no
// key signs yet), retires the previous signing key at that moment and
// drops keys retired longer than Retention ago. Retired keys keep verifying,
// so rotating logs nobody out. It returns the new key's id.
//
// Rotate reads the store afresh so that it builds on rotations made by
// other replicas; two rotations at the same instant on two replicas may
// still overwrite each other (the store has no compare-and-swap here), so
// run it from one place (an operator command or a leader).
func (k *Keyring) Rotate(ctx context.Context) (string, error) {
	k.rotate.Lock()
	defer k.rotate.Unlock()
	cur, err := k.read(ctx)
	if err != nil {
		return "", err
	}
	now := k.cfg.Now().UTC().Truncate(time.Second)
	var keys []*ringKey
	activeAt := now
	if cur != nil {
		for _, rk := range cur.byActive {
			if rk.retiredAt != nil && now.Sub(*rk.retiredAt) > k.cfg.Retention {
				continue
			}
			keys = append(keys, rk)
		}
		if cur.signer(now) != nil {
			activeAt = now.Add(k.cfg.ActivationDelay)
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("keyring rotate: %w", err)
	}
	kid, err := newKID(now)
	if err != nil {
		return "", err
	}
	for _, rk := range keys {
		// keys were decoded from the store just now, so changing them does
		// not touch the snapshot that Verify reads concurrently.
		if rk.retiredAt == nil {
			rk.retiredAt = &activeAt
		}
	}
	nk := &ringKey{kid: kid, priv: priv, pub: pub, createdAt: now, activeAt: activeAt}
	keys = append(keys, nk)
	st := newState(kid, keys)
	data, err := encodeRing(st)
	if err != nil {
		return "", err
	}
	if err := k.store.Put(ctx, k.cfg.Path, data); err != nil {
		return "", fmt.Errorf("keyring rotate: store: %w", err)
	}
	k.state.Store(st)
	return kid, nil
}

// KeyIDs lists the ids of the keys held, oldest first (for operators and
// tests).
func (k *Keyring) KeyIDs() []string {
	st := k.state.Load()
	if st == nil {
		return nil
	}
	out := make([]string, 0, len(st.byActive))
	for _, rk := range st.byActive {
		out = append(out, rk.kid)
	}
	return out
}

// Sign issues an access token for c, valid AccessTTL from now, with a
// fresh jti, signed by the current key (header kid).
func (k *Keyring) Sign(c TokenClaims) (string, TokenClaims, error) {
	st := k.state.Load()
	now := k.cfg.Now()
	var key *ringKey
	if st != nil {
		key = st.signer(now)
	}
	if key == nil {
		return "", c, errors.New("keyring sign: no signing key loaded")
	}
	jti, err := randomToken(16)
	if err != nil {
		return "", c, err
	}
	iat := now.Truncate(time.Second)
	c.ID, c.KeyID, c.IssuedAt, c.ExpiresAt = jti, key.kid, iat, iat.Add(k.cfg.AccessTTL)
	claims := jwtClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    k.cfg.Issuer,
			Subject:   UserSubject(c.UserID),
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
			ID:        jti,
		},
		TenantID: c.TenantID, TenantCode: c.TenantCode, TenantPath: c.TenantPath,
		DepartmentID: c.DepartmentID, Name: c.Name,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = key.kid
	s, err := tok.SignedString(key.priv)
	if err != nil {
		return "", c, fmt.Errorf("keyring sign: %w", err)
	}
	return s, c, nil
}

// maxTokenLen bounds what Verify parses; our tokens are about 400 bytes.
const maxTokenLen = 4096

// Verify checks an access token: algorithm EdDSA only (none, HS256 with the
// public key as secret and every other algorithm are refused), a known kid,
// a valid signature, our issuer, exp required and not passed, nbf and iat
// not in the future, a user subject and a tenant. It never touches the
// database or the store.
func (k *Keyring) Verify(token string) (*TokenClaims, error) {
	if len(token) > maxTokenLen || strings.Count(token, ".") != 2 {
		return nil, ErrTokenMalformed
	}
	st := k.state.Load()
	if st == nil {
		return nil, ErrTokenUnknownKey
	}
	if c := st.remembered(token); c != nil {
		// The signature and claims were checked when it was remembered;
		// only time has moved since.
		if !k.cfg.Now().Before(c.ExpiresAt.Add(k.cfg.Leeway)) {
			return nil, ErrTokenExpired
		}
		out := *c
		return &out, nil
	}
	var kid string
	var claims jwtClaims
	_, err := k.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		rk, ok := st.keys[kid]
		if !ok {
			return nil, ErrTokenUnknownKey
		}
		return rk.pub, nil
	})
	switch {
	case err == nil:
	case errors.Is(err, ErrTokenUnknownKey):
		return nil, ErrTokenUnknownKey
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, ErrTokenNotYetValid
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, ErrTokenSignature
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, ErrTokenIssuer
	default:
		// Bad encoding, missing or mistyped claims …: all malformed. (A
		// wrong algorithm, alg "none" included, is reported by the parser
		// as an invalid signature, above.)
		return nil, ErrTokenMalformed
	}
	id, ok := strings.CutPrefix(claims.Subject, userSubjectPrefix)
	uid, err := strconv.Atoi(id)
	if !ok || err != nil || uid <= 0 || claims.TenantID <= 0 || claims.TenantCode == "" || claims.ID == "" {
		return nil, ErrTokenMalformed
	}
	tc := &TokenClaims{
		UserID: uid, Name: claims.Name, TenantID: claims.TenantID, TenantCode: claims.TenantCode,
		TenantPath: claims.TenantPath, DepartmentID: claims.DepartmentID, ID: claims.ID, KeyID: kid,
		IssuedAt: claims.IssuedAt.Time, ExpiresAt: claims.ExpiresAt.Time,
	}
	st.remember(token, tc)
	out := *tc
	return &out, nil
}

func newState(current string, keys []*ringKey) *ringState {
	st := &ringState{current: current, keys: make(map[string]*ringKey, len(keys)), byActive: slices.Clone(keys)}
	slices.SortStableFunc(st.byActive, func(a, b *ringKey) int { return a.activeAt.Compare(b.activeAt) })
	for _, rk := range keys {
		st.keys[rk.kid] = rk
	}
	return st
}

// storedKey is one key as the secret store holds it.
type storedKey struct {
	KID string `json:"kid"`
	// PrivateKey is the 32-byte Ed25519 seed, standard base64.
	PrivateKey string     `json:"private_key"`
	CreatedAt  time.Time  `json:"created_at"`
	ActiveAt   time.Time  `json:"active_at"`
	RetiredAt  *time.Time `json:"retired_at,omitempty"`
}

// The store holds strings: "format" (version of this layout), "current"
// (the newest kid) and "keys" (a JSON array of storedKey).
const keyringFormat = "1"

func encodeRing(st *ringState) (map[string]string, error) {
	out := make([]storedKey, 0, len(st.byActive))
	for _, rk := range st.byActive {
		out = append(out, storedKey{
			KID: rk.kid, PrivateKey: base64.StdEncoding.EncodeToString(rk.priv.Seed()),
			CreatedAt: rk.createdAt, ActiveAt: rk.activeAt, RetiredAt: rk.retiredAt,
		})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("keyring encode: %w", err)
	}
	return map[string]string{"format": keyringFormat, "current": st.current, "keys": string(b)}, nil
}

// read returns the ring in the store, or nil when there is none.
func (k *Keyring) read(ctx context.Context) (*ringState, error) {
	data, err := k.store.Get(ctx, k.cfg.Path)
	if err != nil {
		if errors.Is(err, secrets.ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("keyring load: %w", err)
	}
	if f := data["format"]; f != keyringFormat {
		return nil, fmt.Errorf("keyring load: unknown format %q at %s", f, k.cfg.Path)
	}
	var stored []storedKey
	if err := json.Unmarshal([]byte(data["keys"]), &stored); err != nil {
		return nil, fmt.Errorf("keyring load: %w", err)
	}
	if len(stored) == 0 {
		return nil, nil
	}
	keys := make([]*ringKey, 0, len(stored))
	for _, s := range stored {
		seed, err := base64.StdEncoding.DecodeString(s.PrivateKey)
		if err != nil || len(seed) != ed25519.SeedSize || s.KID == "" {
			return nil, fmt.Errorf("keyring load: key %q is malformed", s.KID)
		}
		priv := ed25519.NewKeyFromSeed(seed)
		keys = append(keys, &ringKey{
			kid: s.KID, priv: priv, pub: priv.Public().(ed25519.PublicKey),
			createdAt: s.CreatedAt, activeAt: s.ActiveAt, retiredAt: s.RetiredAt,
		})
	}
	return newState(data["current"], keys), nil
}

// newKID names a key by its creation date plus randomness, so operators
// can tell keys' ages apart in logs.
func newKID(now time.Time) (string, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("keyring: %w", err)
	}
	return now.Format("20060102") + "-" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:])), nil
}
