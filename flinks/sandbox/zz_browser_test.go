package sandbox_test

import (
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"flinkslink/flinks/sandbox"
)

const hostPage = `<!doctype html><html><body><h1>host</h1><ol id="log"></ol>
<iframe id="f" width="800" height="700" src="/sandbox/v2/?demo=true&tag=host%20tag&redirectUrl=http%3A%2F%2FHOST%2Fdone%3Fa%3D1&accountSelectorEnable=true&closeEnable=true&backgroundColor=fafafa"></iframe>
<script>
var log = JSON.parse(sessionStorage.getItem("log") || "[]");
window.addEventListener("message", function (e) {
  log.push(e.data.step + (e.data.url ? " " + e.data.url : "") + (e.data.accountId ? " acct" : ""));
  sessionStorage.setItem("log", JSON.stringify(log));
});
var f = document.getElementById("f");
f.addEventListener("load", function () {
  var d = f.contentDocument;
  setTimeout(function () {
    var b = d.querySelector("button[value=accept]"); if (b) { b.click(); return; }
    b = d.querySelector("button[value=FlinksCapital]"); if (b) { b.click(); return; }
    var u = d.getElementById("username");
    if (u) { u.value = "greatday_nomfa"; d.getElementById("password").value = "Everyday"; d.querySelector("form button[type=submit]").click(); return; }
    var r = d.querySelector("input[type=radio]"); if (r) { r.checked = true; d.querySelector("form button[type=submit]").click(); return; }
  }, 50);
});
</script></body></html>`

const donePage = `<!doctype html><html><body><pre id="out"></pre><script>
document.getElementById("out").textContent = "DONE " + location.search + "\n" + JSON.parse(sessionStorage.getItem("log")||"[]").join("\n");
</script></body></html>`

func TestZZBrowser(t *testing.T) {
	if os.Getenv("ZZ_BROWSER") == "" {
		t.Skip()
	}
	srv, _ := sandbox.New(sandbox.Config{Prefix: "/sandbox"})
	ln, _ := net.Listen("tcp", "127.0.0.1:18099")
	mux := http.NewServeMux()
	mux.Handle("/sandbox/", srv)
	mux.HandleFunc("/host.html", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(replace(hostPage, "HOST", "127.0.0.1%3A18099")))
	})
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(donePage)) })
	go http.Serve(ln, mux)
	time.Sleep(240 * time.Second)
}

func replace(s, a, b string) string {
	out := ""
	for {
		i := indexOf(s, a)
		if i < 0 {
			return out + s
		}
		out += s[:i] + b
		s = s[i+len(a):]
	}
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
