package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/cityops/cityops/api/audit/v1"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	auditbiz "github.com/cityops/cityops/app/platform/internal/biz/audit"
	auditdata "github.com/cityops/cityops/app/platform/internal/data/audit"
	"github.com/cityops/cityops/app/platform/internal/service"
)

// The service only maps, so SQLite is enough here; the use cases are
// tested on both dialects in biz/audit.
func TestAuditServiceMaps(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	uc := auditbiz.NewUsecase(auditdata.NewRepo(db), db)
	svc := service.NewAuditService(uc)
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for i, op := range []string{"CreateUser", "UpdateTenant", "CreateUser"} {
		err := uc.Append(context.Background(), auditbiz.Entry{
			TenantID: 1, TenantCode: "450126", At: at.Add(time.Duration(i) * time.Minute),
			Actor: "user:1", ActorName: "admin", Role: "tenant_admin", Operation: op,
			Target: "users/1", RequestID: "r", SourceAddr: "10.0.0.1", Outcome: "ok", Detail: "d",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.User, ActorID: 1, TenantID: 1, TenantCode: "450126", Roles: []string{viewer.RoleTenantAdmin}})

	res, err := svc.SearchAudit(ctx, &auditv1.SearchAuditRequest{
		TenantCode: "450126", Operation: "CreateUser", StartTime: timestamppb.New(at), EndTime: timestamppb.New(at.Add(time.Hour)), PageSize: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.GetEntries()) != 1 || res.GetNextPageToken() == "" {
		t.Fatalf("first page = %v", res)
	}
	e := res.GetEntries()[0]
	want := &auditv1.AuditEntry{
		Chain: "450126", Seq: 3, Hash: e.GetHash(), PrevHash: e.GetPrevHash(), At: timestamppb.New(at.Add(2 * time.Minute)),
		Actor: "user:1", ActorName: "admin", Role: "tenant_admin", Operation: "CreateUser",
		Target: "users/1", RequestId: "r", SourceAddr: "10.0.0.1", Outcome: "ok", Detail: "d",
	}
	if diff := cmp.Diff(want, e, protocmp.Transform()); diff != "" || len(e.GetHash()) != 64 || len(e.GetPrevHash()) != 64 {
		t.Errorf("entry (-want +got):\n%s", diff)
	}
	res, err = svc.SearchAudit(ctx, &auditv1.SearchAuditRequest{TenantCode: "450126", Operation: "CreateUser", PageSize: 1, PageToken: res.GetNextPageToken()})
	if err != nil || len(res.GetEntries()) != 1 || res.GetEntries()[0].GetSeq() != 1 || res.GetNextPageToken() != "" {
		t.Fatalf("second page = %v, %v", res, err)
	}

	rep, err := svc.VerifyAudit(ctx, &auditv1.VerifyAuditRequest{TenantCode: "450126"})
	if err != nil || !rep.GetOk() || rep.GetEntries() != 3 || rep.GetChain() != "450126" {
		t.Fatalf("verify = %v, %v", rep, err)
	}
	if _, err := db.SQL.ExecContext(t.Context(), `UPDATE audit_entries SET detail = 'x' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	rep, err = svc.VerifyAudit(ctx, &auditv1.VerifyAuditRequest{TenantCode: "450126"})
	if err != nil || rep.GetOk() || len(rep.GetProblems()) != 1 {
		t.Fatalf("verify after tampering = %v, %v", rep, err)
	}
	if p := rep.GetProblems()[0]; p.GetSeq() != 2 || p.GetKind() != auditv1.ProblemKind_PROBLEM_KIND_ALTERED || p.GetWant() == p.GetGot() {
		t.Errorf("problem = %v", p)
	}
}

func TestAuditRequestsAreValidated(t *testing.T) {
	t.Parallel()
	ok := func() *auditv1.SearchAuditRequest { return &auditv1.SearchAuditRequest{TenantCode: "450126"} }
	tests := []struct {
		name  string
		mut   func(*auditv1.SearchAuditRequest)
		valid bool
	}{
		{"minimal", func(*auditv1.SearchAuditRequest) {}, true},
		{"full", func(r *auditv1.SearchAuditRequest) {
			r.StartTime, r.EndTime = timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), timestamppb.Now()
			r.Actor, r.Operation, r.Outcome, r.Target = "user:1", "op", "ok", strings.Repeat("t", 256)
			r.PageSize, r.PageToken = 500, "czox"
		}, true},
		{"bad tenant", func(r *auditv1.SearchAuditRequest) { r.TenantCode = "45'--" }, false},
		{"page too large", func(r *auditv1.SearchAuditRequest) { r.PageSize = 501 }, false},
		{"negative page", func(r *auditv1.SearchAuditRequest) { r.PageSize = -1 }, false},
		{"long target", func(r *auditv1.SearchAuditRequest) { r.Target = strings.Repeat("t", 257) }, false},
		{"long actor", func(r *auditv1.SearchAuditRequest) { r.Actor = strings.Repeat("a", 257) }, false},
		{"long token", func(r *auditv1.SearchAuditRequest) { r.PageToken = strings.Repeat("a", 257) }, false},
		{"ancient start", func(r *auditv1.SearchAuditRequest) { r.StartTime = timestamppb.New(time.Unix(0, 0)) }, false},
		{"far end", func(r *auditv1.SearchAuditRequest) {
			r.EndTime = timestamppb.New(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))
		}, false},
	}
	for _, tt := range tests {
		r := ok()
		tt.mut(r)
		if err := r.Validate(); (err == nil) != tt.valid {
			t.Errorf("%s: Validate() = %v, want valid %v", tt.name, err, tt.valid)
		}
	}
	if err := (&auditv1.VerifyAuditRequest{TenantCode: "platform"}).Validate(); err == nil {
		t.Error("VerifyAudit accepted a chain name that is no tenant code")
	}
}
