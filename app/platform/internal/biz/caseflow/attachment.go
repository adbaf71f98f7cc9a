package caseflow

import (
	"fmt"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/evidence"
)

// AttachmentError turns an error of the evidence store into the API's
// error for it, with the store's explanation in both languages; errors
// that are not the store's verdict on the file (a storage outage) pass
// through unchanged and surface as INTERNAL.
func AttachmentError(err error, key string) error {
	reason, zh, en := evidence.Describe(err)
	md := map[string]string{"key": key, "detail": en, "detail_zh": zh, "detail_en": en}
	switch reason {
	case evidence.ReasonTooLarge:
		return caseflowv1.ErrorAttachmentTooLarge("%s", en).WithMetadata(md)
	case evidence.ReasonTypeNotAllowed:
		return caseflowv1.ErrorAttachmentTypeNotAllowed("%s", en).WithMetadata(md)
	case evidence.ReasonDimensions:
		return caseflowv1.ErrorAttachmentDimensions("%s", en).WithMetadata(md)
	case evidence.ReasonNotFound:
		return caseflowv1.ErrorAttachmentNotFound("attachment %s not found", key).WithMetadata(md)
	case evidence.ReasonCorrupt:
		return caseflowv1.ErrorAttachmentCorrupt("%s", en).WithMetadata(md)
	case evidence.ReasonInvalidArgument:
		md["field"] = "attachment"
		return errorsv1.ErrorInvalidArgument("attachment: %s", en).WithMetadata(md)
	}
	return fmt.Errorf("attachment %s: %w", key, err)
}
