// Package service maps the API messages of every CityOps service to the
// biz use cases and back. It decides nothing.
package service
