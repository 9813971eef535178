package views

// assetVersion is appended to asset URLs so that a new binary's assets are
// never served from a stale browser cache (the static handler caches for long).
var assetVersion = "dev"

// SetAssetVersion sets the cache-busting token added to every asset URL; main
// calls it once at start with something that changes per build.
func SetAssetVersion(v string) { assetVersion = v }

// Asset returns the URL of an embedded static file, e.g. Asset("css/app.css").
func Asset(path string) string {
	return "/static/" + path + "?v=" + assetVersion
}
