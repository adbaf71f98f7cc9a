// Package testvault gives tests a real HashiCorp Vault server: the minimal
// in-memory server of third_party/vaultdev (KV v2 at secret/, Transit at
// transit/, the AppRole method available), one per test binary, started on
// first use on a free 127.0.0.1 port and stopped when the binary exits.
//
// Use it as
//
//	func TestMain(m *testing.M) { testvault.Main(m) }
//
//	func TestX(t *testing.T) {
//		t.Parallel()
//		addr, token := testvault.Start(t) // root token
//		prefix := testvault.Unique(t)     // isolate paths and key names
//		…
//	}
//
// The server binary comes from $CITYOPS_VAULTDEV_BIN, else from the cache
// that deploy/dev/ensure-vault.sh fills (keyed by the vaultdev sources, the
// same way the script computes it), else the script is run to build it —
// which takes minutes the first time. When the server cannot be built or
// started the test fails, naming the script; it is never skipped, so a green
// run always means Vault was exercised.
package testvault

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// EnvBin names a vaultdev binary to use instead of the cached one.
const EnvBin = "CITYOPS_VAULTDEV_BIN"

// EnvCache overrides the cache root, as it does for ensure-vault.sh.
const EnvCache = "CITYOPS_VAULTDEV_CACHE"

// script is the build script, relative to the repository root.
const script = "deploy/dev/ensure-vault.sh"

// Timeouts: building runs the Go compiler over Vault's dependency graph;
// starting takes well under a second but a loaded CI machine may be slow.
const (
	buildTimeout = 20 * time.Minute
	startTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
)

// harness is the server of one test binary. It is package-level because
// Start is reached from any test without a handle (like testdb's); it is
// created lazily so packages that never call Start never build or start
// anything.
type harness struct {
	mainCalled atomic.Bool

	once  sync.Once
	err   error
	addr  string
	token string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	exit  chan struct{} // closed when the process has exited
	logs  *tailBuffer
}

var vs harness

// Main runs the package's tests and then stops the server, if one was
// started. Call it from TestMain.
func Main(m *testing.M) { os.Exit(Wrap(m.Run)) }

// Wrap runs run (a package's tests) and then stops the server; it returns
// run's exit code, or 1 when stopping failed. It lets a TestMain combine
// harnesses: os.Exit(testdb.Wrap(func() int { return testvault.Wrap(m.Run) })).
func Wrap(run func() int) int {
	vs.mainCalled.Store(true)
	code := run()
	if err := vs.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "testvault:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Start returns the address (http://127.0.0.1:port) and root token of the
// package's Vault server, starting it on first use. Tests share the server;
// they stay independent by using Unique names.
func Start(t testing.TB) (addr, token string) {
	t.Helper()
	if !vs.mainCalled.Load() {
		t.Fatal("testvault: Start needs testvault.Main(m) in the package's TestMain (it stops the server at exit)")
	}
	vs.once.Do(func() { vs.err = vs.start() })
	if vs.err != nil {
		t.Fatalf("testvault: %v\n(build the server with %s, or point %s at a vaultdev binary)", vs.err, script, EnvBin)
	}
	return vs.addr, vs.token
}

// Unique returns a short random name ("t" and 12 hex digits) that is valid
// as a KV path segment and in a Transit key name, so concurrent tests on the
// shared server never see each other's data.
func Unique(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testvault: random name: %v", err)
	}
	return "t" + hex.EncodeToString(b)
}

// start finds or builds the binary and starts the server.
func (h *harness) start() error {
	bin, err := binary()
	if err != nil {
		return err
	}
	token, err := randomToken()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-exit-on-stdin-eof")
	// The token goes through the environment, not argv, so it is not in
	// the process list; harmless for a test server, but a good habit.
	cmd.Env = append(os.Environ(), "VAULTDEV_ROOT_TOKEN="+token)
	h.logs = &tailBuffer{max: 64 << 10}
	cmd.Stderr = h.logs
	// Stdin is a pipe held by this process: when the test binary exits,
	// however it exits, the pipe closes and the server stops itself.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	h.cmd, h.stdin, h.token = cmd, stdin, token
	h.exit = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(h.exit)
	}()

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "READY "); ok {
				for _, f := range strings.Fields(rest) {
					if a, ok := strings.CutPrefix(f, "addr="); ok {
						ready <- a
					}
				}
			}
		}
		// Keep draining so the server never blocks writing to stdout.
		_, _ = io.Copy(io.Discard, stdout)
	}()

	select {
	case h.addr = <-ready:
	case <-h.exit:
		return fmt.Errorf("vault server %s exited before it was ready: %s\n%s", bin, cmd.ProcessState, h.logs)
	case <-time.After(startTimeout):
		_ = h.stop()
		return fmt.Errorf("vault server %s not ready within %s\n%s", bin, startTimeout, h.logs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := waitHealthy(ctx, h.addr); err != nil {
		_ = h.stop()
		return fmt.Errorf("vault server at %s: %w\n%s", h.addr, err, h.logs)
	}
	return nil
}

// waitHealthy polls sys/health until it answers 200: initialized, unsealed
// and active.
func waitHealthy(ctx context.Context, addr string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr+"/v1/sys/health", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("sys/health answered %s", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("not healthy: %w", last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop ends the server: closing stdin asks it to shut down; it is killed
// if it does not within stopTimeout.
func (h *harness) stop() error {
	if h.cmd == nil {
		return nil
	}
	_ = h.stdin.Close()
	select {
	case <-h.exit:
		return nil
	case <-time.After(stopTimeout):
	}
	if err := h.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill vault server: %w", err)
	}
	<-h.exit
	return fmt.Errorf("vault server did not stop within %s and was killed", stopTimeout)
}

func randomToken() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return "testvault-" + hex.EncodeToString(b), nil
}

// binary returns the path of a vaultdev binary, building it when needed.
func binary() (string, error) {
	if bin := os.Getenv(EnvBin); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBin, bin, err)
		}
		return bin, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin, err := cachedPath(root)
	if err != nil {
		return "", err
	}
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
		return bin, nil
	}
	return build(root)
}

// build runs ensure-vault.sh, which serializes concurrent builds (several
// test packages start at once) and prints the binary's path.
func build(root string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	fmt.Fprintf(os.Stderr, "testvault: building the Vault test server with %s (minutes the first time)\n", script)
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, script))
	cmd.Dir = root
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s failed: %w\n%s", script, err, stderr)
	}
	bin := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(bin, '\n'); i >= 0 {
		bin = bin[i+1:]
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s printed %q: %w", script, bin, err)
	}
	return bin, nil
}

// repoRoot walks up from the working directory (the package directory
// under go test) to the checkout holding the build script.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, script)); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repository root: no %s above the working directory", script)
		}
		dir = parent
	}
}

// cachedPath computes where ensure-vault.sh puts the binary: the cache
// root, then the first 16 hex digits of the SHA-256 of what
// `sha256sum go.mod go.sum <*.go sorted>` prints in third_party/vaultdev.
// The two computations must agree; TestCachedPathMatchesScript checks it.
func cachedPath(root string) (string, error) {
	key, err := cacheKey(filepath.Join(root, "third_party", "vaultdev"))
	if err != nil {
		return "", err
	}
	return filepath.Join(cacheRoot(), key, "vaultdev"), nil
}

func cacheRoot() string {
	if c := os.Getenv(EnvCache); c != "" {
		return c
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		base = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	return filepath.Join(base, "cityops", "vaultdev")
}

func cacheKey(src string) (string, error) {
	matches, err := filepath.Glob(filepath.Join(src, "*.go"))
	if err != nil {
		return "", fmt.Errorf("cache key: %w", err)
	}
	var gofiles []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
			gofiles = append(gofiles, filepath.Base(m))
		}
	}
	sort.Strings(gofiles) // byte order, like LC_ALL=C sort
	var listing strings.Builder
	for _, name := range append([]string{"go.mod", "go.sum"}, gofiles...) {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return "", fmt.Errorf("cache key: %w", err)
		}
		fmt.Fprintf(&listing, "%x  %s\n", sha256.Sum256(b), name)
	}
	sum := sha256.Sum256([]byte(listing.String()))
	return hex.EncodeToString(sum[:])[:16], nil
}

// tailBuffer keeps the last max bytes written to it: the server's log for
// error messages, without growing for the whole test run.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
