package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAPIKey(t *testing.T) {
	t.Parallel()
	k, err := newAPIKey("450126")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParseAPIKey(k.String()); err != nil || got != k {
		t.Fatalf("ParseAPIKey(%q) = %+v, %v; want %+v", k.String(), got, err, k)
	}
	secret := strings.Repeat("A", 42) + "A"
	tests := []struct{ name, key string }{
		{"empty", ""},
		{"no prefix", "450126_abcdefghijkl_" + secret},
		{"lower-case tenant", "cok_45012a_abcdefghijkl_" + secret[:42] + "x"},
		{"short tenant", "cok_45012_abcdefghijkl_" + secret},
		{"key id with 1", "cok_450126_abcdefghijk1_" + secret},
		{"short key id", "cok_450126_abcdefghijk_" + secret},
		{"short secret", "cok_450126_abcdefghijkl_" + secret[:42]},
		{"padded secret", "cok_450126_abcdefghijkl_" + secret + "="},
		{"secret with std alphabet", "cok_450126_abcdefghijkl_" + secret[:41] + "+/"},
		{"sql injection tenant", "cok_450126' OR '1'='1_abcdefghijkl_" + secret},
		{"missing parts", "cok_450126"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseAPIKey(tt.key); !errors.Is(err, ErrCredentialMalformed) {
				t.Fatalf("ParseAPIKey(%q) = %v, want ErrCredentialMalformed", tt.key, err)
			}
		})
	}
}

func TestParseRefreshToken(t *testing.T) {
	t.Parallel()
	tok, err := newRefreshToken("450126")
	if err != nil {
		t.Fatal(err)
	}
	if code, err := ParseRefreshToken(tok); err != nil || code != "450126" {
		t.Fatalf("ParseRefreshToken = %q, %v", code, err)
	}
	for _, bad := range []string{"", "cor_", "cor_450126_", "cor_450126_short", tok + "x", strings.Replace(tok, "cor_", "cok_", 1)} {
		if _, err := ParseRefreshToken(bad); err == nil {
			t.Errorf("ParseRefreshToken(%q) accepted", bad)
		}
	}
}

func FuzzParseAPIKey(f *testing.F) {
	k, err := newAPIKey("450126")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(k.String())
	f.Add("cok_450126_abcdefghijkl_" + strings.Repeat("_", 43))
	f.Add("cok_")
	f.Add("cok_A_B_C_D")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseAPIKey(s)
		if err != nil {
			return
		}
		// Whatever parses must re-assemble to the same key and be of the
		// documented shape.
		if p.String() != s || !validTenantCode(p.TenantCode) || !validKeyID(p.KeyID) || !validSecret(p.Secret) {
			t.Fatalf("ParseAPIKey(%q) = %+v", s, p)
		}
	})
}
