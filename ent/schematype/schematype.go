// Package schematype holds the Go value types stored in JSON columns of the
// ent schema. They live outside ent/schema so that the generated ent code and
// the biz layer can import them without importing the schema definitions.
package schematype

import "time"

// DepartmentContact is one contact person of a responsible department
// (责任单位联系人), stored in Department.contacts. Phone is kept as text
// because hotline numbers carry area codes and extensions.
type DepartmentContact struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// TimeLimit is one time limit (时限) of a filing condition: for an area
// class (A/B/C, 一类/二类; "" for every class), an amount in a unit —
// working hours (工作时), working days (工作日) or natural minutes/hours for
// emergencies — possibly split into staged sub-limits (停工 → 处罚 → 拆除).
type TimeLimit struct {
	AreaClass string      `json:"area_class,omitempty"`
	Stage     string      `json:"stage,omitempty"` // e.g. 处置; "" for the disposal limit
	Amount    float64     `json:"amount"`
	Unit      string      `json:"unit"` // work_hour, work_day, natural_minute, natural_hour
	Stages    []TimeLimit `json:"stages,omitempty"`
}

// StageDeadline is the deadline of one stage of a staged disposal limit
// (停工 → 处罚 → 拆除), stored in CaseFile.stage_deadlines in stage order.
type StageDeadline struct {
	Stage string    `json:"stage"`
	Due   time.Time `json:"due"`
}
