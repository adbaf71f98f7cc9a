package secrets_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cityops/cityops/app/pkg/secrets"
)

func TestLocalCreatesPrivateFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "var", "nested")
	path := filepath.Join(dir, "secrets.json")
	m, err := secrets.NewLocal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	assertMode(t, path, 0o600)
	assertMode(t, dir, 0o700)
	// A rewrite keeps the mode.
	if err := m.Put(context.Background(), "kv/a", map[string]string{"value": "1"}); err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o600)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s has mode %04o, want %04o", path, got, want)
	}
}

func TestLocalRefusesOpenPermissions(t *testing.T) {
	t.Parallel()
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o666} {
		path := filepath.Join(t.TempDir(), "secrets.json")
		m, err := secrets.NewLocal(path)
		if err != nil {
			t.Fatal(err)
		}
		_ = m.Close()
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err = secrets.NewLocal(path)
		if err == nil {
			t.Fatalf("mode %04o: NewLocal succeeded", mode)
		}
		for _, want := range []string{path, "chmod 600 " + path, "group or others"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("mode %04o: error %q does not contain %q", mode, err, want)
			}
		}
	}
	// 0400 (read-only for the owner) is private enough to open.
	path := filepath.Join(t.TempDir(), "secrets.json")
	m, _ := secrets.NewLocal(path)
	_ = m.Close()
	_ = os.Chmod(path, 0o400)
	if m, err := secrets.NewLocal(path); err != nil {
		t.Errorf("mode 0400: %v", err)
	} else {
		_ = m.Close()
	}
}

func TestLocalPersistsAcrossOpens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.json")
	m, err := secrets.NewLocal(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Put(ctx, "kv/cityops/platform/db", map[string]string{"value": "dsn"}); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateKey(ctx, "tenant-450126"); err != nil {
		t.Fatal(err)
	}
	oldSig, _ := m.Sign(ctx, "tenant-450126", []byte("event"))
	if err := m.RotateKey(ctx, "tenant-450126"); err != nil {
		t.Fatal(err)
	}
	pub, _ := m.PublicKey(ctx, "tenant-450126")
	_ = m.Close()

	m2, err := secrets.NewLocal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if got, err := m2.Get(ctx, "kv/cityops/platform/db"); err != nil || got["value"] != "dsn" {
		t.Fatalf("Get after reopen = %v, %v", got, err)
	}
	if pub2, _ := m2.PublicKey(ctx, "tenant-450126"); !bytes.Equal(pub, pub2) {
		t.Fatal("public key changed across reopen")
	}
	sig, err := m2.Sign(ctx, "tenant-450126", []byte("event"))
	if err != nil || !ed25519.Verify(pub, []byte("event"), sig) {
		t.Fatalf("Sign after reopen: %v", err)
	}
	mustVerify(t, m2, "tenant-450126", []byte("event"), oldSig, true)
}

// TestLocalAtomicRewrite reads the file continuously while it is rewritten
// many times: every read must see a complete, valid document, and no
// temporary file may be left behind.
func TestLocalAtomicRewrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets.json")
	m, err := secrets.NewLocal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	// Holding the original open keeps its inode from being freed and
	// reused by a later temporary file, which would make SameFile lie.
	orig, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads int
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("read during rewrite: %v", err)
				return
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Errorf("read during rewrite saw a partial file (%d bytes): %v", len(raw), err)
				return
			}
			reads++
		}
	})
	big := strings.Repeat("x", 4096) // larger writes make a torn read likelier
	for i := range 200 {
		if err := m.Put(ctx, "kv/cityops/test", map[string]string{"value": big, "i": string(rune('a' + i%26))}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if reads == 0 {
		t.Fatal("the reader never ran")
	}

	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, after) {
		t.Error("the file was rewritten in place; want a new file renamed over it")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only secrets.json", names)
	}
}

// TestLocalFailedWriteKeepsState makes the rename fail (a directory sits
// where the file was) and checks that memory did not move ahead of disk.
func TestLocalFailedWriteKeepsState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.json")
	m, err := secrets.NewLocal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Put(ctx, "kv/a", map[string]string{"value": "old"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.Put(ctx, "kv/a", map[string]string{"value": "new"}); err == nil {
		t.Fatal("Put succeeded although the file cannot be replaced")
	}
	if got, _ := m.Get(ctx, "kv/a"); got["value"] != "old" {
		t.Fatalf("after a failed write Get = %v, want the old value", got)
	}
	if err := m.CreateKey(ctx, "tenant-1"); err == nil {
		t.Fatal("CreateKey succeeded although the file cannot be replaced")
	}
	if _, err := m.PublicKey(ctx, "tenant-1"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("a key whose write failed exists: %v", err)
	}
}

func TestLocalRejectsDamagedFile(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"not json":       "{",
		"unknown format": `{"format":9,"secrets":{},"keys":{}}`,
		"unknown field":  `{"format":1,"secrets":{},"keys":{},"extra":1}`,
		"short seed":     `{"format":1,"secrets":{},"keys":{"k":{"type":"ed25519","versions":[{"version":1,"seed":"AAAA"}]}}}`,
		"wrong type":     `{"format":1,"secrets":{},"keys":{"k":{"type":"rsa","versions":[]}}}`,
	} {
		path := filepath.Join(t.TempDir(), "secrets.json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := secrets.NewLocal(path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error = %v, want one naming %s", name, err, path)
		}
	}
}

func TestLocalConcurrentWritersAllPersist(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.json")
	m, err := secrets.NewLocal(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			p := "kv/cityops/c/" + string(rune('A'+i%26)) + string(rune('a'+i/26))
			if err := m.Put(ctx, p, map[string]string{"value": p}); err != nil {
				t.Error(err)
			}
			if i%10 == 0 {
				if err := m.CreateKey(ctx, "tenant-"+string(rune('a'+i/10))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	_ = m.Close()
	// Every write reached the file, none was lost to a concurrent rewrite.
	m2, err := secrets.NewLocal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	for i := range 50 {
		p := "kv/cityops/c/" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		if got, err := m2.Get(ctx, p); err != nil || got["value"] != p {
			t.Errorf("Get(%s) after reopen = %v, %v", p, got, err)
		}
	}
	for i := range 5 {
		if _, err := m2.PublicKey(ctx, "tenant-"+string(rune('a'+i))); err != nil {
			t.Errorf("key %d after reopen: %v", i, err)
		}
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.json")
	m, err := secrets.Open(context.Background(), secrets.Config{LocalPath: path})
	if err != nil {
		t.Fatal(err)
	}
	_ = m.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("default backend did not create the local file: %v", err)
	}
	_, err = secrets.Open(context.Background(), secrets.Config{Backend: "consul"})
	if err == nil || !strings.Contains(err.Error(), `unknown backend "consul"`) {
		t.Errorf("unknown backend: error = %v", err)
	}
}
