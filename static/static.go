// Package static holds the browser assets served from the binary: our own CSS
// and JavaScript, the favicon, and htmx, which `make assets` installs from the
// npm registry into lib/ (git-ignored: no third-party code is committed).
package static

import "embed"

// FS is the embedded asset tree, rooted at this folder (paths like "css/app.css").
//
//go:embed lib css js img
var FS embed.FS
