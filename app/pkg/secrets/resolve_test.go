package secrets_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/secrets"
)

func TestParseRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    secrets.Ref
		wantErr string
	}{
		{in: "secret://kv/cityops/tenants/450126/db#dsn", want: secrets.Ref{Path: "kv/cityops/tenants/450126/db", Field: "dsn"}},
		{in: "secret://kv/cityops/platform/db", want: secrets.Ref{Path: "kv/cityops/platform/db", Field: "value"}},
		{in: "secret://kv/a#密码", want: secrets.Ref{Path: "kv/a", Field: "密码"}},
		{in: "secret://kv/a#", wantErr: "empty field"},
		{in: "secret://kv/a#b#c", wantErr: "more than one '#'"},
		{in: "secret://kv/a#b c", wantErr: "not allowed"},
		{in: "secret://", wantErr: "empty secret path"},
		{in: "secret://kv", wantErr: "want <mount>/<path>"},
		{in: "secret://kv/", wantErr: "empty segment"},
		{in: "secret:///kv/a", wantErr: "empty segment"},
		{in: "secret://kv//a", wantErr: "empty segment"},
		{in: "secret://kv/../a", wantErr: `segment ".." not allowed`},
		{in: "secret://vault/a", wantErr: `unknown mount "vault"`},
		{in: "secret://kv/a b", wantErr: "character ' ' not allowed"},
		{in: "secret://kv/a?x=1", wantErr: "character '?' not allowed"},
		{in: "postgres://u:p@h/db", wantErr: "does not start with secret://"},
	}
	for _, tt := range tests {
		got, err := secrets.ParseRef(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseRef(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRef(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseRef(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

// FuzzParseRef checks that the parser never panics, that what it accepts is
// a valid store path, and that an accepted reference survives a round trip
// through Ref.String.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"secret://kv/cityops/tenants/450126/db#dsn",
		"secret://kv/a",
		"secret://kv/a#",
		"secret://kv/a#b#c",
		"secret://kv/../x",
		"secret:///",
		"secret://kv/a#\x00",
		"secret://kv/a#\u00a0",
		"plain value",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ref, err := secrets.ParseRef(in)
		if err != nil {
			if secrets.IsRef(in) && !strings.Contains(err.Error(), "secret reference") {
				t.Errorf("ParseRef(%q) error %q does not say what failed", in, err)
			}
			return
		}
		if !secrets.IsRef(in) {
			t.Fatalf("ParseRef(%q) accepted a value without the scheme", in)
		}
		if ref.Field == "" || strings.Contains(ref.Field, "#") {
			t.Fatalf("ParseRef(%q) gave field %q", in, ref.Field)
		}
		if !strings.HasPrefix(ref.Path, "kv/") || strings.Contains(ref.Path, "//") || strings.Contains(ref.Path, "#") {
			t.Fatalf("ParseRef(%q) gave path %q", in, ref.Path)
		}
		again, err := secrets.ParseRef(ref.String())
		if err != nil {
			t.Fatalf("ParseRef(%q) = %+v, whose String %q does not parse: %v", in, ref, ref.String(), err)
		}
		if again != ref {
			t.Fatalf("round trip of %q: %+v != %+v", in, again, ref)
		}
	})
}

// testResolve checks Resolve against a store holding path = {value, user}.
func testResolve(t *testing.T, s secrets.Store, path string) {
	t.Helper()
	ctx := context.Background()
	for in, want := range map[string]string{
		"plain":                              "plain",
		"":                                   "",
		"postgres://h/db?password=secret:/x": "postgres://h/db?password=secret:/x",
		"secret://" + path:                   "postgres://x",
		"secret://" + path + "#user":         "cityops",
	} {
		got, err := secrets.Resolve(ctx, s, in)
		if err != nil {
			t.Errorf("Resolve(%q): %v", in, err)
		} else if got != want {
			t.Errorf("Resolve(%q) = %q, want %q", in, got, want)
		}
	}
	_, err := secrets.Resolve(ctx, s, "secret://"+path+"#password")
	if !errors.Is(err, secrets.ErrNotFound) || !strings.Contains(err.Error(), `no field "password" (fields: user, value)`) {
		t.Errorf("missing field: error = %v, want ErrNotFound naming the fields", err)
	}
	if strings.Contains(err.Error(), "postgres://x") {
		t.Errorf("missing field: error %q leaks a secret value", err)
	}
	_, err = secrets.Resolve(ctx, s, "secret://"+path+"-absent")
	if !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("missing secret: error = %v, want ErrNotFound", err)
	}
	_, err = secrets.Resolve(ctx, s, "secret://kv//x")
	if err == nil || !strings.Contains(err.Error(), "empty segment") {
		t.Errorf("bad reference: error = %v", err)
	}
}
