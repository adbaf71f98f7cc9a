package service

import (
	"bytes"
	"context"
	"io"

	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/evidence"
	biz "github.com/cityops/cityops/app/platform/internal/biz/caseflow"
)

// AttachmentService serves cityops.caseflow.v1.AttachmentService: case
// evidence in the evidence store.
type AttachmentService struct {
	caseflowv1.UnimplementedAttachmentServiceServer
	cases *biz.Usecase
	store *evidence.Store // nil: no store configured
}

// NewAttachmentService returns the attachment API; store may be nil, and
// every call then answers that attachments are not configured.
func NewAttachmentService(cases *biz.Usecase, store *evidence.Store) *AttachmentService {
	return &AttachmentService{cases: cases, store: store}
}

var (
	_ caseflowv1.AttachmentServiceServer     = (*AttachmentService)(nil)
	_ caseflowv1.AttachmentServiceHTTPServer = (*AttachmentService)(nil)
)

func (s *AttachmentService) ready() error {
	if s.store == nil {
		return errorsv1.ErrorNotReady("no evidence store configured").WithMetadata(map[string]string{
			"detail_zh": "未配置附件存储", "detail_en": "no attachment store is configured",
		})
	}
	return nil
}

func attachmentToProto(a *evidence.Attachment) *caseflowv1.Attachment {
	out := &caseflowv1.Attachment{
		Key: a.Key, CaseNumber: a.CaseNumber, Kind: string(a.Kind), FileName: a.FileName, ContentType: a.ContentType,
		Size: a.Size, Sha256: a.SHA256, Width: int32(a.Width), Height: int32(a.Height),
		UploadTime: timestamppb.New(a.UploadedAt), LocationMismatch: a.LocationMismatch,
	}
	if a.ExifLon != nil && a.ExifLat != nil {
		out.HasExifLocation, out.ExifLon, out.ExifLat = true, *a.ExifLon, *a.ExifLat
	}
	if !a.TakenAt.IsZero() {
		out.TakenTime = timestamppb.New(a.TakenAt)
	}
	if a.DistanceM != nil {
		out.DistanceM = *a.DistanceM
	}
	return out
}

// UploadAttachment stores one file; with a case number, the photo's EXIF
// position is compared with the case's.
func (s *AttachmentService) UploadAttachment(ctx context.Context, req *caseflowv1.UploadAttachmentRequest) (*caseflowv1.Attachment, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	if err := s.ready(); err != nil {
		return nil, err
	}
	in := evidence.PutInput{
		TenantCode: req.GetTenantCode(), CaseNumber: req.GetCaseNumber(), Kind: evidence.Kind(req.GetKind()),
		FileName: req.GetFileName(), Reader: bytes.NewReader(req.GetContent()),
	}
	if n := req.GetCaseNumber(); n != "" {
		c, err := s.cases.Get(ctx, n)
		if err != nil {
			return nil, err
		}
		in.CaseLon, in.CaseLat = &c.Lon, &c.Lat
	}
	a, err := s.store.Put(ctx, in)
	if err != nil {
		return nil, biz.AttachmentError(err, req.GetFileName())
	}
	return attachmentToProto(a), nil
}

// GetAttachment returns a file of the caller's tenant.
func (s *AttachmentService) GetAttachment(ctx context.Context, req *caseflowv1.GetAttachmentRequest) (*caseflowv1.GetAttachmentResponse, error) {
	if err := inTenant(ctx, req.GetTenantCode()); err != nil {
		return nil, err
	}
	if err := s.ready(); err != nil {
		return nil, err
	}
	r, a, err := s.store.Get(ctx, req.GetTenantCode(), req.GetKey())
	if err != nil {
		return nil, biz.AttachmentError(err, req.GetKey())
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, biz.AttachmentError(err, req.GetKey())
	}
	return &caseflowv1.GetAttachmentResponse{Attachment: attachmentToProto(a), Content: b}, nil
}
