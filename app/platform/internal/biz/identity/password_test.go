package identity

import (
	"context"
	"fmt"
	"strings"
	"testing"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	kerrors "github.com/go-kratos/kratos/v2/errors"
)

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, password, login string
		wantEN                string // "" means accepted
	}{
		{"strong", "Tea-Garden-2026", "wang.wei", ""},
		{"three classes without symbols", "Wuxiang2026a", "wang.wei", ""},
		{"chinese characters count as symbols", "城管Binyang2026", "wang.wei", ""},
		{"too short", "Ab1!xyz", "wang.wei", "use at least 10 characters"},
		{"two classes", "binyangcounty", "wang.wei", "mix at least 3"},
		{"digits only", "12345678901234", "wang.wei", "mix at least 3"},
		{"contains login", "Wang.Wei-2026", "wang.wei", "do not include the login"},
		{"common", "Password@123", "wang.wei", "do not use a common password"},
		{"common, other case", "ADMIN@123456", "wang.wei", "do not use a common password"},
		{"too long", "Aa1!" + strings.Repeat("x", 130), "wang.wei", "use at most 128"},
		{"empty", "", "wang.wei", "use at least 10 characters"},
		{"sql injection text is just a password", "' OR '1'='1'; --", "admin", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckPassword(tt.password, tt.login)
			if tt.wantEN == "" {
				if err != nil {
					t.Fatalf("CheckPassword(%q) = %v, want nil", tt.password, err)
				}
				return
			}
			if !errorsv1.IsPasswordTooWeak(err) {
				t.Fatalf("CheckPassword(%q) = %v, want PASSWORD_TOO_WEAK", tt.password, err)
			}
			md := kerrors.FromError(err).Metadata
			if !strings.Contains(md["detail_en"], tt.wantEN) || md["detail_zh"] == "" || md["detail"] != md["detail_en"] {
				t.Fatalf("metadata %v, want detail_en containing %q and a detail_zh", md, tt.wantEN)
			}
		})
	}
}

func TestGeneratePassword(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		p, err := GeneratePassword("ab")
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckPassword(p, "ab"); err != nil || len(p) != genLen || seen[p] {
			t.Fatalf("generated %q: %v (duplicate %v)", p, err, seen[p])
		}
		seen[p] = true
	}
}

func TestHasher(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	weak, err := NewHasher(Argon2Params{Memory: 64, Time: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	strong, err := NewHasher(Argon2Params{Memory: 128, Time: 2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	h, err := weak.Hash(ctx, "Tea-Garden-2026")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if ok, rehash, err := weak.Verify(ctx, "Tea-Garden-2026", h); !ok || rehash || err != nil {
		t.Fatalf("weak.Verify(right) = %v, %v, %v", ok, rehash, err)
	}
	if ok, _, err := weak.Verify(ctx, "tea-garden-2026", h); ok || err != nil {
		t.Fatalf("weak.Verify(wrong) = %v, %v", ok, err)
	}
	if ok, rehash, err := strong.Verify(ctx, "Tea-Garden-2026", h); !ok || !rehash || err != nil {
		t.Fatalf("strong.Verify(old hash) = %v, rehash %v, %v; want a match that asks for a re-hash", ok, rehash, err)
	}
	if ok, _, err := weak.Verify(ctx, "anything", ""); ok || err != nil {
		t.Fatalf("Verify against no hash = %v, %v; want false, nil", ok, err)
	}
	bad := []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", // 4 GiB
		"$argon2id$v=19$m=64,t=100,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
	}
	for _, b := range bad[1:] {
		if _, _, err := weak.Verify(ctx, "x", b); err == nil {
			t.Errorf("Verify accepted malformed hash %q", b)
		}
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	t.Parallel()
	h, err := NewHasher(Argon2Params{Memory: 64, Time: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	h.sem <- struct{}{} // the only slot is taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "x"); err == nil {
		t.Fatal("Hash ran beyond the concurrency bound")
	}
	<-h.sem
}

// BenchmarkHashPassword measures one argon2id hash at several costs; at
// p=1 a hash uses one core, so logins/s on n cores ≈ n / (ns/op).
func BenchmarkHashPassword(b *testing.B) {
	for _, p := range []Argon2Params{
		{Memory: 12288, Time: 3, Threads: 1},
		{Memory: 19456, Time: 2, Threads: 1}, // default
		{Memory: 47104, Time: 1, Threads: 1},
		{Memory: 65536, Time: 3, Threads: 1},
	} {
		b.Run(fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads), func(b *testing.B) {
			h, err := NewHasher(p, 0)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Hash(ctx, "Tea-Garden-2026"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
