package authz

import (
	"errors"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// ModelText is the casbin model: RBAC with domains, where a domain is a
// tenant path ("000000/450000/450100/450126") and the object is the kratos
// operation.
//
// A request (sub, dom, obj, act) is allowed when some policy line names the
// operation and the action, applies in that domain ("*": wherever the role
// is held), and the subject holds the line's role in the request's domain.
// "Holds in the domain" is g with MatchDomain as its domain matching
// function: a binding's domain is a pattern (exact path, "path/*" for the
// descendants of path, "*" for everywhere), so oversight of descendants is a
// property of the binding, not code in handlers.
//
// The comparisons of strings come first so that, evaluated line by line,
// the role look-up g() runs only for the few lines naming the operation
// (the evaluator stops an && at the first false operand).
const ModelText = `[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.obj == p.obj && r.act == p.act && (p.dom == "*" || p.dom == r.dom) && g(r.sub, p.sub, r.dom)
`

// Binding domain patterns.
const (
	// AnyDomain is the binding domain that matches every tenant, and the
	// platform as a whole (the empty domain).
	AnyDomain = "*"
	// descendantsSuffix turns a tenant path into the pattern of its
	// descendants: "000000/450000/450100/*".
	descendantsSuffix = "/*"
)

// NationalPath is the path of the national tenant, the only home from
// which platform_operator may be granted.
const NationalPath = "000000"

// MatchDomain reports whether the domain of a request (a tenant path, or ""
// for an operation on the platform as a whole) falls under the domain
// pattern of a role binding. It is casbin's domain matching function for g,
// called as fn(requestDomain, bindingDomain):
//
//   - "*" matches every domain, "" included;
//   - "p/*" matches the strict descendants of p: paths that start with "p/"
//     and go on, never p itself, never a sibling ("…/4501/*" does not match
//     "…/45010");
//   - anything else matches only itself.
func MatchDomain(domain, pattern string) bool {
	switch {
	case pattern == AnyDomain:
		return true
	case strings.HasSuffix(pattern, descendantsSuffix):
		prefix := pattern[:len(pattern)-1] // keep the "/" so siblings sharing a prefix do not match
		return len(domain) > len(prefix) && strings.HasPrefix(domain, prefix)
	default:
		return domain == pattern
	}
}

// newEnforcer returns an enforcer of ModelText with the role manager of
// rolemanager.go on g, MatchDomain installed as its domain matching
// function, and no policy loaded. It has no adapter on purpose: it is
// built, filled once, and then only read; writes go through the Repo.
func newEnforcer() (*casbin.Enforcer, error) {
	m, err := model.NewModelFromString(ModelText)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, err
	}
	e.SetRoleManager(newRoleManager())
	if !e.AddNamedDomainMatchingFunc("g", "tenantPath", MatchDomain) {
		return nil, errors.New("authz model: no role definition g")
	}
	return e, nil
}
