package plugintest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cityops/cityops/app/tools/internal/protoctest"
)

// realErrorsTest runs inside the package generated from the real
// api/errors/v1 protos. Every reason but the zero value must carry a code
// and both message templates: messages.proto promises a human message for
// every reason.
const realErrorsTest = `package errorsv1

import (
	"testing"

	kerrors "github.com/go-kratos/kratos/v2/errors"
)

func TestGenerated(t *testing.T) {
	if msg, ok := ErrorReasonMessage("TENANT_NOT_FOUND", "zh-CN"); !ok || msg != "租户 {code} 不存在" {
		t.Errorf("ErrorReasonMessage(TENANT_NOT_FOUND, zh-CN) = %q, %v", msg, ok)
	}
	if msg, ok := ErrorReasonMessage("TENANT_NOT_FOUND", "en"); !ok || msg != "tenant {code} does not exist" {
		t.Errorf("ErrorReasonMessage(TENANT_NOT_FOUND, en) = %q, %v", msg, ok)
	}
	if code, ok := ErrorReasonCode("TENANT_SUSPENDED"); !ok || code != 403 {
		t.Errorf("ErrorReasonCode(TENANT_SUSPENDED) = %d, %v", code, ok)
	}
	err := ErrorTenantAlreadyExists("tenant %s exists", "450126")
	if !IsTenantAlreadyExists(err) || kerrors.Code(err) != 409 || IsTenantNotFound(err) {
		t.Errorf("ErrorTenantAlreadyExists = %v", err)
	}
	for name, num := range ErrorReason_value {
		if num == 0 {
			continue
		}
		code, ok := ErrorReasonCode(name)
		if !ok || code < 400 {
			t.Errorf("reason %s: code %d, %v", name, code, ok)
		}
		for _, lang := range []string{"zh-CN", "en"} {
			if msg, ok := ErrorReasonMessage(name, lang); !ok || msg == "" {
				t.Errorf("reason %s declares no %s message", name, lang)
			}
		}
	}
}
`

// TestRealErrorReasons generates api/errors/v1/errors.proto with
// protoc-gen-go and protoc-gen-go-errors into a temporary package (under
// testdata, so that ./... patterns never see it), then vets and tests it.
// The Go import path is remapped so that the test neither needs nor
// disturbs the package other code generates at api/errors/v1.
func TestRealErrorReasons(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a generated package")
	}
	plugins := protoctest.BuildPlugins(t, "go", "go-errors")
	root := protoctest.RepoRoot(t)
	tmp, err := os.MkdirTemp(filepath.Join(root, "app", "tools", "internal", "testdata"), "tmp-errors-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	base := protoctest.Module + "/app/tools/internal/testdata/" + filepath.Base(tmp)
	importPath := base + "/errorsv1;errorsv1"
	opts := "module=" + base +
		",Merrors/v1/errors.proto=" + importPath +
		",Merrors/v1/messages.proto=" + importPath
	args := append(slices.Clone(plugins),
		"--go_out="+opts+":"+tmp, "--go-errors_out="+opts+":"+tmp,
		"errors/v1/errors.proto", "errors/v1/messages.proto")
	if out, err := protoctest.Run(t, args...); err != nil {
		t.Fatalf("protoc: %v\n%s", err, out)
	}
	gen, err := os.ReadFile(filepath.Join(tmp, "errorsv1", "errors_errors.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"func IsTenantNotFound(err error) bool",
		"func ErrorTenantNotFound(format string, args ...interface{}) *errors.Error",
		"func ErrorReasonMessage(reason, lang string) (string, bool)",
		"func ErrorReasonCode(reason string) (int, bool)",
	} {
		if !strings.Contains(string(gen), want) {
			t.Errorf("errors_errors.pb.go lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "errorsv1", "messages_errors.pb.go")); !os.IsNotExist(err) {
		t.Errorf("messages.proto declares no reasons but got an _errors.pb.go (stat: %v)", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "errorsv1", "generated_test.go"), []byte(realErrorsTest), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := "./" + filepath.ToSlash(filepath.Join("app", "tools", "internal", "testdata", filepath.Base(tmp), "errorsv1"))
	protoctest.Go(t, root, "vet", pkg)
	protoctest.Go(t, root, "test", "-count=1", pkg)
}
