package secrets

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// DefaultLocalPath is where the embedded mode keeps its secrets, beside the
// SQLite database under var/.
const DefaultLocalPath = "var/secrets.json"

// localFormat is the version of the file layout, so a later layout can
// migrate or refuse an older file instead of misreading it.
const localFormat = 1

// localFile is the JSON document on disk.
type localFile struct {
	Format  int                          `json:"format"`
	Secrets map[string]map[string]string `json:"secrets"`
	Keys    map[string]*localKey         `json:"keys"`
}

// localKey is one named Ed25519 key with all its versions, oldest first.
type localKey struct {
	Type     string            `json:"type"` // always "ed25519"
	Versions []localKeyVersion `json:"versions"`
}

// localKeyVersion holds the 32-byte seed (RFC 8032 private key) rather than
// Go's 64-byte expanded form: it is the portable representation.
type localKeyVersion struct {
	Version   int       `json:"version"`
	Seed      []byte    `json:"seed"`
	CreatedAt time.Time `json:"created_at"`

	// priv is Seed expanded once at load or creation: expanding costs a
	// scalar multiplication, as much as a signature.
	priv ed25519.PrivateKey
}

func (v localKeyVersion) public() ed25519.PublicKey { return v.priv.Public().(ed25519.PublicKey) }

func (k *localKey) latest() localKeyVersion { return k.Versions[len(k.Versions)-1] }

// localManager is the file-backed Manager. The whole file is held in memory
// and rewritten on every change: it holds a handful of secrets and keys, and
// a full rewrite is what makes each change atomic.
type localManager struct {
	path string

	mu    sync.RWMutex
	state *localFile
}

var _ Manager = (*localManager)(nil)

// NewLocal opens the local secret store at path, creating the file (mode
// 0600) and its directory (mode 0700) when missing. It refuses a file that
// group or others may read or write, because the file holds private keys in
// the clear; the error names the file and the chmod that fixes it.
//
// One process should own a file at a time: the state is read once at open,
// and concurrent writers in different processes would overwrite each
// other's changes (each write itself stays atomic).
func NewLocal(path string) (Manager, error) {
	if path == "" {
		path = DefaultLocalPath
	}
	m := &localManager{path: path}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("secrets: create directory for %s: %w", path, err)
		}
		m.state = &localFile{Format: localFormat}
		if err := m.write(m.state); err != nil {
			return nil, fmt.Errorf("secrets: create %s: %w", path, err)
		}
		return m, nil
	case err != nil:
		return nil, fmt.Errorf("secrets: open %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("secrets: open %s: not a regular file", path)
	}
	// Windows has no Unix permission bits; there the ACLs of the directory
	// must protect the file.
	if perm := st.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("secrets: refusing to open %s: it is accessible by group or others (mode %04o) and holds secrets and private keys; run: chmod 600 %s", path, perm, path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secrets: read %s: %w", path, err)
	}
	state, err := decodeLocal(raw)
	if err != nil {
		return nil, fmt.Errorf("secrets: read %s: %w", path, err)
	}
	m.state = state
	return m, nil
}

// decodeLocal parses and checks the file, so a damaged file fails at open
// rather than at the first signature.
func decodeLocal(raw []byte) (*localFile, error) {
	var f localFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if f.Format != localFormat {
		return nil, fmt.Errorf("unsupported format %d (this build reads %d)", f.Format, localFormat)
	}
	for name, k := range f.Keys {
		if k == nil || k.Type != "ed25519" || len(k.Versions) == 0 {
			return nil, fmt.Errorf("key %q: want type ed25519 with at least one version", name)
		}
		for i, v := range k.Versions {
			if v.Version != i+1 || len(v.Seed) != ed25519.SeedSize {
				return nil, fmt.Errorf("key %q: version %d is damaged", name, i+1)
			}
			k.Versions[i].priv = ed25519.NewKeyFromSeed(v.Seed)
		}
	}
	return &f, nil
}

// Close implements Manager; the file needs no cleanup.
func (m *localManager) Close() error { return nil }

// Get implements Store.
func (m *localManager) Get(ctx context.Context, path string) (map[string]string, error) {
	if _, _, err := splitPath(path); err != nil {
		return nil, fmt.Errorf("secrets: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("secrets: get %s: %w", path, err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	data, ok := m.state.Secrets[path]
	if !ok {
		return nil, fmt.Errorf("secrets: get %s: %w", path, ErrNotFound)
	}
	return copyData(data), nil
}

// Put implements Store.
func (m *localManager) Put(ctx context.Context, path string, data map[string]string) error {
	if _, _, err := splitPath(path); err != nil {
		return fmt.Errorf("secrets: put: %w", err)
	}
	if err := checkData(data); err != nil {
		return fmt.Errorf("secrets: put %s: %w", path, err)
	}
	err := m.update(ctx, func(f *localFile) error {
		if f.Secrets == nil {
			f.Secrets = make(map[string]map[string]string)
		}
		f.Secrets[path] = copyData(data)
		return nil
	})
	if err != nil {
		return fmt.Errorf("secrets: put %s: %w", path, err)
	}
	return nil
}

// Delete implements Store.
func (m *localManager) Delete(ctx context.Context, path string) error {
	if _, _, err := splitPath(path); err != nil {
		return fmt.Errorf("secrets: delete: %w", err)
	}
	err := m.update(ctx, func(f *localFile) error {
		if _, ok := f.Secrets[path]; !ok {
			return errNoChange
		}
		delete(f.Secrets, path)
		return nil
	})
	if err != nil {
		return fmt.Errorf("secrets: delete %s: %w", path, err)
	}
	return nil
}

// CreateKey implements Signer.
func (m *localManager) CreateKey(ctx context.Context, name string) error {
	if err := checkKeyName(name); err != nil {
		return fmt.Errorf("secrets: create key: %w", err)
	}
	err := m.update(ctx, func(f *localFile) error {
		if _, ok := f.Keys[name]; ok {
			return errNoChange
		}
		v, err := newKeyVersion(1)
		if err != nil {
			return err
		}
		if f.Keys == nil {
			f.Keys = make(map[string]*localKey)
		}
		f.Keys[name] = &localKey{Type: "ed25519", Versions: []localKeyVersion{v}}
		return nil
	})
	if err != nil {
		return fmt.Errorf("secrets: create key %s: %w", name, err)
	}
	return nil
}

// RotateKey implements Signer.
func (m *localManager) RotateKey(ctx context.Context, name string) error {
	if err := checkKeyName(name); err != nil {
		return fmt.Errorf("secrets: rotate key: %w", err)
	}
	err := m.update(ctx, func(f *localFile) error {
		k, ok := f.Keys[name]
		if !ok {
			return ErrNotFound
		}
		v, err := newKeyVersion(len(k.Versions) + 1)
		if err != nil {
			return err
		}
		// f is a deep copy (see update), so appending does not touch the
		// state readers see until the file is written.
		k.Versions = append(k.Versions, v)
		return nil
	})
	if err != nil {
		return fmt.Errorf("secrets: rotate key %s: %w", name, err)
	}
	return nil
}

// Sign implements Signer.
func (m *localManager) Sign(ctx context.Context, name string, data []byte) ([]byte, error) {
	k, err := m.key(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("secrets: sign with %s: %w", name, err)
	}
	return ed25519.Sign(k.latest().priv, data), nil
}

// Verify implements Signer.
func (m *localManager) Verify(ctx context.Context, name string, data, sig []byte) (bool, error) {
	k, err := m.key(ctx, name)
	if err != nil {
		return false, fmt.Errorf("secrets: verify with %s: %w", name, err)
	}
	if len(sig) != ed25519.SignatureSize {
		return false, nil
	}
	// Newest first: most signatures in flight are by the latest version.
	for i := len(k.Versions) - 1; i >= 0; i-- {
		if ed25519.Verify(k.Versions[i].public(), data, sig) {
			return true, nil
		}
	}
	return false, nil
}

// PublicKey implements Signer.
func (m *localManager) PublicKey(ctx context.Context, name string) (ed25519.PublicKey, error) {
	k, err := m.key(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("secrets: public key %s: %w", name, err)
	}
	return k.latest().public(), nil
}

// key returns the named key. Key versions are never modified in place (see
// update), so the returned value stays valid after the lock is released.
func (m *localManager) key(ctx context.Context, name string) (*localKey, error) {
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, ok := m.state.Keys[name]
	if !ok {
		return nil, fmt.Errorf("no key %q: %w", name, ErrNotFound)
	}
	return k, nil
}

func newKeyVersion(version int) (localKeyVersion, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return localKeyVersion{}, fmt.Errorf("generate key: %w", err)
	}
	return localKeyVersion{Version: version, Seed: seed, CreatedAt: time.Now().UTC(), priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// errNoChange tells update that fn changed nothing, so no write is needed.
var errNoChange = errors.New("no change")

// update applies fn to a copy of the state, writes the copy to disk and only
// then makes it the state: a failed write leaves memory and file agreeing.
// Writers are serialized by the mutex; readers keep reading the old state
// until the swap.
func (m *localManager) update(ctx context.Context, fn func(*localFile) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	next := m.state.clone()
	if err := fn(next); err != nil {
		if errors.Is(err, errNoChange) {
			return nil
		}
		return err
	}
	if err := m.write(next); err != nil {
		return err
	}
	m.state = next
	return nil
}

// clone copies the maps and each key's version slice. Secret maps and
// version entries are replaced, never mutated, so they can be shared.
func (f *localFile) clone() *localFile {
	out := &localFile{
		Format:  f.Format,
		Secrets: make(map[string]map[string]string, len(f.Secrets)),
		Keys:    make(map[string]*localKey, len(f.Keys)),
	}
	for p, d := range f.Secrets {
		out.Secrets[p] = d
	}
	for n, k := range f.Keys {
		out.Keys[n] = &localKey{Type: k.Type, Versions: append([]localKeyVersion(nil), k.Versions...)}
	}
	return out
}

// write replaces the file atomically: a temporary file in the same
// directory (created 0600), fsync, rename over the old file, fsync of the
// directory so the rename itself survives a crash. A reader — or a crash —
// sees the old or the new file, never a partial one.
func (m *localManager) write(f *localFile) error {
	// encoding/json writes map keys sorted, so the file stays diffable.
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	raw = append(raw, '\n')
	dir := filepath.Dir(m.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(m.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	// CreateTemp already uses 0600; Chmod guards against an unusual umask
	// or platform default.
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := tmp.Write(raw); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := os.Rename(tmpName, m.path); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		// Directory fsync is not supported everywhere (e.g. Windows); the
		// rename has happened either way, so a failure here is not fatal.
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
