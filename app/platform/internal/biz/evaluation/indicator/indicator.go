// Package indicator is the library of evaluation (考评) indicators computed
// from the case loop: what each indicator counts, for which evaluated
// objects, and the cases behind every count, so that any score can be
// drilled into. Schemes (package scheme) refer to indicators by Code.
package indicator

// ObjectType is a kind of evaluated object (考评对象).
type ObjectType string

// Evaluated object types. Departments, districts, streets, communities and
// unit grids are keyed by their codes; posts by the actor (user:12).
const (
	Department  ObjectType = "department"   // 专业部门 / 责任单位 (primary_department_code)
	District    ObjectType = "district"     // 城区 / 县 (district_code)
	Street      ObjectType = "street"       // 街道 / 乡镇 (street_code)
	Community   ObjectType = "community"    // 社区 (community_code)
	Grid        ObjectType = "grid"         // 单元网格 (grid_code)
	Supervisor  ObjectType = "supervisor"   // 监督员 (the actor who reported / verified / checked)
	Intake      ObjectType = "intake"       // 受理员
	ShiftLeader ObjectType = "shift_leader" // 值班长
	Dispatcher  ObjectType = "dispatcher"   // 派遣员
	County      ObjectType = "county"       // a child tenant, from its federated indicator snapshots
)

// Object is one evaluated object.
type Object struct {
	Type ObjectType
	Code string
}

// Measure is the value of a count indicator for one object in one period,
// with the numbers of the cases behind it.
type Measure struct {
	Value float64
	Cases []string
}

// Measures are the computed counts of a period: object → indicator code →
// measure. Rates are not stored; they derive from their numerator and
// denominator counts (see Definition.Numerator / Denominator).
type Measures map[Object]map[Code]*Measure

// Code names an indicator in schemes, results and snapshots.
type Code string

// The indicator library (DOMAIN §6.2). Counts first, then the rates built
// from them. Names in Chinese are the standard's terms; schemes may use
// either the code or the Chinese name.
const (
	Reported              Code = "reported"                // 上报数
	ValidReported         Code = "valid_reported"          // 有效上报数
	ValidReportRate       Code = "valid_report_rate"       // 有效上报率
	VerifyDue             Code = "verify_due"              // 应核实数
	VerifiedOnTime        Code = "verified_on_time"        // 按时核实数
	VerifyOnTimeRate      Code = "verify_on_time_rate"     // 按时核实率
	CheckDue              Code = "check_due"               // 应核查数
	CheckedOnTime         Code = "checked_on_time"         // 按时核查数
	CheckOnTimeRate       Code = "check_on_time_rate"      // 按时核查率
	Missed                Code = "missed"                  // 漏报数
	MissedRate            Code = "missed_rate"             // 漏报率
	Accepted              Code = "accepted"                // 受理数
	Filed                 Code = "filed"                   // 立案数
	FiledOnTime           Code = "filed_on_time"           // 按时立案数
	FileOnTimeRate        Code = "file_on_time_rate"       // 按时立案率
	FileAccuracyRate      Code = "file_accuracy_rate"      // 准确立案率
	Voided                Code = "voided"                  // 作废数
	DispatchDue           Code = "dispatch_due"            // 应派遣数
	Dispatched            Code = "dispatched"              // 派遣数
	DispatchedOnTime      Code = "dispatched_on_time"      // 按时派遣数
	DispatchOnTimeRate    Code = "dispatch_on_time_rate"   // 按时派遣率
	Redispatched          Code = "redispatched"            // 回退/返工后二次派遣数
	DispatchAccuracy      Code = "dispatch_accuracy_rate"  // 准确派遣率
	DisposeDue            Code = "dispose_due"             // 应处置数
	Disposed              Code = "disposed"                // 处置数
	DisposeRate           Code = "dispose_rate"            // 处置率
	DisposedOnTime        Code = "disposed_on_time"        // 按期处置数
	DisposeOnTimeRate     Code = "dispose_on_time_rate"    // 按期处置率
	DisposedLate          Code = "disposed_late"           // 超期处置数
	OverdueUndisposed     Code = "overdue_undisposed"      // 超期未处置数
	OverdueUndisposedRate Code = "overdue_undisposed_rate" // 超期待处置率
	Rework                Code = "rework"                  // 返工数
	ReworkRate            Code = "rework_rate"             // 返工率 (denominator close_due by default, or disposed)
	Returned              Code = "returned"                // 回退数
	Extended              Code = "extended"                // 延期数
	ExtensionRate         Code = "extension_rate"          // 延期率
	Hung                  Code = "hung"                    // 挂账数
	CloseDue              Code = "close_due"               // 应结案数
	Closed                Code = "closed"                  // 结案数
	CloseRate             Code = "close_rate"              // 结案率
	ClosedOnTime          Code = "closed_on_time"          // 按期结案数
	CloseOnTimeRate       Code = "close_on_time_rate"      // 按期结案率
	PublicReported        Code = "public_reported"         // 监督举报数 (verified public reports)
	PublicReportRate      Code = "public_report_rate"      // 监督举报率
	SelfHandled           Code = "self_handled"            // 自处理数
	Supervised            Code = "supervised"              // 督办数
	SupervisedOnTime      Code = "supervised_on_time"      // 督办按时完成数
	SuperviseOnTimeRate   Code = "supervise_on_time_rate"  // 督办按时完成率
	Callbacks             Code = "callbacks"               // 回访数
	Satisfied             Code = "satisfied"               // 回访满意数
	SatisfactionRate      Code = "satisfaction_rate"       // 回访满意率
	Density               Code = "density"                 // 案件密度 (立案数 per km²; needs the object's area)
)
