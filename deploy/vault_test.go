package deploy_test

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
)

// validCapabilities are the capabilities a Vault ACL policy accepts.
var validCapabilities = []string{"create", "read", "update", "patch", "delete", "list", "sudo", "deny", "subscribe", "recover"}

// pathKeys are the keys Vault accepts inside a path block.
var pathKeys = []string{
	"capabilities", "policy", "allowed_parameters", "denied_parameters", "required_parameters",
	"min_wrapping_ttl", "max_wrapping_ttl", "mfa_methods", "control_group", "subscribe_event_types",
}

type policyPath struct {
	Path         string
	Capabilities []string `hcl:"capabilities"`
}

// parsePolicy parses a Vault ACL policy with the HCL dialect Vault itself
// uses, rejecting keys Vault would reject.
func parsePolicy(t *testing.T, text string) []policyPath {
	t.Helper()
	root, err := hcl.Parse(text)
	if err != nil {
		t.Fatalf("HCL: %v", err)
	}
	list, ok := root.Node.(*ast.ObjectList)
	if !ok {
		t.Fatal("HCL root is not an object list")
	}
	var out []policyPath
	for _, item := range list.Items {
		key := item.Keys[0].Token.Value().(string)
		switch key {
		case "name":
			continue
		case "path":
		default:
			t.Errorf("line %d: unknown top-level key %q", item.Pos().Line, key)
			continue
		}
		if len(item.Keys) != 2 {
			t.Errorf("line %d: path block needs exactly one path string", item.Pos().Line)
			continue
		}
		p := policyPath{Path: item.Keys[1].Token.Value().(string)}
		body, ok := item.Val.(*ast.ObjectType)
		if !ok {
			t.Errorf("line %d: path %q has no block", item.Pos().Line, p.Path)
			continue
		}
		for _, inner := range body.List.Items {
			k := inner.Keys[0].Token.Value().(string)
			if !slices.Contains(pathKeys, k) {
				t.Errorf("line %d: path %q: unknown key %q", inner.Pos().Line, p.Path, k)
			}
		}
		if err := hcl.DecodeObject(&p, item.Val); err != nil {
			t.Errorf("path %q: %v", p.Path, err)
			continue
		}
		out = append(out, p)
	}
	return out
}

func TestVaultPolicies(t *testing.T) {
	t.Parallel()
	var files []string
	for _, f := range deployFiles(t) {
		if path.Ext(f) == ".hcl" {
			files = append(files, f)
		}
	}
	if !slices.Contains(files, "vault/platform-policy.hcl") {
		t.Fatalf("vault/platform-policy.hcl missing (found %v)", files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			text := string(readFile(t, f))
			if strings.TrimSpace(text) == "" {
				t.Fatal("empty policy")
			}
			paths := parsePolicy(t, text)
			if len(paths) == 0 {
				t.Fatal("no path rules")
			}
			caps := map[string][]string{}
			for _, p := range paths {
				if _, dup := caps[p.Path]; dup {
					t.Errorf("path %q declared twice", p.Path)
				}
				caps[p.Path] = p.Capabilities
				if len(p.Capabilities) == 0 {
					t.Errorf("path %q grants no capabilities", p.Path)
				}
				for _, c := range p.Capabilities {
					if !slices.Contains(validCapabilities, c) {
						t.Errorf("path %q: unknown capability %q", p.Path, c)
					}
					if c == "sudo" {
						t.Errorf("path %q grants sudo", p.Path)
					}
				}
				if p.Path == "*" || p.Path == "+" || strings.HasPrefix(p.Path, "sys/") {
					t.Errorf("path %q is far broader than the platform needs", p.Path)
				}
			}
			if f != "vault/platform-policy.hcl" {
				return
			}
			// What the platform needs: read KV v2 under cityops/, create and
			// sign with tenant transit keys, verify other tenants' events.
			for _, want := range []struct {
				prefix, capability string
			}{
				{"secret/data/cityops/", "read"},
				{"transit/keys/", "create"},
				{"transit/keys/", "read"},
				{"transit/sign/", "update"},
				{"transit/verify/", "update"},
			} {
				ok := false
				for p, c := range caps {
					if strings.HasPrefix(p, want.prefix) && slices.Contains(c, want.capability) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("no path under %q grants %q", want.prefix, want.capability)
				}
			}
			for p, c := range caps {
				if strings.HasPrefix(p, "transit/keys/") && slices.Contains(c, "delete") {
					t.Errorf("path %q lets the platform delete signing keys", p)
				}
				// The platform only reads secrets, except its own token
				// signing key ring, which it creates and rotates.
				if strings.HasPrefix(p, "secret/data/") && p != "secret/data/cityops/platform/jwt" &&
					slices.ContainsFunc(c, func(s string) bool { return s != "read" }) {
					t.Errorf("path %q grants %v; the platform only reads secrets", p, c)
				}
			}
		})
	}
}
