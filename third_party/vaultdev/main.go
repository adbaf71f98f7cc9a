// Command vaultdev is a minimal, in-memory HashiCorp Vault server for
// CityOps's tests: the real Vault core and HTTP API (so the tests exercise
// the same client library, paths, policies and error shapes as production),
// but only with what the platform uses — KV version 2 at secret/, Transit at
// transit/ and the AppRole auth method — and nothing is ever written to disk.
//
// It does what `vault server -dev` does (initialize with one Shamir key,
// unseal, replace the initial root token with a fixed one, mount KV v2), but
// compiles from a small module instead of the full Vault command, whose
// dependency graph (every plugin, every storage backend) doubles the build
// time. It lives in its own Go module so the platform's go.mod never sees
// Vault's ~500 dependencies; deploy/dev/ensure-vault.sh builds and caches it.
//
// Usage:
//
//	vaultdev -addr 127.0.0.1:0 -root-token cityops-dev-root
//
// When the API answers, it prints one line to stdout,
//
//	READY addr=http://127.0.0.1:40123 token=cityops-dev-root
//
// and serves until SIGINT/SIGTERM, or, with -exit-on-stdin-eof, until its
// standard input is closed (a test harness passes a pipe, so the server dies
// with the test binary even when that binary is killed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/builtin/credential/approle"
	"github.com/hashicorp/vault/builtin/logical/transit"
	"github.com/hashicorp/vault/helper/namespace"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical/inmem"
	"github.com/hashicorp/vault/vault"
)

// envRootToken is read when -root-token is not given, so a harness can keep
// the token out of the process list.
const envRootToken = "VAULTDEV_ROOT_TOKEN"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "vaultdev:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("vaultdev", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8200", "listen address (use port 0 for a free port; the READY line names the real one)")
	rootToken := fs.String("root-token", os.Getenv(envRootToken), "fixed root token id (default $"+envRootToken+", else \"root\")")
	logLevel := fs.String("log-level", "warn", "Vault core log level (trace, debug, info, warn, error)")
	exitOnEOF := fs.Bool("exit-on-stdin-eof", false, "stop when standard input reaches EOF")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rootToken == "" {
		*rootToken = "root"
	}

	logger := hclog.New(&hclog.LoggerOptions{
		Name:   "vaultdev",
		Level:  hclog.LevelFromString(*logLevel),
		Output: os.Stderr,
	})

	core, err := newCore(logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := core.Shutdown(); err != nil {
			logger.Error("shutdown", "error", err)
		}
	}()

	if err := initDev(ctx, core, *rootToken); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	srv := &http.Server{
		// The handler reads its limits from the listener config; zero
		// values mean Vault's defaults, but the struct must be there.
		Handler: vaulthttp.Handler.Handler(&vault.HandlerProperties{
			Core:           core,
			ListenerConfig: &configutil.Listener{Type: "tcp", Address: ln.Addr().String()},
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	fmt.Printf("READY addr=http://%s token=%s\n", ln.Addr().String(), *rootToken)

	if *exitOnEOF {
		stdinDone := make(chan struct{})
		go func() {
			// Any read error (EOF, closed pipe) means the parent is gone.
			_, _ = io.Copy(io.Discard, os.Stdin)
			close(stdinDone)
		}()
		select {
		case <-ctx.Done():
		case <-stdinDone:
		case err := <-serveErr:
			return fmt.Errorf("serve: %w", err)
		}
	} else {
		select {
		case <-ctx.Done():
		case err := <-serveErr:
			return fmt.Errorf("serve: %w", err)
		}
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// newCore builds a core on in-memory storage. The backends are registered
// directly as factories, which the core consults before its plugin catalog,
// so the catalog's builtin registry can stay empty and none of Vault's other
// plugins are linked in. The core itself adds system, identity, cubbyhole
// and token.
func newCore(logger hclog.Logger) (*vault.Core, error) {
	phys, err := inmem.NewInmem(nil, logger.Named("inmem"))
	if err != nil {
		return nil, fmt.Errorf("inmem storage: %w", err)
	}
	core, err := vault.NewCore(&vault.CoreConfig{
		Physical:     phys,
		StorageType:  "inmem",
		Logger:       logger,
		DisableMlock: true,
		LogicalBackends: map[string]logical.Factory{
			"kv":      kv.Factory,
			"transit": transit.Factory,
		},
		CredentialBackends: map[string]logical.Factory{
			"approle": approle.Factory,
		},
		BuiltinRegistry: emptyRegistry{},
	})
	if err != nil {
		return nil, fmt.Errorf("new core: %w", err)
	}
	return core, nil
}

// initDev initializes and unseals the core, swaps the random initial root
// token for rootToken, and mounts KV v2 at secret/ and transit at transit/ —
// the same steps as the -dev mode of `vault server`.
func initDev(ctx context.Context, core *vault.Core, rootToken string) error {
	ctx = namespace.ContextWithNamespace(ctx, namespace.RootNamespace)
	init, err := core.Initialize(ctx, &vault.InitParams{
		BarrierConfig: &vault.SealConfig{SecretShares: 1, SecretThreshold: 1, Name: "shamir"},
	})
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	unsealed, err := core.Unseal(init.SecretShares[0])
	if err != nil {
		return fmt.Errorf("unseal: %w", err)
	}
	if !unsealed {
		return errors.New("unseal: core is still sealed after the only key share")
	}

	resp, err := request(ctx, core, logical.UpdateOperation, init.RootToken, "auth/token/create", map[string]any{
		"id":                rootToken,
		"policies":          []string{"root"},
		"no_parent":         true,
		"no_default_policy": true,
	})
	if err != nil {
		return fmt.Errorf("create root token: %w", err)
	}
	if resp == nil || resp.Auth == nil {
		return errors.New("create root token: no auth in response")
	}
	if _, err := request(ctx, core, logical.UpdateOperation, init.RootToken, "auth/token/revoke-self", nil); err != nil {
		return fmt.Errorf("revoke initial root token: %w", err)
	}

	mounts := []struct {
		path string
		data map[string]any
	}{
		{"sys/mounts/secret", map[string]any{
			"type": "kv", "description": "key/value secret storage",
			"options": map[string]string{"version": "2"},
		}},
		{"sys/mounts/transit", map[string]any{"type": "transit", "description": "signing keys"}},
	}
	for _, m := range mounts {
		if _, err := request(ctx, core, logical.UpdateOperation, rootToken, m.path, m.data); err != nil {
			return fmt.Errorf("mount %s: %w", strings.TrimPrefix(m.path, "sys/mounts/"), err)
		}
	}
	return waitKVReady(ctx, core, rootToken)
}

// waitKVReady waits until the new KV v2 mount finished its background
// upgrade: until then it answers every request with an "upgrading" error,
// which clients would otherwise see as a flaky first write.
func waitKVReady(ctx context.Context, core *vault.Core, token string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := request(ctx, core, logical.ReadOperation, token, "secret/config", nil)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kv v2 mount not ready: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// request sends one request straight to the core and turns error responses
// into errors.
func request(ctx context.Context, core *vault.Core, op logical.Operation, token, path string, data map[string]any) (*logical.Response, error) {
	resp, err := core.HandleRequest(ctx, &logical.Request{
		Operation:   op,
		ClientToken: token,
		Path:        path,
		Data:        data,
	})
	if err != nil {
		return nil, err
	}
	if resp.IsError() {
		return nil, resp.Error()
	}
	return resp, nil
}

// emptyRegistry is a builtin plugin registry with no plugins: every backend
// this server offers is registered as a factory on the core instead.
type emptyRegistry struct{}

func (emptyRegistry) Contains(string, consts.PluginType) bool { return false }
func (emptyRegistry) Get(string, consts.PluginType) (func() (any, error), bool) {
	return nil, false
}
func (emptyRegistry) Keys(consts.PluginType) []string { return nil }
func (emptyRegistry) DeprecationStatus(string, consts.PluginType) (consts.DeprecationStatus, bool) {
	return consts.Unknown, false
}
func (emptyRegistry) IsBuiltinEntPlugin(string, consts.PluginType) bool { return false }
