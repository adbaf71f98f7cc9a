package secrets_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testvault"
)

// implementation opens a fresh Manager for one test, closed at its end.
type implementation struct {
	name string
	open func(t testing.TB) secrets.Manager
}

// implementations are every Manager the contract holds for, each on a real
// backend: a file in a temporary directory, and the package's Vault server.
var implementations = []implementation{
	{name: "local", open: openLocal},
	{name: "vault", open: openVault},
}

func openLocal(t testing.TB) secrets.Manager {
	t.Helper()
	m, err := secrets.NewLocal(filepath.Join(t.TempDir(), "var", "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func openVault(t testing.TB) secrets.Manager {
	t.Helper()
	addr, token := testvault.Start(t)
	m, err := secrets.NewVault(context.Background(), secrets.VaultConfig{Address: addr, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// eachImpl runs fn as a parallel subtest per implementation, with a unique
// name prefix for paths and keys so tests sharing a Vault never collide.
func eachImpl(t *testing.T, fn func(t *testing.T, m secrets.Manager, u string)) {
	t.Helper()
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			fn(t, impl.open(t), testvault.Unique(t))
		})
	}
}

func TestContractStoreRoundTrip(t *testing.T) {
	t.Parallel()
	eachImpl(t, func(t *testing.T, m secrets.Manager, u string) {
		ctx := context.Background()
		path := "kv/cityops/tenants/" + u + "/admin"
		first := map[string]string{"username": "admin", "password": "s3cret", "note": "宾阳县"}
		if err := m.Put(ctx, path, first); err != nil {
			t.Fatal(err)
		}
		got, err := m.Get(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Fatalf("Get after Put (-want +got):\n%s", diff)
		}
		// The returned map is the caller's; changing it changes nothing stored.
		got["password"] = "changed"
		if again, _ := m.Get(ctx, path); again["password"] != "s3cret" {
			t.Fatalf("mutating a returned map changed the store: %q", again["password"])
		}
		// Put replaces the whole secret, it does not merge.
		second := map[string]string{"password": "n3w"}
		if err := m.Put(ctx, path, second); err != nil {
			t.Fatal(err)
		}
		got, err = m.Get(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(second, got); diff != "" {
			t.Fatalf("Get after second Put (-want +got):\n%s", diff)
		}
	})
}

func TestContractNotFoundAndDelete(t *testing.T) {
	t.Parallel()
	eachImpl(t, func(t *testing.T, m secrets.Manager, u string) {
		ctx := context.Background()
		path := "kv/cityops/" + u + "/db"
		if _, err := m.Get(ctx, path); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("Get of a never-written path: error = %v, want ErrNotFound", err)
		}
		if err := m.Delete(ctx, path); err != nil {
			t.Fatalf("Delete of an absent path: %v", err)
		}
		if err := m.Put(ctx, path, map[string]string{"value": "x"}); err != nil {
			t.Fatal(err)
		}
		if err := m.Delete(ctx, path); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Get(ctx, path); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("Get after Delete: error = %v, want ErrNotFound", err)
		}
		// A deleted secret can be written again.
		if err := m.Put(ctx, path, map[string]string{"value": "y"}); err != nil {
			t.Fatal(err)
		}
		if got, err := m.Get(ctx, path); err != nil || got["value"] != "y" {
			t.Fatalf("Get after re-Put = %v, %v", got, err)
		}
	})
}

func TestContractRejectsBadInput(t *testing.T) {
	t.Parallel()
	eachImpl(t, func(t *testing.T, m secrets.Manager, u string) {
		ctx := context.Background()
		for _, p := range []string{"", "kv", "secret/" + u, "kv/", "kv//" + u, "kv/../" + u, "kv/" + u + " x", "/kv/" + u} {
			if err := m.Put(ctx, p, map[string]string{"value": "x"}); err == nil {
				t.Errorf("Put(%q) succeeded", p)
			}
			if _, err := m.Get(ctx, p); err == nil || errors.Is(err, secrets.ErrNotFound) {
				t.Errorf("Get(%q) error = %v, want a path error", p, err)
			}
		}
		if err := m.Put(ctx, "kv/"+u, nil); err == nil {
			t.Error("Put with no fields succeeded")
		}
		if err := m.Put(ctx, "kv/"+u, map[string]string{"": "x"}); err == nil {
			t.Error("Put with an empty field name succeeded")
		}
		for _, name := range []string{"", "tenant/x", "tenant x", "../tenant", "tenant.x"} {
			if err := m.CreateKey(ctx, name); err == nil {
				t.Errorf("CreateKey(%q) succeeded", name)
			}
		}
	})
}

func TestContractSignVerifyRotate(t *testing.T) {
	t.Parallel()
	eachImpl(t, func(t *testing.T, m secrets.Manager, u string) {
		ctx := context.Background()
		key := "tenant-" + u
		if err := m.CreateKey(ctx, key); err != nil {
			t.Fatal(err)
		}
		pub1, err := m.PublicKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		// CreateKey is idempotent: the same key, not a new one.
		if err := m.CreateKey(ctx, key); err != nil {
			t.Fatalf("second CreateKey: %v", err)
		}
		if again, _ := m.PublicKey(ctx, key); !bytes.Equal(again, pub1) {
			t.Fatal("second CreateKey replaced the key")
		}

		msg := []byte(`{"specversion":"1.0","id":"evt-1","source":"/tenants/450126"}`)
		sig1, err := m.Sign(ctx, key, msg)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig1) != ed25519.SignatureSize {
			t.Fatalf("signature has %d bytes, want %d", len(sig1), ed25519.SignatureSize)
		}
		// Anyone holding the public key verifies with plain Ed25519.
		if !ed25519.Verify(pub1, msg, sig1) {
			t.Fatal("signature does not verify with crypto/ed25519 and PublicKey")
		}
		mustVerify(t, m, key, msg, sig1, true)

		tampered := bytes.Clone(msg)
		tampered[len(tampered)-2] ^= 1
		mustVerify(t, m, key, tampered, sig1, false)
		badSig := bytes.Clone(sig1)
		badSig[0] ^= 0x80
		mustVerify(t, m, key, msg, badSig, false)
		mustVerify(t, m, key, msg, sig1[:10], false)
		mustVerify(t, m, key, msg, nil, false)

		if err := m.RotateKey(ctx, key); err != nil {
			t.Fatal(err)
		}
		pub2, err := m.PublicKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(pub1, pub2) {
			t.Fatal("RotateKey did not change the latest public key")
		}
		sig2, err := m.Sign(ctx, key, msg)
		if err != nil {
			t.Fatal(err)
		}
		if !ed25519.Verify(pub2, msg, sig2) || ed25519.Verify(pub1, msg, sig2) {
			t.Fatal("a signature after rotation is not by the new key version")
		}
		// Events signed before the rotation keep verifying.
		mustVerify(t, m, key, msg, sig1, true)
		mustVerify(t, m, key, msg, sig2, true)
		mustVerify(t, m, key, tampered, sig2, false)

		// Keys are independent: another key does not verify this one's signatures.
		other := "tenant-" + u + "-other"
		if err := m.CreateKey(ctx, other); err != nil {
			t.Fatal(err)
		}
		mustVerify(t, m, other, msg, sig2, false)
	})
}

func mustVerify(t *testing.T, m secrets.Signer, key string, msg, sig []byte, want bool) {
	t.Helper()
	ok, err := m.Verify(context.Background(), key, msg, sig)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if ok != want {
		t.Fatalf("Verify = %v, want %v", ok, want)
	}
}

func TestContractUnknownKey(t *testing.T) {
	t.Parallel()
	eachImpl(t, func(t *testing.T, m secrets.Manager, u string) {
		ctx := context.Background()
		key := "tenant-" + u + "-missing"
		if _, err := m.Sign(ctx, key, []byte("x")); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("Sign: error = %v, want ErrNotFound", err)
		}
		if _, err := m.Verify(ctx, key, []byte("x"), make([]byte, 64)); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("Verify: error = %v, want ErrNotFound", err)
		}
		if _, err := m.PublicKey(ctx, key); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("PublicKey: error = %v, want ErrNotFound", err)
		}
		if err := m.RotateKey(ctx, key); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("RotateKey: error = %v, want ErrNotFound", err)
		}
		// Sign must not have created the key as a side effect.
		if _, err := m.PublicKey(ctx, key); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("PublicKey after failed calls: error = %v, want ErrNotFound", err)
		}
	})
}

func TestContractConcurrentPut(t *testing.T) {
	t.Parallel()
	eachImpl(t, func(t *testing.T, m secrets.Manager, u string) {
		ctx := context.Background()
		const writers = 16
		const each = 5
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					p := fmt.Sprintf("kv/cityops/%s/w%d/s%d", u, w, i)
					if err := m.Put(ctx, p, map[string]string{"value": p}); err != nil {
						errs <- err
					}
					// Everyone also writes one shared path: last writer wins,
					// but the value is always one whole write.
					if err := m.Put(ctx, "kv/cityops/"+u+"/shared", map[string]string{"w": fmt.Sprint(w), "i": fmt.Sprint(i)}); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for w := range writers {
			for i := range each {
				p := fmt.Sprintf("kv/cityops/%s/w%d/s%d", u, w, i)
				got, err := m.Get(ctx, p)
				if err != nil || got["value"] != p {
					t.Errorf("Get(%s) = %v, %v", p, got, err)
				}
			}
		}
		shared, err := m.Get(ctx, "kv/cityops/"+u+"/shared")
		if err != nil || len(shared) != 2 {
			t.Errorf("shared secret = %v, %v; want one complete write", shared, err)
		}
	})
}

func TestContractResolve(t *testing.T) {
	t.Parallel()
	eachImpl(t, func(t *testing.T, m secrets.Manager, u string) {
		path := "kv/cityops/tenants/" + u + "/db"
		if err := m.Put(context.Background(), path, map[string]string{"value": "postgres://x", "user": "cityops"}); err != nil {
			t.Fatal(err)
		}
		testResolve(t, m, path)
	})
}
