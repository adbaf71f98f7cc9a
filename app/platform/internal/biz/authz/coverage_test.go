package authz

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// Every API package, for the side effect of registering its services.
	// TestProtosImported fails when a package under api/ is missing here.
	_ "github.com/cityops/cityops/api/audit/v1"
	_ "github.com/cityops/cityops/api/caseflow/v1"
	_ "github.com/cityops/cityops/api/dispatch/v1"
	_ "github.com/cityops/cityops/api/errors/v1"
	_ "github.com/cityops/cityops/api/federation/v1"
	_ "github.com/cityops/cityops/api/identity/v1"
	_ "github.com/cityops/cityops/api/registry/v1"
	_ "github.com/cityops/cityops/api/supervision/v1"
	_ "github.com/cityops/cityops/api/tenant/v1"
)

// apiPrefix is the proto package prefix of CityOps' own services.
const apiPrefix = "cityops."

// registeredOperations returns the kratos operation of every RPC of a
// CityOps service in the protobuf registry, and the set of service names.
func registeredOperations(t *testing.T) (ops []string, services map[string]protoreflect.ServiceDescriptor) {
	t.Helper()
	services = map[string]protoreflect.ServiceDescriptor{}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), apiPrefix) {
			return true
		}
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			services[string(sd.FullName())] = sd
			for j := 0; j < sd.Methods().Len(); j++ {
				ops = append(ops, "/"+string(sd.FullName())+"/"+string(sd.Methods().Get(j).Name()))
			}
		}
		return true
	})
	return ops, services
}

// TestEveryOperationHasAPolicy fails when an RPC is added without deciding
// who may call it: each must be public or have at least one policy line.
func TestEveryOperationHasAPolicy(t *testing.T) {
	t.Parallel()
	p, err := parsePolicy(policyCSV, publicTxt)
	if err != nil {
		t.Fatal(err)
	}
	policed := map[string]bool{}
	for _, r := range p.rules {
		policed[r[2]] = true
	}
	ops, _ := registeredOperations(t)
	if len(ops) == 0 {
		t.Fatal("no CityOps RPC is registered; are the api packages imported?")
	}
	for _, op := range ops {
		if _, public := p.public[op]; !public && !policed[op] {
			t.Errorf("%s has no line in policy.csv and is not in public.txt: decide who may call it", op)
		}
	}
}

// TestPolicyNamesExistingOperations fails when policy.csv or public.txt
// names an RPC that does not exist (a typo, or a removed RPC whose lines
// were left behind).
func TestPolicyNamesExistingOperations(t *testing.T) {
	t.Parallel()
	p, err := parsePolicy(policyCSV, publicTxt)
	if err != nil {
		t.Fatal(err)
	}
	_, services := registeredOperations(t)
	declared := protoServicesOnDisk(t)
	for _, op := range p.operations {
		svc, method, _ := strings.Cut(strings.TrimPrefix(op, "/"), "/")
		sd, ok := services[svc]
		switch {
		case ok:
			if sd.Methods().ByName(protoreflect.Name(method)) == nil {
				t.Errorf("%s: service %s has no method %s", op, svc, method)
			}
		case declared[svc] != "":
			// Declared in a .proto not generated yet; TestProtosImported
			// reports it.
			t.Logf("%s: service %s is not generated yet (%s)", op, svc, declared[svc])
		default:
			t.Errorf("%s: no service %s in the API", op, svc)
		}
	}
}

// TestProtosImported keeps the blank imports above complete: every service
// declared under api/ whose Go code is generated must be registered here,
// or the coverage tests would silently skip it.
func TestProtosImported(t *testing.T) {
	t.Parallel()
	_, services := registeredOperations(t)
	for svc, file := range protoServicesOnDisk(t) {
		if _, ok := services[svc]; ok {
			continue
		}
		generated, _ := filepath.Glob(filepath.Join(filepath.Dir(file), "*.pb.go"))
		if len(generated) == 0 {
			t.Logf("%s (%s) has no generated code yet", svc, file)
			continue
		}
		t.Errorf("%s (%s) is generated but not imported by coverage_test.go: add its package as a blank import", svc, file)
	}
}

var (
	protoPackageRE = regexp.MustCompile(`(?m)^package\s+([\w.]+)\s*;`)
	protoServiceRE = regexp.MustCompile(`(?m)^service\s+(\w+)`)
)

// protoServicesOnDisk returns the CityOps services declared by the .proto
// files under the module's api/ directory, with the file declaring each.
func protoServicesOnDisk(t *testing.T) map[string]string {
	t.Helper()
	root := moduleRoot(t)
	out := map[string]string{}
	err := filepath.WalkDir(filepath.Join(root, "api"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".proto" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pkg := protoPackageRE.FindSubmatch(b)
		if pkg == nil || !strings.HasPrefix(string(pkg[1]), apiPrefix) {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		for _, m := range protoServiceRE.FindAllSubmatch(b, -1) {
			out[string(pkg[1])+"."+string(m[1])] = rel
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk api/: %v", err)
	}
	return out
}

// moduleRoot is the directory of go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}
