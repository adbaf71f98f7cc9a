package secrets

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RefScheme starts every secret reference.
const RefScheme = "secret://"

// DefaultField is the field a reference without "#field" reads.
const DefaultField = "value"

// Ref is a parsed secret reference secret://<path>#<field>.
type Ref struct {
	Path  string // e.g. "kv/cityops/tenants/450126/db"
	Field string // e.g. "dsn"; DefaultField when the reference names none
}

// String formats r as a reference that ParseRef reads back.
func (r Ref) String() string {
	return RefScheme + r.Path + "#" + r.Field
}

// IsRef reports whether value is meant as a secret reference (it starts
// with RefScheme), whether or not it is well-formed.
func IsRef(value string) bool {
	return strings.HasPrefix(value, RefScheme)
}

// ParseRef parses a reference of the form secret://<path>[#<field>]. The
// path follows the Store rules; the field defaults to DefaultField and must
// be non-empty printable text without "#" when given.
func ParseRef(value string) (Ref, error) {
	if !IsRef(value) {
		return Ref{}, fmt.Errorf("parse secret reference: %q does not start with %s", redact(value), RefScheme)
	}
	rest := strings.TrimPrefix(value, RefScheme)
	path, field, hasField := strings.Cut(rest, "#")
	if hasField {
		if field == "" {
			return Ref{}, fmt.Errorf("parse secret reference %q: empty field after '#' (omit it to read %q)", value, DefaultField)
		}
		if strings.Contains(field, "#") {
			return Ref{}, fmt.Errorf("parse secret reference %q: more than one '#'", value)
		}
		if err := checkField(field); err != nil {
			return Ref{}, fmt.Errorf("parse secret reference %q: %w", value, err)
		}
	} else {
		field = DefaultField
	}
	if _, _, err := splitPath(path); err != nil {
		return Ref{}, fmt.Errorf("parse secret reference %q: %w", value, err)
	}
	return Ref{Path: path, Field: field}, nil
}

// checkField accepts printable UTF-8 without spaces: field names come from
// people typing configuration, and an invisible character would make a
// reference that looks right and never matches.
func checkField(field string) error {
	if !utf8.ValidString(field) {
		return errors.New("field is not valid UTF-8")
	}
	if len(field) > maxNameLen {
		return fmt.Errorf("field longer than %d bytes", maxNameLen)
	}
	for _, r := range field {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Errorf("field %q: character %q not allowed", field, r)
		}
	}
	return nil
}

// Resolve returns value unchanged unless it is a secret reference
// (secret://<path>#<field>); then it returns that field of the secret read
// from s. Errors name the reference, never a secret value.
func Resolve(ctx context.Context, s Store, value string) (string, error) {
	if !IsRef(value) {
		return value, nil
	}
	ref, err := ParseRef(value)
	if err != nil {
		return "", fmt.Errorf("resolve: %w", err)
	}
	data, err := s.Get(ctx, ref.Path)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", ref, err)
	}
	v, ok := data[ref.Field]
	if !ok {
		fields := make([]string, 0, len(data))
		for k := range data {
			fields = append(fields, k)
		}
		sort.Strings(fields)
		return "", fmt.Errorf("resolve %s: secret has no field %q (fields: %s): %w",
			ref, ref.Field, strings.Join(fields, ", "), ErrNotFound)
	}
	return v, nil
}

// redact shortens a value that is not a reference before it goes into an
// error: it may be a secret pasted where a reference was expected.
func redact(value string) string {
	const keep = 12
	if len(value) <= keep {
		return value
	}
	return value[:keep] + "…"
}
