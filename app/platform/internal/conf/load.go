// Package conf is the platform's typed configuration (conf.proto) and its
// loading: a YAML file, or the embedded defaults, whose ${NAME:default}
// placeholders are filled from CITYOPS_* environment variables.
package conf

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/go-kratos/kratos/v2/config"
	"github.com/go-kratos/kratos/v2/config/file"

	"github.com/cityops/cityops/app/platform/configs"
)

// EnvPrefixes are the prefixes of the environment variables the
// configuration reads (ours, and Vault's standard VAULT_ADDR, VAULT_TOKEN …);
// nothing else of the environment is looked at.
var EnvPrefixes = []string{"CITYOPS_", "VAULT_"}

// Load reads the configuration from path, or from the embedded defaults
// when path is empty, and resolves placeholders from environ (os.Environ()
// in main, a fixed list in tests).
func Load(path string, environ []string) (*Bootstrap, error) {
	var src config.Source = bytesSource(configs.Default)
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		src = file.NewSource(path)
	}
	c := config.New(
		config.WithSource(src, envSource(environ)),
		config.WithResolveActualTypes(true),
	)
	defer c.Close()
	if err := c.Load(); err != nil {
		return nil, fmt.Errorf("config: load: %w", err)
	}
	var bc Bootstrap
	if err := c.Scan(&bc); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := bc.validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &bc, nil
}

func (b *Bootstrap) validate() error {
	switch b.GetData().GetDatabase().GetDriver() {
	case "sqlite", "postgres":
	default:
		return fmt.Errorf("data.database.driver must be sqlite or postgres, not %q", b.GetData().GetDatabase().GetDriver())
	}
	if b.GetData().GetDatabase().GetDsn() == "" {
		return fmt.Errorf("data.database.dsn is empty (set CITYOPS_DB_DSN)")
	}
	if b.GetServer().GetHttp().GetAddr() == "" || b.GetServer().GetGrpc().GetAddr() == "" {
		return fmt.Errorf("server.http.addr and server.grpc.addr are required")
	}
	if r := b.GetObservability().GetTraceSampleRatio(); r < 0 || r > 1 {
		return fmt.Errorf("observability.trace_sample_ratio must be within 0..1, not %v", r)
	}
	return nil
}

// bytesSource serves the embedded YAML as a config source.
type bytesSource []byte

func (b bytesSource) Load() ([]*config.KeyValue, error) {
	return []*config.KeyValue{{Key: "config.yaml", Value: b, Format: "yaml"}}, nil
}

func (b bytesSource) Watch() (config.Watcher, error) { return newStillWatcher(), nil }

// envSource exposes CITYOPS_* and VAULT_* variables under their full names, so the
// placeholder in config.yaml is the very name an operator sets.
type envSource []string

func (e envSource) Load() ([]*config.KeyValue, error) {
	var kvs []*config.KeyValue
	for _, kv := range e {
		k, v, _ := strings.Cut(kv, "=")
		for _, p := range EnvPrefixes {
			if strings.HasPrefix(k, p) {
				kvs = append(kvs, &config.KeyValue{Key: k, Value: []byte(v)})
				break
			}
		}
	}
	return kvs, nil
}

func (e envSource) Watch() (config.Watcher, error) { return newStillWatcher(), nil }

// stillWatcher never reports a change: neither source changes while the
// process runs.
type stillWatcher struct{ done chan struct{} }

func newStillWatcher() *stillWatcher { return &stillWatcher{done: make(chan struct{})} }

func (w *stillWatcher) Next() ([]*config.KeyValue, error) {
	<-w.done
	// kratos ends its watch loop quietly on context.Canceled.
	return nil, context.Canceled
}

func (w *stillWatcher) Stop() error {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	return nil
}
