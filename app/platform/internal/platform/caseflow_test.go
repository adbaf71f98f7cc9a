package platform_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"strings"
	"sync"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	dispatchv1 "github.com/cityops/cityops/api/dispatch/v1"
	identityv1 "github.com/cityops/cityops/api/identity/v1"
	registryv1 "github.com/cityops/cityops/api/registry/v1"
	supervisionv1 "github.com/cityops/cityops/api/supervision/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
)

// handlerAccount creates a handler (处置人员) of a department and returns
// its access token.
func handlerAccount(t *testing.T, r *running, admin context.Context, code, login, dept string) string {
	t.Helper()
	created, err := r.ident.CreateUser(admin, &identityv1.CreateUserRequest{
		TenantCode: code, Login: login, DisplayName: "处置 " + login, DepartmentCode: dept, Roles: []string{"handler"},
	})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Tea-Garden-2026"
	if _, err := r.ident.ChangePassword(context.Background(), &identityv1.ChangePasswordRequest{
		TenantCode: code, Login: login, OldPassword: created.GetInitialPassword(), NewPassword: pw,
	}); err != nil {
		t.Fatal(err)
	}
	tok, err := r.ident.Login(context.Background(), &identityv1.LoginRequest{TenantCode: code, Login: login, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	return tok.GetAccessToken()
}

// photo is a plain JPEG big enough to count as evidence.
func photo(t testing.TB, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for i := range img.Pix {
		img.Pix[i] = shade + uint8(i%7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func reason(err error) string {
	if err == nil {
		return ""
	}
	return kerrors.FromError(err).Reason
}

// TestCaseLoopThroughTheAPI walks a case of 宾阳县 through the whole loop
// over gRPC with the posts of the demo accounts: located in its grid,
// duplicate found and merged, filed, dispatched, refused to the wrong post
// and from the wrong state, handled, checked (failed once: 返工), closed;
// then the timeline, the queues, search with pagination, counts, export,
// two concurrent dispatches, a department desk's narrowed view and another
// tenant's ignorance of it all. On SQLite and on PostgreSQL under RLS.
func TestCaseLoopThroughTheAPI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		r := startPlatform(t, db, seedDir, false)
		const code = "450126"
		cases := caseflowv1.NewCaseServiceClient(r.conn)
		sup := as(r.login(t, code, "supervisor"))
		intake := as(r.login(t, code, "intake"))
		leader := as(r.login(t, code, "shift-leader"))
		disp := as(r.login(t, code, "dispatcher"))
		admin := as(r.login(t, code, "tenant-admin"))
		cgj := as(handlerAccount(t, r, admin, code, "h.cgj", "BY-CGJ"))
		zjj := as(handlerAccount(t, r, admin, code, "h.zjj", "BY-ZJJ"))
		foreign := as(r.login(t, "450181", "supervisor"))

		grids, err := registryv1.NewGridServiceClient(r.conn).ListUnitGrids(sup, &registryv1.ListUnitGridsRequest{TenantCode: code, PageSize: 1})
		if err != nil || len(grids.GetUnitGrids()) == 0 {
			t.Fatalf("no grid to report in: %v", err)
		}
		g := grids.GetUnitGrids()[0]
		b := g.GetBbox()
		here := &caseflowv1.Point{Lon: (b.GetMinLon() + b.GetMaxLon()) / 2, Lat: (b.GetMinLat() + b.GetMaxLat()) / 2}
		classes, err := registryv1.NewTaxonomyServiceClient(r.conn).ListClasses(sup, &registryv1.ListClassesRequest{TenantCode: code, Kind: "event", Level: "minor"})
		if err != nil || len(classes.GetClasses()) == 0 {
			t.Fatalf("no event class: %v", err)
		}
		class := classes.GetClasses()[0].GetCode()

		files := caseflowv1.NewAttachmentServiceClient(r.conn)
		upload := func(ctx context.Context, number, kind string, content []byte) (*caseflowv1.Attachment, error) {
			return files.UploadAttachment(ctx, &caseflowv1.UploadAttachmentRequest{TenantCode: code, CaseNumber: number, Kind: kind, FileName: kind + ".jpg", Content: content})
		}
		before, err := upload(sup, "", "before", photo(t, 10))
		if err != nil || before.GetContentType() != "image/jpeg" || before.GetWidth() != 320 {
			t.Fatalf("upload: %v %v", before, err)
		}
		if _, err := upload(sup, "", "before", []byte("<html>not a photo</html>")); reason(err) != "ATTACHMENT_TYPE_NOT_ALLOWED" {
			t.Fatalf("html upload: %v", err)
		}
		if got, err := files.GetAttachment(intake, &caseflowv1.GetAttachmentRequest{TenantCode: code, Key: before.GetKey()}); err != nil || len(got.GetContent()) == 0 {
			t.Fatalf("download: %v", err)
		}
		if _, err := files.GetAttachment(foreign, &caseflowv1.GetAttachmentRequest{TenantCode: "450181", Key: before.GetKey()}); reason(err) != "ATTACHMENT_NOT_FOUND" {
			t.Fatalf("another tenant downloads: %v", err)
		}
		// A hotline seat's notes propose the class.
		name := classes.GetClasses()[0].GetNameZh()
		sug, err := cases.SuggestClass(intake, &caseflowv1.SuggestClassRequest{TenantCode: code, Text: "市民来电：小区门口" + name + "，请尽快处理",
			Kind: caseflowv1.CaseKind_CASE_KIND_EVENT})
		if err != nil || len(sug.GetSuggestions()) == 0 || sug.GetSuggestions()[0].GetClassCode() != class || sug.GetSuggestions()[0].GetScore() != 1 {
			t.Fatalf("suggestions for %s: %v %v", name, sug, err)
		}
		if _, err := cases.SuggestClass(intake, &caseflowv1.SuggestClassRequest{TenantCode: code}); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("suggestion without text: %v", err)
		}
		submit := func(ctx context.Context, p *caseflowv1.Point) (*caseflowv1.SubmitCaseResponse, error) {
			return cases.SubmitCase(ctx, &caseflowv1.SubmitCaseRequest{
				TenantCode: code, Source: caseflowv1.CaseSource_CASE_SOURCE_SUPERVISOR, Kind: caseflowv1.CaseKind_CASE_KIND_EVENT,
				ClassCode: class, Description: "人行道暴露垃圾", Point: p, ReporterName: "张三", ReporterPhone: "13800138000",
				Attachments: []string{before.GetKey()},
			})
		}
		// A key that names no stored file is refused.
		if _, err := cases.SubmitCase(sup, &caseflowv1.SubmitCaseRequest{TenantCode: code, Source: caseflowv1.CaseSource_CASE_SOURCE_SUPERVISOR,
			Kind: caseflowv1.CaseKind_CASE_KIND_EVENT, Description: "x", Point: here, Attachments: []string{"made-up.jpg"}}); reason(err) != "ATTACHMENT_NOT_FOUND" {
			t.Fatalf("made-up attachment: %v", err)
		}
		// A point in Beijing is outside the county.
		if _, err := submit(sup, &caseflowv1.Point{Lon: 116.4, Lat: 39.9}); reason(err) != "OUTSIDE_JURISDICTION" {
			t.Fatalf("point outside: %v", err)
		}
		// Invalid input is refused by validation, nothing is written.
		if _, err := cases.SubmitCase(sup, &caseflowv1.SubmitCaseRequest{TenantCode: code, Kind: caseflowv1.CaseKind_CASE_KIND_EVENT, Point: here}); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("no source: %v", err)
		}
		first, err := submit(sup, here)
		if err != nil {
			t.Fatal(err)
		}
		a := first.GetCase()
		if a.GetState() != caseflowv1.CaseState_CASE_STATE_REPORTED || a.GetLocation().GetGridCode() != g.GetCode() ||
			a.GetLocation().GetStreetCode() != g.GetStreetCode() || a.GetClass().GetNationalClassCode() == "" {
			t.Fatalf("submitted case %+v", a)
		}
		// The supervisor does not call reporters back: the phone is masked.
		if a.GetReporterPhone() != "138****8000" {
			t.Errorf("reporter phone as seen by the supervisor: %q", a.GetReporterPhone())
		}
		second, err := submit(sup, &caseflowv1.Point{Lon: here.Lon + 0.0001, Lat: here.Lat})
		if err != nil {
			t.Fatal(err)
		}
		if d := second.GetDuplicates(); len(d) != 1 || d[0].GetNumber() != a.GetNumber() || d[0].GetDistanceM() > 20 {
			t.Fatalf("duplicates of the second report: %+v", d)
		}
		dups, err := cases.FindDuplicates(intake, &caseflowv1.FindDuplicatesRequest{TenantCode: code, ClassCode: class, Lon: here.Lon, Lat: here.Lat})
		if err != nil || len(dups.GetDuplicates()) != 2 {
			t.Fatalf("find duplicates: %v %v", dups, err)
		}

		step := func(ctx context.Context, number string, op caseflowv1.CaseOperation, edit func(*caseflowv1.TransitionCaseRequest)) (*caseflowv1.CaseView, error) {
			req := &caseflowv1.TransitionCaseRequest{TenantCode: code, Number: number, Operation: op}
			if edit != nil {
				edit(req)
			}
			return cases.TransitionCase(ctx, req)
		}
		must := func(ctx context.Context, number string, op caseflowv1.CaseOperation, want caseflowv1.CaseState, edit func(*caseflowv1.TransitionCaseRequest)) *caseflowv1.CaseView {
			t.Helper()
			v, err := step(ctx, number, op, edit)
			if err != nil {
				t.Fatalf("%s: %v", op, err)
			}
			if v.GetCase().GetState() != want {
				t.Fatalf("%s: state %s, want %s", op, v.GetCase().GetState(), want)
			}
			return v
		}
		must(intake, second.GetCase().GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_MERGE, caseflowv1.CaseState_CASE_STATE_MERGED,
			func(r *caseflowv1.TransitionCaseRequest) { r.MergeInto = a.GetNumber() })

		// Wrong post, wrong state, marks and submit are refused.
		if _, err := step(disp, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_FILE, nil); reason(err) != "POST_NOT_ALLOWED" {
			t.Fatalf("dispatcher files: %v", err)
		}
		_, err = step(metadata.AppendToOutgoingContext(leader, "accept-language", "en"), a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_CLOSE, nil)
		if reason(err) != "INVALID_TRANSITION" || !strings.Contains(kerrors.FromError(err).Message, "the case is reported") {
			t.Fatalf("close a reported case: %v", err)
		}
		if _, err := step(leader, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_SUPERVISE, nil); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("a mark through TransitionCase: %v", err)
		}

		v := must(leader, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_FILE, caseflowv1.CaseState_CASE_STATE_FILED, nil)
		if v.GetCase().GetDeadlines().GetDispatch() == nil {
			t.Fatal("filed without a dispatch deadline")
		}
		if _, err := step(disp, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_DISPATCH, func(r *caseflowv1.TransitionCaseRequest) { r.DepartmentCode = "NO-SUCH" }); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("dispatch to a ghost department: %v", err)
		}
		v = must(disp, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_DISPATCH, caseflowv1.CaseState_CASE_STATE_DISPATCHED,
			func(r *caseflowv1.TransitionCaseRequest) { r.DepartmentCode = "BY-CGJ" })
		if v.GetCase().GetDeadlines().GetDispose() == nil || v.GetCase().GetPrimaryDepartmentCode() != "BY-CGJ" {
			t.Fatalf("dispatched %+v", v.GetCase())
		}

		// Another department's desk does not see the case at all.
		if _, err := cases.GetCase(zjj, &caseflowv1.GetCaseRequest{TenantCode: code, Number: a.GetNumber()}); reason(err) != "CASE_NOT_FOUND" {
			t.Fatalf("other department reads: %v", err)
		}
		if _, err := step(zjj, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_ACCEPT, nil); reason(err) != "POST_NOT_ALLOWED" {
			t.Fatalf("other department accepts: %v", err)
		}
		desk, err := cases.ListWorkQueue(cgj, &caseflowv1.ListWorkQueueRequest{TenantCode: code, Queue: caseflowv1.WorkQueue_WORK_QUEUE_DEPARTMENT})
		if err != nil || len(desk.GetCases()) != 1 || desk.GetCases()[0].GetNumber() != a.GetNumber() {
			t.Fatalf("department queue: %v %v", desk, err)
		}
		if other, err := cases.SearchCases(zjj, &caseflowv1.SearchCasesRequest{TenantCode: code}); err != nil || len(other.GetCases()) != 0 {
			t.Fatalf("other department searches: %v %v", other, err)
		}

		must(cgj, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_ACCEPT, caseflowv1.CaseState_CASE_STATE_IN_DISPOSAL, nil)
		if _, err := step(cgj, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_FEEDBACK, nil); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("feedback without photos: %v", err)
		}
		// The report's own photo is no proof of disposal.
		if _, err := step(cgj, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_FEEDBACK, func(r *caseflowv1.TransitionCaseRequest) {
			r.Attachments, r.Opinion = []string{before.GetKey()}, "已清理"
		}); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("feedback with the before-photo: %v", err)
		}
		afterPhoto, err := upload(cgj, a.GetNumber(), "after", photo(t, 90))
		if err != nil || afterPhoto.GetCaseNumber() != a.GetNumber() {
			t.Fatalf("after photo: %v %v", afterPhoto, err)
		}
		after := func(r *caseflowv1.TransitionCaseRequest) {
			r.Attachments, r.Opinion = []string{afterPhoto.GetKey()}, "已清理"
		}
		must(cgj, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_FEEDBACK, caseflowv1.CaseState_CASE_STATE_FEEDBACK, after)
		must(intake, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_ASSIGN_CHECK, caseflowv1.CaseState_CASE_STATE_CHECK_PENDING, nil)
		v = must(sup, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_CHECK_FAIL, caseflowv1.CaseState_CASE_STATE_IN_DISPOSAL,
			func(r *caseflowv1.TransitionCaseRequest) { r.Opinion = "仍有垃圾" })
		if v.GetCase().GetCounters().GetRework() != 1 {
			t.Fatalf("rework counter %d", v.GetCase().GetCounters().GetRework())
		}
		must(cgj, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_FEEDBACK, caseflowv1.CaseState_CASE_STATE_FEEDBACK, after)
		must(intake, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_ASSIGN_CHECK, caseflowv1.CaseState_CASE_STATE_CHECK_PENDING, nil)
		must(sup, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_CHECK_PASS, caseflowv1.CaseState_CASE_STATE_CLOSE_PENDING, nil)
		v = must(leader, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_CLOSE, caseflowv1.CaseState_CASE_STATE_CLOSED, nil)
		if len(v.GetAllowedOperations()) != 0 {
			t.Errorf("a shift leader may still %v a closed case", v.GetAllowedOperations())
		}

		tl, err := cases.ListCaseTimeline(leader, &caseflowv1.ListCaseTimelineRequest{TenantCode: code, Number: a.GetNumber()})
		if err != nil {
			t.Fatal(err)
		}
		var ops []string
		for _, s := range tl.GetSteps() {
			ops = append(ops, strings.TrimPrefix(s.GetOperation().String(), "CASE_OPERATION_"))
		}
		want := "SUBMIT MERGE FILE DISPATCH ACCEPT FEEDBACK ASSIGN_CHECK CHECK_FAIL FEEDBACK ASSIGN_CHECK CHECK_PASS CLOSE"
		if strings.Join(ops, " ") != want {
			t.Fatalf("timeline %s, want %s", strings.Join(ops, " "), want)
		}
		// The shift leader calls reporters back: the merged duplicate's
		// reporter is on the master's timeline in full.
		if tl.GetSteps()[1].GetDetail()["reporter_phone"] != "13800138000" {
			t.Errorf("merge step detail %v", tl.GetSteps()[1].GetDetail())
		}

		// Search, pagination, counts and export.
		p1, err := cases.SearchCases(leader, &caseflowv1.SearchCasesRequest{TenantCode: code, PageSize: 1, Filter: &caseflowv1.CaseFilter{ClassCode: class}})
		if err != nil || len(p1.GetCases()) != 1 || p1.GetNextPageToken() == "" {
			t.Fatalf("page 1: %v %v", p1, err)
		}
		p2, err := cases.SearchCases(leader, &caseflowv1.SearchCasesRequest{TenantCode: code, PageSize: 1, PageToken: p1.GetNextPageToken(), Filter: &caseflowv1.CaseFilter{ClassCode: class}})
		if err != nil || len(p2.GetCases()) != 1 || p2.GetCases()[0].GetNumber() == p1.GetCases()[0].GetNumber() {
			t.Fatalf("page 2: %v %v", p2, err)
		}
		if _, err := cases.SearchCases(leader, &caseflowv1.SearchCasesRequest{TenantCode: code, PageToken: "forged"}); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("forged token: %v", err)
		}
		counts, err := cases.CountCases(leader, &caseflowv1.CountCasesRequest{TenantCode: code, Filter: &caseflowv1.CaseFilter{ClassCode: class}})
		if err != nil || counts.GetTotal() != 2 || len(counts.GetQueues()) == 0 {
			t.Fatalf("counts: %v %v", counts, err)
		}
		for _, format := range []string{"csv", "xlsx"} {
			e, err := cases.ExportCases(leader, &caseflowv1.ExportCasesRequest{TenantCode: code, Format: format, Filter: &caseflowv1.CaseFilter{ClassCode: class}})
			if err != nil || e.GetRows() != 2 || len(e.GetContent()) == 0 {
				t.Fatalf("export %s: %v %v", format, e, err)
			}
			if format == "csv" && (!strings.Contains(string(e.GetContent()), a.GetNumber()) || strings.Contains(string(e.GetContent()), "13800138000")) {
				t.Fatalf("csv export: %s", e.GetContent())
			}
		}

		// Two dispatchers at once: exactly one dispatches.
		third, err := submit(sup, here)
		if err != nil {
			t.Fatal(err)
		}
		c := must(leader, third.GetCase().GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_FILE, caseflowv1.CaseState_CASE_STATE_FILED, nil)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, dept := range []string{"BY-CGJ", "BY-ZJJ"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = step(disp, c.GetCase().GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_DISPATCH, func(r *caseflowv1.TransitionCaseRequest) {
					r.DepartmentCode, r.ExpectedVersion = dept, c.GetCase().GetVersion()
				})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch reason(err) {
			case "":
				ok++
			case "CASE_CONFLICT", "INVALID_TRANSITION":
			default:
				t.Fatalf("concurrent dispatch: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of two concurrent dispatches succeeded", ok)
		}

		// Auto-dispatch: a street rule for the class, switched on, sends a
		// filed case straight to its department.
		rules := dispatchv1.NewDispatchRuleServiceClient(r.conn)
		if _, err := rules.CreateDispatchRule(admin, &dispatchv1.CreateDispatchRuleRequest{TenantCode: code, Rule: &dispatchv1.DispatchRule{
			Code: "hw-street", ClassCode: class, RegionLevel: "street", RegionCode: g.GetStreetCode(), DepartmentCode: "BY-HW"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := rules.SetAutoDispatch(admin, &dispatchv1.SetAutoDispatchRequest{TenantCode: code, ClassCode: class, Auto: true}); err != nil {
			t.Fatal(err)
		}
		fourth, err := submit(sup, here)
		if err != nil || !fourth.GetDispatch().GetAuto() || fourth.GetDispatch().GetDepartmentCode() != "BY-HW" {
			t.Fatalf("dispatch preview: %v %v", fourth.GetDispatch(), err)
		}
		v = must(leader, fourth.GetCase().GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_FILE, caseflowv1.CaseState_CASE_STATE_DISPATCHED, nil)
		if !v.GetCase().GetAutoDispatched() || v.GetCase().GetDispatchRuleCode() != "hw-street" || v.GetCase().GetPrimaryDepartmentCode() != "BY-HW" {
			t.Fatalf("auto-dispatched case %+v", v.GetCase())
		}

		// 督办 by hand: a leader sets a deadline; the case carries the flag
		// and the step is on its timeline.
		sv := supervisionv1.NewSupervisionServiceClient(r.conn)
		boss := as(r.login(t, code, "leader"))
		if _, err := sv.SuperviseCase(boss, &supervisionv1.SuperviseCaseRequest{TenantCode: code, CaseNumber: fourth.GetCase().GetNumber(),
			Reason: "群众反映强烈", Deadline: timestamppb.New(time.Now().Add(-time.Hour))}); reason(err) != "DEADLINE_IN_PAST" {
			t.Fatalf("督办 with a past deadline: %v", err)
		}
		order, err := sv.SuperviseCase(boss, &supervisionv1.SuperviseCaseRequest{TenantCode: code, CaseNumber: fourth.GetCase().GetNumber(),
			Reason: "群众反映强烈", Deadline: timestamppb.New(time.Now().Add(48 * time.Hour))})
		if err != nil || order.GetDepartmentCode() != "BY-HW" {
			t.Fatalf("督办: %v %v", order, err)
		}
		got, err := cases.GetCase(boss, &caseflowv1.GetCaseRequest{TenantCode: code, Number: fourth.GetCase().GetNumber()})
		if err != nil || !got.GetCase().GetFlags().GetSupervised() || got.GetCase().GetSuperviseDeadline() == nil {
			t.Fatalf("supervised case: %v %v", got, err)
		}
		sq, err := cases.ListWorkQueue(leader, &caseflowv1.ListWorkQueueRequest{TenantCode: code, Queue: caseflowv1.WorkQueue_WORK_QUEUE_SUPERVISED})
		if err != nil || len(sq.GetCases()) != 1 {
			t.Fatalf("督办 queue: %v %v", sq, err)
		}

		// Another tenant neither reads nor writes nor detects the case.
		if _, err := cases.GetCase(foreign, &caseflowv1.GetCaseRequest{TenantCode: code, Number: a.GetNumber()}); reason(err) != "TENANT_NOT_FOUND" {
			t.Fatalf("foreign tenant reads in 450126: %v", err)
		}
		if _, err := cases.GetCase(foreign, &caseflowv1.GetCaseRequest{TenantCode: "450181", Number: a.GetNumber()}); reason(err) != "CASE_NOT_FOUND" {
			t.Fatalf("foreign tenant reads the number in its own tenant: %v", err)
		}
		if _, err := step(foreign, a.GetNumber(), caseflowv1.CaseOperation_CASE_OPERATION_REOPEN, nil); reason(err) != "TENANT_NOT_FOUND" {
			t.Fatalf("foreign tenant writes: %v", err)
		}
		if res, err := cases.SearchCases(foreign, &caseflowv1.SearchCasesRequest{TenantCode: "450181"}); err != nil || len(res.GetCases()) != 0 {
			t.Fatalf("foreign tenant searches its own: %v %v", res, err)
		}
	})
}
