// Package calendar does the working-time arithmetic behind case deadlines
// (时限): "4 工作时", "5 工作日" or, for emergencies, "10 natural minutes"
// from the moment a case is dispatched.
//
// A Calendar is built from layers, each of which may only add to or
// override the layers before it:
//
//   - the national layer (National): the State Council's annual holiday
//     notice, i.e. the days off and the 调休 make-up working days, shipped as
//     the embedded file data/national.csv. A new year is added by adding
//     rows, not code;
//   - a province layer (Province): regional holidays such as Guangxi's
//     壮族三月三, shipped as data/province/<code>.csv;
//   - a tenant layer (TenantSpec, DecodeTenant): the city's working hours
//     per weekday, seasonal schedules (summer hours), local extra days off
//     and duty days, the time zone and how long a working day is.
//
// The arithmetic (Add, Between, AddStages) counts only working time for work
// units and ignores the calendar for natural units; a Clock accumulates
// working time across pauses (挂账, awaiting approval) and extensions.
//
// Working periods are half-open: a window 08:00–12:00 includes 08:00 and
// excludes 12:00. A deadline may therefore land exactly on the end of a
// working period (12:00), which is the latest moment that still counts as
// "within the limit"; starting a computation at 12:00 begins at the next
// working moment.
//
// Deadlines beyond the years the holiday data covers silently treat unknown
// holidays as ordinary days; Calendar.Covers tells a caller when that is the
// case so it can warn an operator to load the new notice.
package calendar
