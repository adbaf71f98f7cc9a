package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const composeFile = "docker-compose.yaml"

type compose struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string             `yaml:"image"`
	Build       *composeBuild      `yaml:"build"`
	Command     stringList         `yaml:"command"`
	Entrypoint  stringList         `yaml:"entrypoint"`
	Environment composeEnv         `yaml:"environment"`
	DependsOn   composeDependsOn   `yaml:"depends_on"`
	Healthcheck *composeHealth     `yaml:"healthcheck"`
	Volumes     []composeVolumeRef `yaml:"volumes"`
}

// composeBuild accepts both "build: <context>" and the long form.
type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func (b *composeBuild) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	type plain composeBuild
	return n.Decode((*plain)(b))
}

type composeHealth struct {
	Test    stringList `yaml:"test"`
	Disable bool       `yaml:"disable"`
}

// stringList accepts a string or a list of strings (command, entrypoint,
// healthcheck test).
type stringList []string

func (s *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = stringList{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

func (s stringList) joined() string { return strings.Join(s, " ") }

// composeEnv accepts the mapping and the "KEY=value" list forms; merge keys
// (<<: *anchor) are resolved by the decoder.
type composeEnv map[string]string

func (e *composeEnv) UnmarshalYAML(n *yaml.Node) error {
	out := composeEnv{}
	switch n.Kind {
	case yaml.MappingNode:
		var m map[string]any
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			if v == nil {
				out[k] = ""
			} else {
				out[k] = fmt.Sprint(v)
			}
		}
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, kv := range l {
			k, v, _ := strings.Cut(kv, "=")
			out[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a mapping or a list", n.Line)
	}
	*e = out
	return nil
}

// composeDependsOn maps a dependency to its condition; the short list form
// means service_started.
type composeDependsOn map[string]string

func (d *composeDependsOn) UnmarshalYAML(n *yaml.Node) error {
	out := composeDependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, s := range l {
			out[s] = "service_started"
		}
	case yaml.MappingNode:
		var m map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			c := v.Condition
			if c == "" {
				c = "service_started"
			}
			out[k] = c
		}
	default:
		return fmt.Errorf("line %d: depends_on must be a list or a mapping", n.Line)
	}
	*d = out
	return nil
}

// composeVolumeRef is the source side of a volume entry (short "src:dst[:ro]"
// or long form).
type composeVolumeRef struct{ Source string }

func (v *composeVolumeRef) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		v.Source, _, _ = strings.Cut(n.Value, ":")
		return nil
	}
	var long struct {
		Source string `yaml:"source"`
	}
	if err := n.Decode(&long); err != nil {
		return err
	}
	v.Source = long.Source
	return nil
}

func loadCompose(t *testing.T) compose {
	t.Helper()
	var c compose
	if err := yaml.Unmarshal(readFile(t, composeFile), &c); err != nil {
		t.Fatalf("parse %s: %v", composeFile, err)
	}
	return c
}

var composeVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// composeDefault interpolates a compose value as if no variable were set:
// ${X:-d} and ${X-d} become d, ${X} becomes "". $$ is a literal $.
func composeDefault(s string) string {
	s = strings.ReplaceAll(s, "$$", "\x00")
	s = composeVar.ReplaceAllStringFunc(s, func(m string) string {
		sub := composeVar.FindStringSubmatch(m)
		if strings.HasSuffix(sub[2], "-") {
			return sub[3]
		}
		return ""
	})
	return strings.ReplaceAll(s, "\x00", "$")
}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)

	type want struct {
		service     string
		image       string // prefix of the image reference ("" = built)
		build       bool
		health      string // substring of the healthcheck test ("" = none promised)
		command     string // substring of command ("" = not checked)
		dependsOn   map[string]string
		env         map[string]string // values after default interpolation
		envPresent  []string
		namedVolume bool
	}
	tests := []want{
		{
			service: "postgres", image: "postgres:16", health: "pg_isready", namedVolume: true,
		},
		{
			service: "kafka", image: "apache/kafka:", health: "kafka:9092",
			env: map[string]string{
				"KAFKA_PROCESS_ROLES":        "broker,controller",
				"KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://kafka:9092,HOST://localhost:29092",
			},
			envPresent: []string{"CLUSTER_ID", "KAFKA_NODE_ID", "KAFKA_CONTROLLER_QUORUM_VOTERS", "KAFKA_LISTENERS", "KAFKA_CONTROLLER_LISTENER_NAMES"},
		},
		{
			service: "vault", image: "hashicorp/vault:", health: "vault status", command: "server -dev",
			envPresent: []string{"VAULT_DEV_ROOT_TOKEN_ID"},
		},
		{
			service: "migrate", build: true, command: "cityctl migrate",
			dependsOn:  map[string]string{"postgres": "service_healthy"},
			env:        map[string]string{"CITYOPS_DB_DRIVER": "postgres"},
			envPresent: []string{"CITYOPS_DB_DSN"},
		},
		{
			service: "platform", build: true, health: "/healthz",
			dependsOn: map[string]string{
				"migrate": "service_completed_successfully",
				"kafka":   "service_healthy",
				"vault":   "service_healthy",
			},
			env: map[string]string{
				"CITYOPS_DB_DRIVER":           "postgres",
				"CITYOPS_DB_MIGRATE_ON_START": "false",
				"CITYOPS_HTTP_ADDR":           "0.0.0.0:8000",
				"CITYOPS_GRPC_ADDR":           "0.0.0.0:9000",
				"CITYOPS_KAFKA_BROKERS":       "kafka:9092",
				"VAULT_ADDR":                  "http://vault:8200",
				"CITYOPS_OTLP_ENDPOINT":       "",
			},
			envPresent: []string{"CITYOPS_DB_DSN"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.service, func(t *testing.T) {
			t.Parallel()
			s, ok := c.Services[tc.service]
			if !ok {
				t.Fatalf("service %q missing", tc.service)
			}
			if tc.image != "" && !strings.HasPrefix(s.Image, tc.image) {
				t.Errorf("image = %q, want prefix %q", s.Image, tc.image)
			}
			if tc.build && (s.Build == nil || s.Build.Context == "") {
				t.Error("build is not set")
			}
			if tc.health != "" {
				switch {
				case s.Healthcheck == nil || s.Healthcheck.Disable || len(s.Healthcheck.Test) == 0:
					t.Error("healthcheck missing")
				case !strings.Contains(s.Healthcheck.Test.joined(), tc.health):
					t.Errorf("healthcheck %q does not contain %q", s.Healthcheck.Test.joined(), tc.health)
				}
			}
			if tc.command != "" && !strings.Contains(s.Command.joined(), tc.command) {
				t.Errorf("command %q does not contain %q", s.Command.joined(), tc.command)
			}
			for dep, cond := range tc.dependsOn {
				if got := s.DependsOn[dep]; got != cond {
					t.Errorf("depends_on %s: condition %q, want %q", dep, got, cond)
				}
			}
			for k, v := range tc.env {
				got, ok := s.Environment[k]
				if !ok {
					t.Errorf("environment %s missing", k)
					continue
				}
				if got := composeDefault(got); got != v {
					t.Errorf("environment %s = %q (with defaults), want %q", k, got, v)
				}
			}
			for _, k := range tc.envPresent {
				if _, ok := s.Environment[k]; !ok {
					t.Errorf("environment %s missing", k)
				}
			}
			if tc.namedVolume {
				found := false
				for _, v := range s.Volumes {
					if _, ok := c.Volumes[v.Source]; ok {
						found = true
					}
				}
				if !found {
					t.Error("no named volume mounted")
				}
			}
		})
	}
}

// TestComposeConsistency checks the whole file: every service has an image
// or a build, dependencies exist and can be met, builds and bind mounts point
// at paths that exist, named volumes are declared.
func TestComposeConsistency(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	names := make([]string, 0, len(c.Services))
	for n := range c.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		s := c.Services[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if s.Image == "" && s.Build == nil {
				t.Error("neither image nor build set")
			}
			if s.Image != "" {
				checkImageRef(t, "image", s.Image)
			}
			if s.Build != nil {
				ctx := filepath.FromSlash(s.Build.Context)
				if fi, err := os.Stat(ctx); err != nil || !fi.IsDir() {
					t.Errorf("build context %q is not a directory (relative to deploy/)", s.Build.Context)
				}
				df := s.Build.Dockerfile
				if df == "" {
					df = "Dockerfile"
				}
				if _, err := os.Stat(filepath.Join(ctx, filepath.FromSlash(df))); err != nil {
					t.Errorf("dockerfile %q not found in context %q", df, s.Build.Context)
				}
			}
			for dep, cond := range s.DependsOn {
				d, ok := c.Services[dep]
				if !ok {
					t.Errorf("depends_on unknown service %q", dep)
					continue
				}
				switch cond {
				case "service_started", "service_completed_successfully":
				case "service_healthy":
					if d.Healthcheck == nil || d.Healthcheck.Disable || len(d.Healthcheck.Test) == 0 {
						t.Errorf("waits for %q to be healthy, but it has no healthcheck", dep)
					}
				default:
					t.Errorf("depends_on %s: unknown condition %q", dep, cond)
				}
			}
			for _, v := range s.Volumes {
				switch {
				case strings.HasPrefix(v.Source, "./") || strings.HasPrefix(v.Source, "../"):
					if _, err := os.Stat(filepath.FromSlash(v.Source)); err != nil {
						t.Errorf("bind mount source %q does not exist (relative to deploy/)", v.Source)
					}
				case strings.HasPrefix(v.Source, "/"):
					t.Errorf("bind mount %q uses an absolute host path", v.Source)
				case v.Source != "":
					if _, ok := c.Volumes[v.Source]; !ok {
						t.Errorf("named volume %q is not declared under volumes:", v.Source)
					}
				}
			}
		})
	}
}
