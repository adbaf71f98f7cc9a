package authz

// Enforce is Allowed without the decision memo, so benchmarks can measure
// what a first decision costs.
func (a *Authorizer) Enforce(subject, domainPath, operation string) bool {
	ok, err := a.cur.Load().enforcer.Enforce(subject, domainPath, operation, ActionCall)
	return err == nil && ok
}
