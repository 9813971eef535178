// Package static holds the browser assets served from the binary: our own CSS
// and JavaScript, the favicon, and htmx, which `make assets` installs from the
// npm registry into lib/ (git-ignored: no third-party code is committed).
//
// lib/ holds a committed .gitkeep, so a fresh clone compiles (go build, go vet,
// gopls) before `make assets` has run; the binary then lacks htmx, which
// HasHTMX reports so that start-up can say so.
package static

import (
	"embed"
	"io/fs"
)

// FS is the embedded asset tree, rooted at this folder (paths like "css/app.css").
//
//go:embed all:lib css js img
var FS embed.FS

// HTMXPath is htmx's path in FS.
const HTMXPath = "lib/htmx.min.js"

// HasHTMX reports whether htmx was installed (make assets) before the build.
func HasHTMX() bool {
	_, err := fs.Stat(FS, HTMXPath)
	return err == nil
}
