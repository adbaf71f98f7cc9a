package conf_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cityops/cityops/app/platform/internal/conf"
)

func TestLoadEmbeddedDefaults(t *testing.T) {
	t.Parallel()
	bc, err := conf.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := bc.GetServer().GetHttp().GetAddr(); got != "127.0.0.1:8000" {
		t.Errorf("http addr = %q", got)
	}
	if got := bc.GetData().GetDatabase().GetDriver(); got != "sqlite" {
		t.Errorf("driver = %q", got)
	}
	if !strings.HasPrefix(bc.GetData().GetDatabase().GetDsn(), "file:var/cityops.db?") {
		t.Errorf("dsn = %q", bc.GetData().GetDatabase().GetDsn())
	}
	if !bc.GetData().GetDatabase().GetMigrateOnStart() {
		t.Error("embedded mode must migrate on start")
	}
	if got := bc.GetServer().GetShutdownGrace().AsDuration(); got != 20*time.Second {
		t.Errorf("shutdown grace = %v", got)
	}
	if got := bc.GetOnboarding().GetSeedDir(); got != "tenants" {
		t.Errorf("seed dir = %q", got)
	}
}

func TestLoadEnvironmentOverrides(t *testing.T) {
	t.Parallel()
	env := []string{
		"CITYOPS_HTTP_ADDR=0.0.0.0:18000",
		"CITYOPS_DB_DRIVER=postgres",
		"CITYOPS_DB_DSN=postgres://u:p@db:5432/cityops?sslmode=disable",
		"CITYOPS_DB_MIGRATE_ON_START=false",
		"CITYOPS_DB_MAX_OPEN_CONNS=40",
		"CITYOPS_TRACE_SAMPLE_RATIO=0.25",
		"HTTP_ADDR=ignored:1", // only CITYOPS_* variables are read
	}
	bc, err := conf.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	d := bc.GetData().GetDatabase()
	if bc.GetServer().GetHttp().GetAddr() != "0.0.0.0:18000" || d.GetDriver() != "postgres" ||
		d.GetDsn() != "postgres://u:p@db:5432/cityops?sslmode=disable" || d.GetMigrateOnStart() ||
		d.GetMaxOpenConns() != 40 || bc.GetObservability().GetTraceSampleRatio() != 0.25 {
		t.Fatalf("overrides not applied: %v", bc)
	}
}

func TestLoadRejectsBadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"unknown driver", []string{"CITYOPS_DB_DRIVER=mysql"}, "driver must be sqlite or postgres"},
		{"sample ratio", []string{"CITYOPS_TRACE_SAMPLE_RATIO=2"}, "trace_sample_ratio"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := conf.Load("", c.env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
	if _, err := conf.Load(filepath.Join(t.TempDir(), "missing.yaml"), nil); err == nil {
		t.Fatal("a missing config file must be an error")
	}
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "config.yaml")
	body := `
server:
  http: {addr: "127.0.0.1:1", timeout: 5s}
  grpc: {addr: "127.0.0.1:2"}
data:
  database: {driver: postgres, dsn: "${CITYOPS_DB_DSN:postgres://localhost/x}"}
`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	bc, err := conf.Load(p, []string{"CITYOPS_DB_DSN=postgres://other/y"})
	if err != nil {
		t.Fatal(err)
	}
	if bc.GetData().GetDatabase().GetDsn() != "postgres://other/y" || bc.GetServer().GetHttp().GetTimeout().AsDuration() != 5*time.Second {
		t.Fatalf("file not applied: %v", bc)
	}
}

// TestProductionConfigMapLoads keeps deploy/kubernetes/configmap.yaml
// loadable by the platform itself (durations in protobuf form, known keys).
func TestProductionConfigMapLoads(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../../../deploy/kubernetes/configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(cm.Data["config.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	bc, err := conf.Load(p, []string{"CITYOPS_DB_DSN=postgres://app@db/cityops", "VAULT_ADDR=https://vault:8200"})
	if err != nil {
		t.Fatal(err)
	}
	if bc.GetData().GetDatabase().GetMigrateOnStart() || bc.GetSecurity().GetSecrets().GetBackend() != "vault" ||
		bc.GetSecurity().GetSecrets().GetVaultAddress() != "https://vault:8200" || bc.GetOnboarding().GetDemoAccounts() {
		t.Fatalf("production config: %v", bc)
	}
}
