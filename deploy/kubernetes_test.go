package deploy_test

import (
	"fmt"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

const (
	k8sDir        = "kubernetes"
	namespace     = "cityops"
	kustomization = "kustomization.yaml"
	// appShutdownGrace is server.shutdown_grace of the embedded defaults; the
	// ConfigMap's value is used when it sets one.
	appShutdownGrace = 20 * time.Second
)

// k8sObject is one Kubernetes object of a manifest file, kept both as the
// raw node (to decode into a kind-specific type) and its identity.
type k8sObject struct {
	File       string
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	node *yaml.Node
}

func (o k8sObject) String() string { return fmt.Sprintf("%s %s/%s", o.File, o.Kind, o.Metadata.Name) }

func (o k8sObject) decode(t *testing.T, v any) {
	t.Helper()
	if err := o.node.Decode(v); err != nil {
		t.Fatalf("%s: decode: %v", o, err)
	}
}

// manifestFiles lists the YAML files of kubernetes/ other than the
// kustomization, by base name.
func manifestFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(k8sDir)
	if err != nil {
		t.Fatalf("read %s: %v", k8sDir, err)
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && isYAML(e.Name()) && e.Name() != kustomization {
			files = append(files, e.Name())
		}
	}
	slices.Sort(files)
	return files
}

func loadObjects(t *testing.T) []k8sObject {
	t.Helper()
	var objs []k8sObject
	for _, f := range manifestFiles(t) {
		p := path.Join(k8sDir, f)
		docs, err := yamlDocs(readFile(t, p))
		if err != nil {
			t.Fatalf("parse %s: %v", p, err)
		}
		for _, d := range docs {
			o := k8sObject{File: p, node: d}
			if err := d.Decode(&o); err != nil {
				t.Fatalf("decode %s: %v", p, err)
			}
			objs = append(objs, o)
		}
	}
	if len(objs) == 0 {
		t.Fatal("no Kubernetes objects found")
	}
	return objs
}

// only returns the single object of a kind, failing unless there is exactly one.
func only(t *testing.T, objs []k8sObject, kind string) k8sObject {
	t.Helper()
	var found []k8sObject
	for _, o := range objs {
		if o.Kind == kind {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s, found %d", kind, len(found))
	}
	return found[0]
}

func byName(objs []k8sObject, kind, name string) (k8sObject, bool) {
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name {
			return o, true
		}
	}
	return k8sObject{}, false
}

func TestKubernetesObjectsIdentity(t *testing.T) {
	t.Parallel()
	for i, o := range loadObjects(t) {
		t.Run(fmt.Sprintf("%d_%s_%s", i, o.Kind, o.Metadata.Name), func(t *testing.T) {
			t.Parallel()
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Fatalf("%s: apiVersion %q, kind %q, metadata.name %q: all are required", o.File, o.APIVersion, o.Kind, o.Metadata.Name)
			}
			if o.Kind == "Namespace" {
				if o.Metadata.Name != namespace || o.Metadata.Namespace != "" {
					t.Errorf("%s: Namespace must be named %q and carry no namespace", o, namespace)
				}
				return
			}
			if o.Metadata.Namespace != namespace {
				t.Errorf("%s: metadata.namespace = %q, want %q", o, o.Metadata.Namespace, namespace)
			}
			if o.Kind == "Secret" {
				t.Errorf("%s: no Secret is committed; credentials come from Vault", o)
			}
		})
	}
}

func TestKustomizationListsExactlyTheManifests(t *testing.T) {
	t.Parallel()
	var k struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Namespace  string   `yaml:"namespace"`
		Resources  []string `yaml:"resources"`
		Images     []struct {
			Name    string `yaml:"name"`
			NewName string `yaml:"newName"`
		} `yaml:"images"`
	}
	if err := yaml.Unmarshal(readFile(t, path.Join(k8sDir, kustomization)), &k); err != nil {
		t.Fatalf("parse kustomization: %v", err)
	}
	if k.Kind != "Kustomization" || !strings.HasPrefix(k.APIVersion, "kustomize.config.k8s.io/") {
		t.Errorf("kustomization: apiVersion %q kind %q", k.APIVersion, k.Kind)
	}
	if k.Namespace != namespace {
		t.Errorf("kustomization namespace = %q, want %q", k.Namespace, namespace)
	}
	got := slices.Clone(k.Resources)
	slices.Sort(got)
	if c := slices.Compact(slices.Clone(got)); len(c) != len(got) {
		t.Errorf("resources has duplicates: %v", k.Resources)
	}
	if diff := cmp.Diff(manifestFiles(t), got); diff != "" {
		t.Errorf("resources differ from the manifest files present (-files +resources):\n%s", diff)
	}
	for _, im := range k.Images {
		checkImageRef(t, "kustomization images", im.Name)
		if im.NewName != "" {
			checkImageRef(t, "kustomization images newName", im.NewName)
		}
	}
}

// --- kind-specific shapes (only the fields checked) ---

type probe struct {
	HTTPGet *struct {
		Path string   `yaml:"path"`
		Port intOrStr `yaml:"port"`
	} `yaml:"httpGet"`
	PeriodSeconds    int `yaml:"periodSeconds"`
	FailureThreshold int `yaml:"failureThreshold"`
}

// intOrStr is a Kubernetes IntOrString kept as its text.
type intOrStr string

func (v *intOrStr) UnmarshalYAML(n *yaml.Node) error { *v = intOrStr(n.Value); return nil }

type containerPort struct {
	Name          string `yaml:"name"`
	ContainerPort int    `yaml:"containerPort"`
}

type envVar struct {
	Name      string         `yaml:"name"`
	Value     string         `yaml:"value"`
	ValueFrom map[string]any `yaml:"valueFrom"`
}

type container struct {
	Name            string          `yaml:"name"`
	Image           string          `yaml:"image"`
	Command         []string        `yaml:"command"`
	Args            []string        `yaml:"args"`
	Ports           []containerPort `yaml:"ports"`
	Env             []envVar        `yaml:"env"`
	StartupProbe    *probe          `yaml:"startupProbe"`
	LivenessProbe   *probe          `yaml:"livenessProbe"`
	ReadinessProbe  *probe          `yaml:"readinessProbe"`
	SecurityContext *struct {
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
	} `yaml:"securityContext"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	Lifecycle *struct {
		PreStop *struct {
			Exec *struct {
				Command []string `yaml:"command"`
			} `yaml:"exec"`
			Sleep *struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

func (c container) argv() []string { return append(slices.Clone(c.Command), c.Args...) }

func (c container) env(name string) (envVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return envVar{}, false
}

// port resolves a probe or Service target port (name or number) to a
// declared container port.
func (c container) port(p intOrStr) (containerPort, bool) {
	for _, cp := range c.Ports {
		if string(p) == cp.Name || string(p) == strconv.Itoa(cp.ContainerPort) {
			return cp, true
		}
	}
	return containerPort{}, false
}

type podSpec struct {
	ServiceAccountName            string `yaml:"serviceAccountName"`
	RestartPolicy                 string `yaml:"restartPolicy"`
	TerminationGracePeriodSeconds *int   `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               *struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    *int  `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name  string `yaml:"name"`
			Items []struct {
				Key  string `yaml:"key"`
				Path string `yaml:"path"`
			} `yaml:"items"`
		} `yaml:"configMap"`
	} `yaml:"volumes"`
}

type podTemplate struct {
	Metadata struct {
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec podSpec `yaml:"spec"`
}

type deployment struct {
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template podTemplate `yaml:"template"`
	} `yaml:"spec"`
}

type job struct {
	Spec struct {
		BackoffLimit            *int        `yaml:"backoffLimit"`
		TTLSecondsAfterFinished *int        `yaml:"ttlSecondsAfterFinished"`
		Template                podTemplate `yaml:"template"`
	} `yaml:"spec"`
}

type service struct {
	Spec struct {
		Type     string            `yaml:"type"`
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string   `yaml:"name"`
			Port       int      `yaml:"port"`
			TargetPort intOrStr `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type configMap struct {
	Data map[string]string `yaml:"data"`
}

func isSubset(sub, super map[string]string) bool {
	if len(sub) == 0 {
		return false
	}
	for k, v := range sub {
		if super[k] != v {
			return false
		}
	}
	return true
}

// platformDeployment returns the Deployment and its one container.
func platformDeployment(t *testing.T, objs []k8sObject) (k8sObject, deployment, container) {
	t.Helper()
	o := only(t, objs, "Deployment")
	var d deployment
	o.decode(t, &d)
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%s: want one container, have %d", o, len(d.Spec.Template.Spec.Containers))
	}
	return o, d, d.Spec.Template.Spec.Containers[0]
}

func truthy(b *bool) bool { return b != nil && *b }

// checkPodSecurity checks the non-root, read-only settings of a pod spec.
func checkPodSecurity(t *testing.T, spec podSpec) {
	t.Helper()
	podNonRoot := spec.SecurityContext != nil && truthy(spec.SecurityContext.RunAsNonRoot)
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("container %s: no securityContext", c.Name)
			continue
		}
		if !podNonRoot && !truthy(sc.RunAsNonRoot) {
			t.Errorf("container %s: runAsNonRoot not set", c.Name)
		}
		if !truthy(sc.ReadOnlyRootFilesystem) {
			t.Errorf("container %s: readOnlyRootFilesystem not true", c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("container %s: allowPrivilegeEscalation not false", c.Name)
		}
		checkImageRef(t, "container "+c.Name, c.Image)
	}
	if spec.SecurityContext != nil && spec.SecurityContext.RunAsUser != nil && *spec.SecurityContext.RunAsUser == 0 {
		t.Error("runAsUser is 0 (root)")
	}
}

func TestDeployment(t *testing.T) {
	t.Parallel()
	objs := loadObjects(t)
	_, d, c := platformDeployment(t, objs)
	spec := d.Spec.Template.Spec
	prodConf := loadProductionConfig(t, objs)

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"replicas", func(t *testing.T) {
			if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
				t.Errorf("replicas = %v, want >= 2", d.Spec.Replicas)
			}
		}},
		{"rolling update", func(t *testing.T) {
			if d.Spec.Strategy.Type != "RollingUpdate" {
				t.Errorf("strategy = %q, want RollingUpdate", d.Spec.Strategy.Type)
			}
		}},
		{"selector matches template", func(t *testing.T) {
			if !isSubset(d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels) {
				t.Errorf("selector %v does not select template labels %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels)
			}
		}},
		{"security context", func(t *testing.T) { checkPodSecurity(t, spec) }},
		{"resources", func(t *testing.T) {
			for _, r := range []string{"cpu", "memory"} {
				if c.Resources.Requests[r] == "" {
					t.Errorf("resources.requests.%s not set", r)
				}
			}
			if c.Resources.Limits["memory"] == "" {
				t.Error("resources.limits.memory not set")
			}
		}},
		{"ports", func(t *testing.T) {
			want := map[string]int{"http": 8000, "grpc": 9000}
			got := map[string]int{}
			for _, p := range c.Ports {
				got[p.Name] = p.ContainerPort
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("container ports (-want +got):\n%s", diff)
			}
		}},
		{"probes", func(t *testing.T) {
			for _, p := range []struct {
				name  string
				probe *probe
				path  string
			}{
				{"startupProbe", c.StartupProbe, "/healthz"},
				{"livenessProbe", c.LivenessProbe, "/healthz"},
				{"readinessProbe", c.ReadinessProbe, "/readyz"},
			} {
				if p.probe == nil || p.probe.HTTPGet == nil {
					t.Errorf("%s: no httpGet probe", p.name)
					continue
				}
				if p.probe.HTTPGet.Path != p.path {
					t.Errorf("%s: path %q, want %q", p.name, p.probe.HTTPGet.Path, p.path)
				}
				cp, ok := c.port(p.probe.HTTPGet.Port)
				if !ok || cp.Name != "http" {
					t.Errorf("%s: port %q is not the declared container port named http", p.name, p.probe.HTTPGet.Port)
				}
			}
		}},
		{"graceful shutdown", func(t *testing.T) {
			grace := prodConf.shutdownGrace(t)
			var preStop time.Duration
			if lc := c.Lifecycle; lc == nil || lc.PreStop == nil {
				t.Error("no preStop hook: endpoints would not drain before SIGTERM")
			} else if ps := lc.PreStop; ps.Sleep != nil {
				preStop = time.Duration(ps.Sleep.Seconds) * time.Second
			} else if ps.Exec != nil && len(ps.Exec.Command) == 2 && path.Base(ps.Exec.Command[0]) == "sleep" {
				n, err := strconv.Atoi(ps.Exec.Command[1])
				if err != nil || n <= 0 {
					t.Errorf("preStop sleep %q is not a positive number of seconds", ps.Exec.Command[1])
				}
				preStop = time.Duration(n) * time.Second
			} else {
				t.Errorf("preStop is not a sleep: %+v", ps)
			}
			if spec.TerminationGracePeriodSeconds == nil {
				t.Fatal("terminationGracePeriodSeconds not set (default 30s)")
			}
			tg := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
			if tg <= appShutdownGrace || tg <= preStop+grace {
				t.Errorf("terminationGracePeriodSeconds = %v, want > preStop %v + shutdown_grace %v (and > %v)", tg, preStop, grace, appShutdownGrace)
			}
		}},
		{"config mounted from ConfigMap", func(t *testing.T) {
			checkConfigMount(t, spec, c, prodConf.obj.Metadata.Name, true)
		}},
		{"secrets from Vault", func(t *testing.T) {
			if e, ok := c.env("CITYOPS_DB_DSN"); !ok || e.Value != "secret://kv/cityops/platform/db" {
				t.Errorf("CITYOPS_DB_DSN = %+v, want the Vault reference secret://kv/cityops/platform/db", e)
			}
			for _, n := range []string{"VAULT_ADDR", "VAULT_ROLE", "CITYOPS_KAFKA_BROKERS"} {
				if e, ok := c.env(n); !ok || e.Value == "" {
					t.Errorf("env %s not set", n)
				}
			}
			for _, e := range c.Env {
				if _, ok := e.ValueFrom["secretKeyRef"]; ok {
					t.Errorf("env %s reads a Kubernetes Secret; credentials come from Vault", e.Name)
				}
			}
			if spec.ServiceAccountName == "" {
				t.Fatal("no serviceAccountName: the Vault Kubernetes auth role binds to it")
			}
			if _, ok := byName(objs, "ServiceAccount", spec.ServiceAccountName); !ok {
				t.Errorf("ServiceAccount %q is not among the manifests", spec.ServiceAccountName)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.check(t)
		})
	}
}

// checkConfigMount checks that the container passes -conf
// /etc/cityops/config.yaml and that this file is the config.yaml key of the
// ConfigMap cmName, mounted as a volume. With required false, a container
// that passes no -conf (embedded defaults) is accepted.
func checkConfigMount(t *testing.T, spec podSpec, c container, cmName string, required bool) {
	t.Helper()
	argv := c.argv()
	i := slices.Index(argv, "-conf")
	if i < 0 || i+1 >= len(argv) {
		if required {
			t.Errorf("container %s: command %v does not pass -conf", c.Name, argv)
		}
		return
	}
	confPath := argv[i+1]
	if confPath != "/etc/cityops/config.yaml" {
		t.Errorf("container %s: -conf %q, want /etc/cityops/config.yaml", c.Name, confPath)
	}
	var mountedCM string
	for _, vm := range c.VolumeMounts {
		if vm.MountPath != path.Dir(confPath) {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name != vm.Name || v.ConfigMap == nil {
				continue
			}
			mountedCM = v.ConfigMap.Name
			if len(v.ConfigMap.Items) == 0 {
				continue // every key becomes a file named after it
			}
			projected := false
			for _, it := range v.ConfigMap.Items {
				if it.Path == path.Base(confPath) {
					projected = true
					if it.Key != "config.yaml" {
						t.Errorf("container %s: %s is projected from key %q", c.Name, confPath, it.Key)
					}
				}
			}
			if !projected {
				t.Errorf("container %s: the ConfigMap volume does not project %s", c.Name, path.Base(confPath))
			}
		}
	}
	if mountedCM == "" {
		t.Fatalf("container %s: no ConfigMap volume mounted at %s", c.Name, path.Dir(confPath))
	}
	if mountedCM != cmName {
		t.Errorf("container %s: mounts ConfigMap %q, the config is in %q", c.Name, mountedCM, cmName)
	}
}

func TestService(t *testing.T) {
	t.Parallel()
	objs := loadObjects(t)
	_, d, c := platformDeployment(t, objs)
	so := only(t, objs, "Service")
	var s service
	so.decode(t, &s)

	if s.Spec.Type != "" && s.Spec.Type != "ClusterIP" {
		t.Errorf("type = %q, want ClusterIP", s.Spec.Type)
	}
	if !isSubset(s.Spec.Selector, d.Spec.Template.Metadata.Labels) {
		t.Errorf("selector %v does not select the Deployment's pod labels %v", s.Spec.Selector, d.Spec.Template.Metadata.Labels)
	}
	names := map[string]bool{}
	for _, p := range s.Spec.Ports {
		names[p.Name] = true
		target := p.TargetPort
		if target == "" {
			target = intOrStr(strconv.Itoa(p.Port))
		}
		if _, ok := c.port(target); !ok {
			t.Errorf("port %s: targetPort %q is not a declared container port", p.Name, target)
		}
	}
	for _, n := range []string{"http", "grpc"} {
		if !names[n] {
			t.Errorf("no Service port named %s", n)
		}
	}
	httpPort, _ := c.port("http")
	wantAnn := map[string]string{
		"prometheus.io/scrape": "true",
		"prometheus.io/port":   strconv.Itoa(httpPort.ContainerPort),
		"prometheus.io/path":   "/metrics",
	}
	for k, v := range wantAnn {
		if got := so.Metadata.Annotations[k]; got != v {
			t.Errorf("annotation %s = %q, want %q", k, got, v)
		}
	}
}

func TestPodDisruptionBudget(t *testing.T) {
	t.Parallel()
	objs := loadObjects(t)
	_, d, _ := platformDeployment(t, objs)
	var pdb struct {
		Spec struct {
			MinAvailable   *intOrStr `yaml:"minAvailable"`
			MaxUnavailable *intOrStr `yaml:"maxUnavailable"`
			Selector       struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
		} `yaml:"spec"`
	}
	only(t, objs, "PodDisruptionBudget").decode(t, &pdb)
	if !isSubset(pdb.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels) {
		t.Errorf("selector %v does not select the Deployment's pods", pdb.Spec.Selector.MatchLabels)
	}
	switch {
	case pdb.Spec.MinAvailable != nil:
		n, err := strconv.Atoi(string(*pdb.Spec.MinAvailable))
		if err == nil && d.Spec.Replicas != nil && n >= *d.Spec.Replicas {
			t.Errorf("minAvailable %d >= replicas %d blocks every node drain", n, *d.Spec.Replicas)
		}
	case pdb.Spec.MaxUnavailable == nil:
		t.Error("neither minAvailable nor maxUnavailable set")
	}
}

// runsCityctlMigrate reports whether argv is `cityctl [-flag value]... migrate [up]`
// (cityctl's global flags, -conf and -lang, take a value).
func runsCityctlMigrate(argv []string) bool {
	if len(argv) == 0 || path.Base(argv[0]) != "cityctl" {
		return false
	}
	rest := argv[1:]
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
		if strings.Contains(rest[0], "=") {
			rest = rest[1:]
		} else {
			rest = rest[min(2, len(rest)):]
		}
	}
	if len(rest) == 0 || rest[0] != "migrate" {
		return false
	}
	// migrate [up] [-grant-app ROLE]
	rest = rest[1:]
	if len(rest) > 0 && rest[0] == "up" {
		rest = rest[1:]
	}
	return len(rest) == 0 || (len(rest) == 2 && rest[0] == "-grant-app" && rest[1] != "")
}

func TestMigrationJob(t *testing.T) {
	t.Parallel()
	objs := loadObjects(t)
	var j job
	only(t, objs, "Job").decode(t, &j)
	if j.Spec.BackoffLimit == nil {
		t.Error("backoffLimit not set")
	}
	if j.Spec.TTLSecondsAfterFinished == nil {
		t.Error("ttlSecondsAfterFinished not set")
	}
	spec := j.Spec.Template.Spec
	if spec.RestartPolicy != "Never" && spec.RestartPolicy != "OnFailure" {
		t.Errorf("restartPolicy = %q", spec.RestartPolicy)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("want one container, have %d", len(spec.Containers))
	}
	if argv := spec.Containers[0].argv(); !runsCityctlMigrate(argv) {
		t.Errorf("command %q does not run cityctl migrate", argv)
	}
	checkPodSecurity(t, spec)
	checkConfigMount(t, spec, spec.Containers[0], loadProductionConfig(t, objs).obj.Metadata.Name, false)
	if spec.ServiceAccountName != "" {
		if _, ok := byName(objs, "ServiceAccount", spec.ServiceAccountName); !ok {
			t.Errorf("ServiceAccount %q is not among the manifests", spec.ServiceAccountName)
		}
	}
}

// --- production configuration ---

type productionConfig struct {
	obj  k8sObject
	tree map[string]any
}

// loadProductionConfig finds the ConfigMap mounted by the Deployment and
// parses its config.yaml.
func loadProductionConfig(t *testing.T, objs []k8sObject) productionConfig {
	t.Helper()
	var found []productionConfig
	for _, o := range objs {
		if o.Kind != "ConfigMap" {
			continue
		}
		var cm configMap
		o.decode(t, &cm)
		text, ok := cm.Data["config.yaml"]
		if !ok {
			continue
		}
		var tree map[string]any
		if err := yaml.Unmarshal([]byte(text), &tree); err != nil {
			t.Fatalf("%s: config.yaml does not parse: %v", o, err)
		}
		found = append(found, productionConfig{obj: o, tree: tree})
	}
	if len(found) != 1 {
		t.Fatalf("want one ConfigMap holding config.yaml, found %d", len(found))
	}
	return found[0]
}

// kratosVar matches the ${NAME} and ${NAME:default} placeholders of kratos
// config files.
var kratosVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}`)

// value returns the config value at a dotted path, placeholders replaced by
// their defaults (as when the variable is unset), as text.
func (c productionConfig) value(dotted string) (string, bool) {
	var cur any = c.tree
	for _, k := range strings.Split(dotted, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		if cur, ok = m[k]; !ok {
			return "", false
		}
	}
	if cur == nil {
		return "", true
	}
	s := fmt.Sprint(cur)
	return kratosVar.ReplaceAllString(s, "$2"), true
}

func (c productionConfig) shutdownGrace(t *testing.T) time.Duration {
	t.Helper()
	v, ok := c.value("server.shutdown_grace")
	if !ok || v == "" {
		return appShutdownGrace
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("server.shutdown_grace %q: %v", v, err)
	}
	return d
}

// keyPaths lists the dotted paths of every leaf of a config tree.
func keyPaths(prefix string, v any, out map[string]bool) {
	m, ok := v.(map[string]any)
	if !ok {
		out[prefix] = true
		return
	}
	for k, sub := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		keyPaths(p, sub, out)
	}
}

func TestProductionConfig(t *testing.T) {
	t.Parallel()
	conf := loadProductionConfig(t, loadObjects(t))

	tests := []struct {
		key  string
		want string // after placeholder defaults; "*" = any non-empty value
	}{
		{"server.http.addr", "0.0.0.0:8000"},
		{"server.grpc.addr", "0.0.0.0:9000"},
		{"server.shutdown_grace", "*"},
		{"data.database.driver", "postgres"},
		{"data.database.migrate_on_start", "false"},
		{"observability.log_level", "*"},
		{"observability.service_name", "*"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			t.Parallel()
			got, ok := conf.value(tc.key)
			switch {
			case !ok:
				t.Errorf("%s missing", tc.key)
			case tc.want == "*" && got == "":
				t.Errorf("%s is empty", tc.key)
			case tc.want != "*" && got != tc.want:
				t.Errorf("%s = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
	t.Run("dsn from environment", func(t *testing.T) {
		t.Parallel()
		raw, _ := conf.tree["data"].(map[string]any)["database"].(map[string]any)["dsn"].(string)
		if !strings.Contains(raw, "${CITYOPS_DB_DSN") {
			t.Errorf("data.database.dsn = %q, want it taken from ${CITYOPS_DB_DSN}", raw)
		}
		if def := kratosVar.ReplaceAllString(raw, "$2"); def != "" {
			t.Errorf("data.database.dsn has a default %q; production must not fall back to one", def)
		}
	})
	t.Run("same keys as the embedded defaults", func(t *testing.T) {
		t.Parallel()
		// The production file replaces the embedded one entirely: a key
		// missing here would be zero, not the embedded default.
		const defaults = "../app/platform/configs/config.yaml"
		b, err := os.ReadFile(defaults)
		if err != nil {
			t.Fatalf("read embedded defaults: %v", err)
		}
		var tree map[string]any
		if err := yaml.Unmarshal(b, &tree); err != nil {
			t.Fatalf("parse %s: %v", defaults, err)
		}
		want, got := map[string]bool{}, map[string]bool{}
		keyPaths("", tree, want)
		keyPaths("", conf.tree, got)
		if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got))); diff != "" {
			t.Errorf("keys differ from %s (-defaults +production):\n%s", defaults, diff)
		}
	})
}

// --- Kafka topics ---

func TestKafkaTopics(t *testing.T) {
	t.Parallel()
	o, ok := byName(loadObjects(t), "ConfigMap", "cityops-kafka-topics")
	if !ok {
		t.Fatal("ConfigMap cityops-kafka-topics missing")
	}
	var cm configMap
	o.decode(t, &cm)
	var spec struct {
		Kinds map[string]struct {
			Partitions        int               `yaml:"partitions"`
			ReplicationFactor int               `yaml:"replication_factor"`
			Config            map[string]string `yaml:"config"`
		} `yaml:"kinds"`
		Topics []struct {
			Name string `yaml:"name"`
			Kind string `yaml:"kind"`
		} `yaml:"topics"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data["topics.yaml"]), &spec); err != nil {
		t.Fatalf("topics.yaml: %v", err)
	}
	for _, k := range []string{"events", "commands"} {
		t.Run("kind "+k, func(t *testing.T) {
			t.Parallel()
			kind, ok := spec.Kinds[k]
			if !ok {
				t.Fatalf("kind %s missing", k)
			}
			if kind.Partitions < 1 || kind.ReplicationFactor < 3 {
				t.Errorf("partitions %d, replication_factor %d: want >= 1 and >= 3", kind.Partitions, kind.ReplicationFactor)
			}
			isr, err := strconv.Atoi(kind.Config["min.insync.replicas"])
			if err != nil || isr < 2 || isr >= kind.ReplicationFactor {
				t.Errorf("min.insync.replicas %q: want 2 <= n < replication_factor", kind.Config["min.insync.replicas"])
			}
			if kind.Config["unclean.leader.election.enable"] != "false" {
				t.Error("unclean.leader.election.enable must be false")
			}
		})
	}
	topicName := regexp.MustCompile(`^cityops\.(\d{6})\.(events|commands)$`)
	t.Run("topics", func(t *testing.T) {
		t.Parallel()
		if len(spec.Topics) == 0 {
			t.Fatal("no topics")
		}
		seen := map[string]bool{}
		perCode := map[string][]string{}
		for _, tp := range spec.Topics {
			m := topicName.FindStringSubmatch(tp.Name)
			if m == nil {
				t.Errorf("topic %q is not cityops.<code>.events|commands", tp.Name)
				continue
			}
			if m[2] != tp.Kind {
				t.Errorf("topic %q has kind %q", tp.Name, tp.Kind)
			}
			if seen[tp.Name] {
				t.Errorf("topic %q listed twice", tp.Name)
			}
			seen[tp.Name] = true
			perCode[m[1]] = append(perCode[m[1]], m[2])
		}
		for code, kinds := range perCode {
			slices.Sort(kinds)
			if !slices.Equal(kinds, []string{"commands", "events"}) {
				t.Errorf("tenant %s has topics %v, want both commands and events", code, kinds)
			}
		}
	})
}
