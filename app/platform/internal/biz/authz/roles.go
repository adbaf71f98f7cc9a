package authz

import (
	"context"
	"fmt"
	"slices"
	"strings"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
)

// SetRoles replaces every role binding of subject ("user:<id>" or
// "apikey:<id>") by roles, held from the tenant at homePath: ordinary roles
// in that tenant, overseer on its descendants (homePath+"/*"),
// platform_operator everywhere ("*"). An empty roles removes them all.
//
// It refuses, with ROLE_INVALID naming the role, a role that does not
// exist, platform_operator unless homePath is the national tenant (so no
// tenant administrator can mint a platform operator), and the machine roles
// connector and channel for anything but an API key. The change and its
// revision bump are one transaction (the caller's, when ctx carries one);
// this replica reloads as soon as it commits, the others at their next poll.
//
// Whether the caller may grant roles at all is the policy's business
// (SetUserRoles); SetRoles checks what may be granted, not who grants.
func (a *Authorizer) SetRoles(ctx context.Context, subject, homePath string, roles []string) error {
	if !validSubject(subject) {
		return invalidArgument("subject", fmt.Sprintf("%q is not user:<id> or apikey:<id>", subject))
	}
	if err := checkHomePath(homePath); err != nil {
		return err
	}
	var bindings [][]string
	seen := map[string]bool{}
	for _, r := range roles {
		if seen[r] {
			continue
		}
		seen[r] = true
		dom, err := bindingDomain(subject, homePath, r)
		if err != nil {
			return err
		}
		bindings = append(bindings, []string{subject, rolePrefix + r, dom})
	}
	changed, err := a.repo.Replace(ctx, PTypeBinding, subject, bindings)
	if err != nil {
		return fmt.Errorf("authz set roles of %s: %w", subject, err)
	}
	if changed {
		a.repo.OnCommit(ctx, a.reloadAfterChange)
	}
	return nil
}

// bindingDomain returns the domain pattern at which subject holds role when
// its home is homePath, or ROLE_INVALID when the role may not be granted.
func bindingDomain(subject, homePath, role string) (string, error) {
	switch role {
	case viewer.RolePlatformOperator:
		if homePath != NationalPath {
			return "", roleInvalid(role, "platform_operator is granted only in the national tenant "+NationalPath)
		}
		return AnyDomain, nil
	case viewer.RoleOverseer:
		return homePath + descendantsSuffix, nil
	case viewer.RoleConnector, viewer.RoleChannel:
		if !strings.HasPrefix(subject, apiKeyPrefix) {
			return "", roleInvalid(role, role+" is a machine role, granted to API keys only")
		}
		return homePath, nil
	}
	if !slices.Contains(viewer.AllRoles, role) {
		return "", roleInvalid(role, "no such role")
	}
	return homePath, nil
}

// Roles returns the names of the roles granted to subject, in the order of
// viewer.AllRoles, read from the database (the source of truth, not this
// replica's copy).
func (a *Authorizer) Roles(ctx context.Context, subject string) ([]string, error) {
	rules, err := a.repo.Rules(ctx, PTypeBinding, subject)
	if err != nil {
		return nil, fmt.Errorf("authz roles of %s: %w", subject, err)
	}
	held := make([]string, 0, len(rules))
	for _, r := range rules {
		if len(r) > 1 {
			held = append(held, r[1])
		}
	}
	return roleNames(held), nil
}

// RemoveSubject removes every role binding of subject, for a user or API
// key that is deleted or revoked. Like SetRoles it bumps the revision and
// reloads after commit.
func (a *Authorizer) RemoveSubject(ctx context.Context, subject string) error {
	if subject == "" {
		// Replace with v0 "" would mean every binding of every subject.
		return invalidArgument("subject", "empty")
	}
	changed, err := a.repo.Replace(ctx, PTypeBinding, subject, nil)
	if err != nil {
		return fmt.Errorf("authz remove %s: %w", subject, err)
	}
	if changed {
		a.repo.OnCommit(ctx, a.reloadAfterChange)
	}
	return nil
}

// Seed makes the policy lines ("p") in the database equal to the embedded
// policy.csv: lines missing are added, lines no longer in the file are
// removed. Role bindings are not touched. It is idempotent and runs in one
// transaction, bumping the revision only when something changed, so every
// replica of a new release may call it at start.
func (a *Authorizer) Seed(ctx context.Context) error {
	changed, err := a.repo.Replace(ctx, PTypePolicy, "", a.policy.rules)
	if err != nil {
		return fmt.Errorf("authz seed: %w", err)
	}
	if changed {
		a.repo.OnCommit(ctx, a.reloadAfterChange)
	}
	return nil
}

// checkHomePath accepts a materialized tenant path: "/"-separated codes of
// 6–12 characters of 0-9 and A-Z (GB/T 2260 codes, management areas),
// starting at the national tenant. Anything else could smuggle a pattern
// ("*") or a CSV separator into a binding.
func checkHomePath(p string) error {
	segs := strings.Split(p, "/")
	if segs[0] != NationalPath {
		return invalidArgument("home_path", fmt.Sprintf("%q does not start at the national tenant %s", p, NationalPath))
	}
	for _, s := range segs {
		if len(s) < 6 || len(s) > 12 || strings.IndexFunc(s, func(r rune) bool {
			return (r < '0' || r > '9') && (r < 'A' || r > 'Z')
		}) >= 0 {
			return invalidArgument("home_path", fmt.Sprintf("%q is not a tenant path of region codes", p))
		}
	}
	return nil
}

func roleInvalid(role, detail string) error {
	return errorsv1.ErrorRoleInvalid("role %s: %s", role, detail).WithMetadata(map[string]string{"role": role})
}

func invalidArgument(field, detail string) error {
	return errorsv1.ErrorInvalidArgument("%s: %s", field, detail).WithMetadata(map[string]string{"field": field, "detail": detail})
}
