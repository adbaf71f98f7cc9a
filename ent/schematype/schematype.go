// Package schematype holds the Go value types stored in JSON columns of the
// ent schema. They live outside ent/schema so that the generated ent code and
// the biz layer can import them without importing the schema definitions.
package schematype

// DepartmentContact is one contact person of a responsible department
// (责任单位联系人), stored in Department.contacts. Phone is kept as text
// because hotline numbers carry area codes and extensions.
type DepartmentContact struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	Phone string `json:"phone,omitempty"`
}
