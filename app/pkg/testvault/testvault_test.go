package testvault

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// TestStart checks that the server answers with the root token and serves
// the mounts the platform uses.
func TestStart(t *testing.T) {
	t.Parallel()
	addr, token := Start(t)
	if !strings.HasPrefix(addr, "http://127.0.0.1:") {
		t.Fatalf("addr = %q, want a loopback address", addr)
	}
	for _, path := range []string{"/v1/auth/token/lookup-self", "/v1/secret/config", "/v1/sys/mounts/transit"} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, addr+path, nil)
		req.Header.Set("X-Vault-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
	// The second call returns the same, already running server.
	if a2, t2 := Start(t); a2 != addr || t2 != token {
		t.Errorf("second Start = %s, %s; want the same server", a2, t2)
	}
}

// TestCachedPathMatchesScript guards the contract between this package and
// deploy/dev/ensure-vault.sh: both must name the same cached binary, or the
// tests would rebuild Vault every time.
func TestCachedPathMatchesScript(t *testing.T) {
	t.Parallel()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	want, err := cachedPath(root)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", filepath.Join(root, script), "--print-path").Output()
	if err != nil {
		t.Fatalf("%s --print-path: %v", script, err)
	}
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("%s puts the binary at %s, testvault looks at %s", script, got, want)
	}
}

func TestUnique(t *testing.T) {
	t.Parallel()
	a, b := Unique(t), Unique(t)
	if a == b || len(a) != 13 {
		t.Errorf("Unique = %q, %q", a, b)
	}
}
