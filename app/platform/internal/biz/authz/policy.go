package authz

import (
	"bufio"
	_ "embed" // the policy of record is compiled into the binary
	"fmt"
	"slices"
	"strings"

	"github.com/cityops/cityops/app/pkg/viewer"
)

// policyCSV is the policy of record: one "p" line per role and operation.
// Seed makes the database equal to it.
//
//go:embed policy.csv
var policyCSV string

// publicTxt lists the operations callable without credentials.
//
//go:embed public.txt
var publicTxt string

// Rule values of the "p" lines.
const (
	// ActionCall is the only action: calling an operation.
	ActionCall = "call"
	// rolePrefix and the subject prefixes keep the namespaces of casbin's
	// single string space apart, so a role can never be mistaken for a
	// subject ("role:leader" vs "user:12").
	rolePrefix   = "role:"
	userPrefix   = "user:"
	apiKeyPrefix = "apikey:"
)

// policy is the parsed policy of record.
type policy struct {
	rules      [][]string          // "p" rules as stored: role, domain, operation, action
	public     map[string]struct{} // public operations
	operations []string            // every operation named, sorted
}

// parsePolicy parses the embedded policy of record. A malformed file is a
// programming error caught by the tests, but New still refuses it rather
// than enforcing half a policy.
func parsePolicy(csv, public string) (*policy, error) {
	p := &policy{public: map[string]struct{}{}}
	ops := map[string]struct{}{}
	seen := map[string]int{}
	err := eachLine(csv, func(n int, line string) error {
		f := strings.Split(line, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if len(f) != 5 || f[0] != "p" {
			return fmt.Errorf("policy.csv:%d: want \"p, role:<name>, <domain>, <operation>, call\"", n)
		}
		role, dom, op, act := f[1], f[2], f[3], f[4]
		if name, ok := strings.CutPrefix(role, rolePrefix); !ok || !slices.Contains(viewer.AllRoles, name) {
			return fmt.Errorf("policy.csv:%d: unknown role %q", n, role)
		}
		if dom == "" {
			return fmt.Errorf("policy.csv:%d: empty domain", n)
		}
		if !validOperation(op) {
			return fmt.Errorf("policy.csv:%d: operation %q is not /<package>.<Service>/<Method>", n, op)
		}
		if act != ActionCall {
			return fmt.Errorf("policy.csv:%d: action %q is not %q", n, act, ActionCall)
		}
		key := strings.Join(f[1:], ",")
		if prev, dup := seen[key]; dup {
			return fmt.Errorf("policy.csv:%d: duplicates line %d", n, prev)
		}
		seen[key] = n
		p.rules = append(p.rules, []string{role, dom, op, act})
		ops[op] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachLine(public, func(n int, op string) error {
		if !validOperation(op) {
			return fmt.Errorf("public.txt:%d: operation %q is not /<package>.<Service>/<Method>", n, op)
		}
		p.public[op] = struct{}{}
		ops[op] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for op := range p.public {
		// A public operation with policy lines would be a contradiction: the
		// lines would never be consulted, and a reader might trust them.
		if slices.ContainsFunc(p.rules, func(r []string) bool { return r[2] == op }) {
			return nil, fmt.Errorf("operation %s is both public and in policy.csv", op)
		}
	}
	for op := range ops {
		p.operations = append(p.operations, op)
	}
	slices.Sort(p.operations)
	return p, nil
}

// eachLine calls fn with every line of s that is neither blank nor a
// "#" comment, numbered from 1.
func eachLine(s string, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(strings.NewReader(s))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	return sc.Err()
}

// validOperation reports whether op has the shape of a kratos operation:
// "/" package-qualified service "/" method.
func validOperation(op string) bool {
	rest, ok := strings.CutPrefix(op, "/")
	if !ok {
		return false
	}
	svc, method, ok := strings.Cut(rest, "/")
	return ok && strings.Contains(svc, ".") && method != "" &&
		!strings.ContainsAny(rest, " ,*\t") && !strings.Contains(method, "/")
}
