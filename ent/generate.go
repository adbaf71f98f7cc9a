// Package ent holds the generated ent client of CityOps. The schema lives in
// ent/schema; everything else in this directory except entc.go, generate.go,
// schema/, schematype/ and migrations/ is generated and committed.
package ent

//go:generate go run entc.go
