// Package deploy holds deployment manifests; its tests keep them valid.
package deploy
