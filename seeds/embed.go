// Package seeds holds the shipped seed files, built into the binary so a released brokle can seed
// with no files beside it; a seeds folder on disk wins over them.
package seeds

import "embed"

// FS holds dev.yaml, demo.yaml and test.yaml.
//
//go:embed *.yaml
var FS embed.FS
