package taxonomy

import (
	"fmt"
	"strings"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	registryv1 "github.com/cityops/cityops/api/registry/v1"
)

// kindNames names a kind in both languages for messages.
func kindNames(k Kind) (zh, en string) {
	switch k {
	case Component:
		return "部件", "component"
	case Event:
		return "事件", "event"
	}
	return string(k), string(k)
}

// ClassNotFound is the error of a lookup of a class the tenant does not
// have (or may not see: another tenant's classes look exactly the same).
func ClassNotFound(kind Kind, code string) error {
	zh, en := kindNames(kind)
	return registryv1.ErrorClassNotFound("%s class %s not found", kind, code).WithMetadata(map[string]string{
		"kind": string(kind), "kind_zh": zh, "kind_en": en, "code": code,
	})
}

// codeInvalid is CODE_INVALID about one code with a bilingual detail.
func codeInvalid(field, code, zh, en string) error {
	return registryv1.ErrorCodeInvalid("code %s (%s): %s", code, field, en).WithMetadata(map[string]string{
		"field": field, "code": code, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

// invalid is INVALID_ARGUMENT about one field with a bilingual detail.
func invalid(field, zh, en string) error {
	return errorsv1.ErrorInvalidArgument("%s: %s", field, en).WithMetadata(map[string]string{
		"field": field, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

// invalidLimits reports every violated time-limit rule as one
// INVALID_ARGUMENT naming the first field.
func invalidLimits(vs []Violation) error {
	zh := make([]string, 0, len(vs))
	en := make([]string, 0, len(vs))
	for _, v := range vs {
		zh = append(zh, v.Field+"："+v.ZH)
		en = append(en, v.Field+": "+v.EN)
	}
	return invalid(vs[0].Field, strings.Join(zh, "；"), strings.Join(en, "; "))
}

// maxDetailProblems is how many problems an IMPORT_REJECTED message
// spells out; the error's cause (Problems) holds them all.
const maxDetailProblems = 20

// ImportRejected is IMPORT_REJECTED listing the problems of a file; the
// problems themselves are its cause (errors.As(err, &Problems{})).
func ImportRejected(ps Problems) error {
	zh := fmt.Sprintf("发现 %d 个问题，未写入任何数据：\n%s", len(ps), ps.Summary("zh-CN", maxDetailProblems))
	en := fmt.Sprintf("%d problem(s) found; nothing was written:\n%s", len(ps), ps.Summary("en", maxDetailProblems))
	return registryv1.ErrorImportRejected("taxonomy import: %s", ps.Error()).WithMetadata(map[string]string{
		"detail": en, "detail_zh": zh, "detail_en": en, "problems": fmt.Sprint(len(ps)),
	}).WithCause(ps)
}
