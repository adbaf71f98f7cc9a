package caseflow

import "github.com/go-kratos/kratos/v2/errors"

// fromKratos returns the metadata of a kratos error.
func fromKratos(err error) map[string]string { return errors.FromError(err).Metadata }
