package authz

import (
	"errors"
	"slices"

	"github.com/casbin/casbin/v2/log"
	"github.com/casbin/casbin/v2/rbac"
)

// roleManager is the role manager of g: role bindings indexed by subject,
// each held at a domain pattern that the domain matching function
// (MatchDomain, installed with AddNamedDomainMatchingFunc) compares with
// the request's domain.
//
// casbin's default domain manager answers the same questions but indexes
// by domain, and with a matching function installed it compares every
// added link with every stored domain: loading 1,000 tenants × 12 roles
// took 0.75 s and grows with the square of the tenant count, and a request
// in a tenant without bindings of its own compares against all of them.
// A subject holds a handful of bindings, so checking those is independent
// of the policy's size, and loading is linear. TestRoleManagerMatchesCasbin
// checks that both give the same answers.
//
// It is filled once by BuildRoleLinks and only read afterwards (the
// Authorizer swaps whole enforcers), so it needs no lock.
type roleManager struct {
	links       map[string][]link // subject (or role) → what it holds where
	matchDomain rbac.MatchingFunc // nil: domains compare equal only
	logger      log.Logger
}

// link is one binding: the role held and the domain pattern it is held at.
type link struct{ role, domain string }

// maxRoleDepth bounds role-to-role inheritance as casbin's default does
// (CityOps' roles do not inherit each other today; a cycle must not hang).
const maxRoleDepth = 10

var _ rbac.RoleManager = (*roleManager)(nil)

func newRoleManager() *roleManager {
	return &roleManager{links: map[string][]link{}, logger: &log.DefaultLogger{}}
}

var errOneDomain = errors.New("authz role manager: exactly one domain is required")

func oneDomain(domain []string) (string, error) {
	if len(domain) != 1 {
		return "", errOneDomain
	}
	return domain[0], nil
}

// Clear implements rbac.RoleManager.
func (rm *roleManager) Clear() error {
	rm.links = map[string][]link{}
	return nil
}

// AddLink implements rbac.RoleManager: name1 holds role name2 at domain.
func (rm *roleManager) AddLink(name1, name2 string, domain ...string) error {
	d, err := oneDomain(domain)
	if err != nil {
		return err
	}
	l := link{role: name2, domain: d}
	if !slices.Contains(rm.links[name1], l) {
		rm.links[name1] = append(rm.links[name1], l)
	}
	return nil
}

// BuildRelationship implements the deprecated method of rbac.RoleManager.
func (rm *roleManager) BuildRelationship(name1, name2 string, domain ...string) error {
	return rm.AddLink(name1, name2, domain...)
}

// DeleteLink implements rbac.RoleManager.
func (rm *roleManager) DeleteLink(name1, name2 string, domain ...string) error {
	d, err := oneDomain(domain)
	if err != nil {
		return err
	}
	rm.links[name1] = slices.DeleteFunc(rm.links[name1], func(l link) bool { return l == link{role: name2, domain: d} })
	if len(rm.links[name1]) == 0 {
		delete(rm.links, name1)
	}
	return nil
}

// Match implements rbac.RoleManager: whether domain str falls under the
// binding domain pattern.
func (rm *roleManager) Match(str, pattern string) bool {
	return str == pattern || rm.matchDomain != nil && rm.matchDomain(str, pattern)
}

// held returns the roles name holds directly in domain.
func (rm *roleManager) held(name, domain string) []string {
	var out []string
	for _, l := range rm.links[name] {
		if rm.Match(domain, l.domain) && !slices.Contains(out, l.role) {
			out = append(out, l.role)
		}
	}
	return out
}

// HasLink implements rbac.RoleManager: whether name1 holds name2 in the
// domain, directly or through roles it holds there. Unlike casbin's
// default, a name does not hold itself: a request's subject is an actor,
// never a role, and "role:x holds role:x" would only open a door.
func (rm *roleManager) HasLink(name1, name2 string, domain ...string) (bool, error) {
	d, err := oneDomain(domain)
	if err != nil {
		return false, err
	}
	return rm.hasLink(name1, name2, d, maxRoleDepth), nil
}

func (rm *roleManager) hasLink(name1, name2, domain string, depth int) bool {
	if depth == 0 {
		return false
	}
	for _, l := range rm.links[name1] {
		if !rm.Match(domain, l.domain) {
			continue
		}
		if l.role == name2 || rm.hasLink(l.role, name2, domain, depth-1) {
			return true
		}
	}
	return false
}

// GetRoles implements rbac.RoleManager: the roles name holds directly in
// the domain.
func (rm *roleManager) GetRoles(name string, domain ...string) ([]string, error) {
	d, err := oneDomain(domain)
	if err != nil {
		return nil, err
	}
	return rm.held(name, d), nil
}

// GetImplicitRoles implements rbac.RoleManager: the roles name holds in
// the domain, directly or inherited.
func (rm *roleManager) GetImplicitRoles(name string, domain ...string) ([]string, error) {
	d, err := oneDomain(domain)
	if err != nil {
		return nil, err
	}
	var out []string
	next := []string{name}
	for depth := 0; depth < maxRoleDepth && len(next) > 0; depth++ {
		var level []string
		for _, n := range next {
			for _, r := range rm.held(n, d) {
				if !slices.Contains(out, r) {
					out = append(out, r)
					level = append(level, r)
				}
			}
		}
		next = level
	}
	return out, nil
}

// GetUsers implements rbac.RoleManager: who holds role name directly in
// the domain. It scans every binding; the Authorizer never calls it on a
// request path.
func (rm *roleManager) GetUsers(name string, domain ...string) ([]string, error) {
	d, err := oneDomain(domain)
	if err != nil {
		return nil, err
	}
	var out []string
	for user, ls := range rm.links {
		for _, l := range ls {
			if l.role == name && rm.Match(d, l.domain) {
				out = append(out, user)
				break
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// GetImplicitUsers implements rbac.RoleManager.
func (rm *roleManager) GetImplicitUsers(name string, domain ...string) ([]string, error) {
	d, err := oneDomain(domain)
	if err != nil {
		return nil, err
	}
	var out []string
	for user := range rm.links {
		if rm.hasLink(user, name, d, maxRoleDepth) {
			out = append(out, user)
		}
	}
	slices.Sort(out)
	return out, nil
}

// GetDomains implements rbac.RoleManager: the binding domains of name.
func (rm *roleManager) GetDomains(name string) ([]string, error) {
	var out []string
	for _, l := range rm.links[name] {
		if !slices.Contains(out, l.domain) {
			out = append(out, l.domain)
		}
	}
	return out, nil
}

// GetAllDomains implements rbac.RoleManager.
func (rm *roleManager) GetAllDomains() ([]string, error) {
	var out []string
	for _, ls := range rm.links {
		for _, l := range ls {
			if !slices.Contains(out, l.domain) {
				out = append(out, l.domain)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// DeleteDomain implements rbac.RoleManager: forget every binding held at
// exactly that domain pattern.
func (rm *roleManager) DeleteDomain(domain string) error {
	for name, ls := range rm.links {
		ls = slices.DeleteFunc(ls, func(l link) bool { return l.domain == domain })
		if len(ls) == 0 {
			delete(rm.links, name)
		} else {
			rm.links[name] = ls
		}
	}
	return nil
}

// PrintRoles implements rbac.RoleManager.
func (rm *roleManager) PrintRoles() error {
	if rm.logger.IsEnabled() {
		var lines []string
		for name, ls := range rm.links {
			for _, l := range ls {
				lines = append(lines, name+" < "+l.role+" @ "+l.domain)
			}
		}
		slices.Sort(lines)
		rm.logger.LogRole(lines)
	}
	return nil
}

// SetLogger implements rbac.RoleManager.
func (rm *roleManager) SetLogger(logger log.Logger) { rm.logger = logger }

// AddMatchingFunc implements rbac.RoleManager. Patterns in role names are
// not part of the model (roles are plain names), so it is refused by
// ignoring it; the tests would show a model that relied on it.
func (rm *roleManager) AddMatchingFunc(string, rbac.MatchingFunc) {}

// AddDomainMatchingFunc implements rbac.RoleManager; it is how
// AddNamedDomainMatchingFunc installs MatchDomain.
func (rm *roleManager) AddDomainMatchingFunc(_ string, fn rbac.MatchingFunc) { rm.matchDomain = fn }
