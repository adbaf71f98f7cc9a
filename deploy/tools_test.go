package deploy_test

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// Cross-checks with the real tools, when the machine has them (they are not
// required: the other tests stand on their own). Neither needs a Docker
// daemon or a Kubernetes API server.

// composeCommand returns the argv prefix of an installed Compose CLI.
func composeCommand() []string {
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}
	}
	if p, err := exec.LookPath("docker"); err == nil {
		if exec.Command(p, "compose", "version").Run() == nil {
			return []string{p, "compose"}
		}
	}
	return nil
}

func TestComposeConfigWithComposeCLI(t *testing.T) {
	t.Parallel()
	argv := composeCommand()
	if argv == nil {
		t.Skip("no docker-compose or docker compose on this machine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append(argv[1:], "-f", composeFile, "config", "-q")
	out, err := exec.CommandContext(ctx, argv[0], args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v %v: %v\n%s", argv, args, err, out)
	}
}

func TestKustomizeBuild(t *testing.T) {
	t.Parallel()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl on this machine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, kubectl, "kustomize", k8sDir).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("kubectl kustomize %s: %v\n%s", k8sDir, err, stderr)
	}
	docs, err := yamlDocs(out)
	if err != nil {
		t.Fatalf("kustomize output does not parse: %v", err)
	}
	if want := len(loadObjects(t)); len(docs) != want {
		t.Errorf("kustomize rendered %d objects, the manifests hold %d", len(docs), want)
	}
	for _, d := range docs {
		var o k8sObject
		if err := d.Decode(&o); err != nil {
			t.Fatal(err)
		}
		if o.Kind != "Namespace" && o.Metadata.Namespace != namespace {
			t.Errorf("rendered %s/%s in namespace %q", o.Kind, o.Metadata.Name, o.Metadata.Namespace)
		}
	}
}
