package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePathTemplate(t *testing.T) {
	tests := []struct {
		in    string
		route string   // gorilla/mux form
		vars  []string // variable names
		multi []bool   // whether each variable spans several segments
		parts []string // client URL parts; variables as <name>
		verb  string
	}{
		{in: "/", route: "/", parts: []string{"/"}},
		{in: "/v1/healthz", route: "/v1/healthz", parts: []string{"/v1/healthz"}},
		{
			in:    "/v1/tenants/{tenant_code}",
			route: "/v1/tenants/{tenant_code}",
			vars:  []string{"tenant_code"}, multi: []bool{false},
			parts: []string{"/v1/tenants/", "<tenant_code>"},
		},
		{
			in:    "/v1/tenants/{tenant_code}/cases/{case_id}",
			route: "/v1/tenants/{tenant_code}/cases/{case_id}",
			vars:  []string{"tenant_code", "case_id"}, multi: []bool{false, false},
			parts: []string{"/v1/tenants/", "<tenant_code>", "/cases/", "<case_id>"},
		},
		{
			in:    "/v1/{ref.tenant_code}/x/{ref.inner.id=*}",
			route: "/v1/{ref.tenant_code}/x/{ref.inner.id}",
			vars:  []string{"ref.tenant_code", "ref.inner.id"}, multi: []bool{false, false},
			parts: []string{"/v1/", "<ref.tenant_code>", "/x/", "<ref.inner.id>"},
		},
		{
			in:    "/v1/{name=tenants/*/cases/*}",
			route: "/v1/{name:tenants/[^/]+/cases/[^/]+}",
			vars:  []string{"name"}, multi: []bool{true},
			parts: []string{"/v1/", "<name>"},
		},
		{
			in:    "/v1/files/{path=**}",
			route: "/v1/files/{path:.+}",
			vars:  []string{"path"}, multi: []bool{true},
			parts: []string{"/v1/files/", "<path>"},
		},
		{
			in:    "/v1/{name=a.b/*}:get",
			route: `/v1/{name:a\.b/[^/]+}:get`,
			vars:  []string{"name"}, multi: []bool{true},
			parts: []string{"/v1/", "<name>", ":get"},
			verb:  "get",
		},
		{
			in:    "/v1/tenants/{tenant_code}/cases/{case_id}:close",
			route: "/v1/tenants/{tenant_code}/cases/{case_id}:close",
			vars:  []string{"tenant_code", "case_id"}, multi: []bool{false, false},
			parts: []string{"/v1/tenants/", "<tenant_code>", "/cases/", "<case_id>", ":close"},
			verb:  "close",
		},
		{
			in:    "/v1/cases:search",
			route: "/v1/cases:search",
			parts: []string{"/v1/cases:search"},
			verb:  "search",
		},
		{
			in:    "/v1/{ name }",
			route: "/v1/{name}",
			vars:  []string{"name"}, multi: []bool{false},
			parts: []string{"/v1/", "<name>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := parsePathTemplate(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Route(); got != tt.route {
				t.Errorf("Route() = %q, want %q", got, tt.route)
			}
			if p.Verb != tt.verb {
				t.Errorf("Verb = %q, want %q", p.Verb, tt.verb)
			}
			var vars []string
			var multi []bool
			for _, v := range p.Vars() {
				vars = append(vars, v.Name())
				multi = append(multi, !v.SingleSegment())
			}
			if d := cmp.Diff(tt.vars, vars); d != "" {
				t.Errorf("vars (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.multi, multi); d != "" {
				t.Errorf("multi-segment (-want +got):\n%s", d)
			}
			var parts []string
			for _, u := range p.URLParts() {
				if u.Var != nil {
					parts = append(parts, "<"+u.Var.Name()+">")
				} else {
					parts = append(parts, u.Text)
				}
			}
			if d := cmp.Diff(tt.parts, parts); d != "" {
				t.Errorf("URL parts (-want +got):\n%s", d)
			}
		})
	}
}

func TestParsePathTemplateErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "must start with /"},
		{"v1/x", "must start with /"},
		{"/v1/{name", "unclosed {"},
		{"/v1/{}", "not a field name"},
		{"/v1/{a..b}", "not a field name"},
		{"/v1/{1a}", "not a field name"},
		{"/v1/{a-b}", "not a field name"},
		{"/v1/x{name}", "whole segments"},
		{"/v1/{name}x", "whole segments"},
		{"/v1/{name=}", "empty pattern segment"},
		{"/v1/{name=a//b}", "empty pattern segment"},
		{"/v1/{name=**/x}", "** must be the last segment"},
		{"/v1/{name=a*}", "malformed pattern segment"},
		{"/v1/{name={x}}", "malformed pattern segment"},
		{"/v1//x", "empty segment"},
		{"/v1/x/", "trailing /"},
		{"/v1/*", "wildcard * outside a variable"},
		{"/v1/**/x", "wildcard ** outside a variable"},
		{"/v1/x:", "malformed verb"},
		{"/v1/{name}:", "malformed verb"},
		{"/v1/{name}:a:b", "malformed verb"},
		{"/v1/{id}/{id}", "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := parsePathTemplate(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parsePathTemplate(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

// FuzzParsePathTemplate checks that the parser never panics and that what
// it accepts round-trips: the client URL parts, with each variable written
// back as {name=pattern}, spell the template again.
func FuzzParsePathTemplate(f *testing.F) {
	for _, s := range []string{"/", "/v1/{a.b}/c:d", "/v1/{name=x/*/y/**}", "/v1/{x}:v", "/a/b:c", "/{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePathTemplate(s)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, u := range p.URLParts() {
			if u.Var == nil {
				b.WriteString(u.Text)
				continue
			}
			b.WriteString("{" + u.Var.Name() + "=" + strings.Join(u.Var.Pattern, "/") + "}")
		}
		again, err := parsePathTemplate(b.String())
		if err != nil {
			t.Fatalf("%q parsed, its rewrite %q does not: %v", s, b.String(), err)
		}
		if again.Route() != p.Route() {
			t.Fatalf("%q: route %q, rewrite's route %q", s, p.Route(), again.Route())
		}
	})
}
