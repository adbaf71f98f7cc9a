package authz

import (
	"strings"
	"testing"
)

func TestMatchDomain(t *testing.T) {
	t.Parallel()
	const (
		nanning  = "000000/450000/450100"
		binyang  = nanning + "/450126"
		hengzhou = nanning + "/450181"
	)
	tests := []struct {
		domain, pattern string
		want            bool
	}{
		// Ordinary bindings: exactly their tenant.
		{binyang, binyang, true},
		{hengzhou, binyang, false},
		{nanning, binyang, false},
		{binyang, nanning, false}, // a city's ordinary role does not reach its counties
		// Overseer bindings: strict descendants.
		{binyang, nanning + "/*", true},
		{hengzhou, nanning + "/*", true},
		{nanning + "/450126/X0001", nanning + "/*", true}, // grandchildren too
		{nanning, nanning + "/*", false},                  // not the tenant itself
		{nanning + "/", nanning + "/*", false},            // nothing after the slash is no tenant
		{"000000/450000/450200", nanning + "/*", false},   // sibling city
		{"000000/450000/450200/450202", nanning + "/*", false},
		{"000000/450000/4501001", "000000/450000/450100/*", false}, // shares a prefix, is no descendant
		{"000000/450000", nanning + "/*", false},                   // ancestor
		{binyang, "000000/*", true},
		{"000000", "000000/*", false},
		// Platform bindings: everywhere, the platform as a whole included.
		{binyang, "*", true},
		{"000000", "*", true},
		{"", "*", true},
		// The platform as a whole is no tenant.
		{"", binyang, false},
		{"", nanning + "/*", false},
	}
	for _, tt := range tests {
		if got := MatchDomain(tt.domain, tt.pattern); got != tt.want {
			t.Errorf("MatchDomain(%q, %q) = %v, want %v", tt.domain, tt.pattern, got, tt.want)
		}
	}
}

func TestParsePolicyEmbedded(t *testing.T) {
	t.Parallel()
	p, err := parsePolicy(policyCSV, publicTxt)
	if err != nil {
		t.Fatalf("embedded policy: %v", err)
	}
	if len(p.rules) == 0 || len(p.public) == 0 {
		t.Fatalf("embedded policy has %d rules and %d public operations", len(p.rules), len(p.public))
	}
}

func TestParsePolicyErrors(t *testing.T) {
	t.Parallel()
	const op = "/cityops.tenant.v1.TenantService/GetTenant"
	tests := []struct {
		name, csv, public, want string
	}{
		{"unknown role", "p, role:mayor, *, " + op + ", call", "", "unknown role"},
		{"not a role", "p, user:1, *, " + op + ", call", "", "unknown role"},
		{"g line", "g, user:1, role:leader, 000000", "", "want"},
		{"short", "p, role:leader, *, " + op, "", "want"},
		{"bad operation", "p, role:leader, *, GetTenant, call", "", "operation"},
		{"bad action", "p, role:leader, *, " + op + ", read", "", "action"},
		{"duplicate", "p, role:leader, *, " + op + ", call\np,role:leader,*," + op + ",call", "", "duplicates line 1"},
		{"public and policed", "p, role:leader, *, " + op + ", call", op, "both public"},
		{"bad public", "", "Login", "public.txt:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parsePolicy(tt.csv, tt.public)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parsePolicy = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidSubject(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"user:12": true, "apikey:3": true,
		"user:": false, "user:0": false, "user:012": false, "user:-1": false, "user:1a": false,
		"role:leader": false, "system": false, "": false, "USER:1": false,
	} {
		if got := validSubject(s); got != want {
			t.Errorf("validSubject(%q) = %v, want %v", s, got, want)
		}
	}
}
