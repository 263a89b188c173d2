import RigorRunner

/// The frame around every page: head (title, style), the navigation, the body, and a link to
/// the page's JSON twin. The web UI links its style sheet and script from `/static/` (the
/// Content-Security-Policy allows nothing else); the self-contained report inlines both.
struct Layout: Sendable {
    enum Assets: Sendable {
        /// `<link>`/`<script src>` to the server's `/static/` files.
        case linked
        /// Style and script inline (the report: one file, no network).
        case inline
    }

    var assets: Assets = .linked
    /// Shown in the header (the server's store, or the report's subject).
    var subtitle: String = ""

    static let pages: [(path: String, label: String)] = [
        ("/runs", "Runs"), ("/metrics", "Metrics"), ("/baselines", "Baselines & CI"), ("/ledger", "Ledger"), ("/bundles", "Bundles"),
    ]

    func page(title: String, current: String?, api: Link?, _ body: HTML) -> HTML {
        var h: HTML = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        h += "<title>" + .text(title) + " · rigor</title>"
        switch assets {
        case .linked:
            h += "<link rel=\"stylesheet\" href=\"/static/rigor.css\"><script src=\"/static/rigor.js\" defer></script>"
        case .inline:
            h += HTML(unsafeMarkup: "<style>\(ArtifactDiff.htmlStyle)\(Assets.css)</style>")
        }
        h += assets == .linked ? "</head><body><header><a class=\"brand\" href=\"/runs\">rigor</a><nav>" : "</head><body><header><span class=\"brand\">rigor</span><nav>"
        if assets == .linked {
            for p in Self.pages {
                h += HTML(unsafeMarkup: "<a href=\"\(p.path)\"\(current == p.path ? " class=\"current\"" : "")>\(p.label)</a>")
            }
        }
        h += "</nav><span class=\"sub\">" + .text(subtitle) + "</span></header><main>"
        h += "<h1>" + .text(title) + "</h1>"
        h += body
        h += "</main><footer>"
        if let api { h += "JSON: " + .link(api, .text(api.string)) }
        h += "</footer></body></html>\n"
        return h
    }
}

extension Layout.Assets {
    /// The dashboard's style sheet (also inlined by the report).
    static let css = """
        :root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--mute:#6e7781;--line:#d0d7de;--bg:#f6f8fa}
        *{box-sizing:border-box}body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f}
        header{display:flex;gap:1.5em;align-items:center;padding:.6em 1.5em;background:#24292f;color:#fff}
        header a{color:#d0d7de;text-decoration:none}header a.current,header a:hover{color:#fff;text-decoration:underline}
        header .brand{font-weight:700;color:#fff;font-size:1.1em}header nav{display:flex;gap:1.2em}header .sub{margin-left:auto;color:#8c959f;font-size:.9em}
        main{padding:1em 1.5em}footer{padding:1em 1.5em;color:var(--mute);font-size:.85em}
        h1{font-size:1.4em;margin:.3em 0 .6em}h2{font-size:1.15em;margin:1.4em 0 .5em}small,.mute{color:var(--mute);font-weight:normal}
        table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
        th{background:var(--bg)}td.num{text-align:right;font-variant-numeric:tabular-nums}
        code,pre,.mono{font:12px/1.4 ui-monospace,Menlo,monospace}pre{white-space:pre-wrap;word-break:break-all;margin:0;max-height:24em;overflow:auto}
        .ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}
        .pill{display:inline-block;padding:0 .5em;border-radius:1em;font-size:.85em;border:1px solid currentColor}
        form.filters{display:flex;flex-wrap:wrap;gap:.6em;align-items:end;margin-bottom:.8em}
        form.filters label{display:flex;flex-direction:column;font-size:.8em;color:var(--mute)}
        form.filters input,form.filters select{font:inherit;padding:2px 4px;min-width:8em}
        .pager{display:flex;gap:1em;align-items:center}.cards{display:flex;flex-wrap:wrap;gap:1em}
        .card{border:1px solid var(--line);border-radius:6px;padding:.6em 1em;min-width:10em}.card b{font-size:1.4em;display:block}
        .steps .step{border:1px solid var(--line);border-radius:6px;margin:.5em 0;padding:.4em .8em}
        .steps .step.failing{border-color:var(--bad);box-shadow:0 0 0 1px var(--bad)}
        .steps .step h3{font-size:1em;margin:.1em 0 .4em}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(18em,1fr));gap:.6em}
        .grid > div{min-width:0}.grid h4{margin:.2em 0;font-size:.85em;color:var(--mute)}
        svg text{font:11px system-ui,sans-serif;fill:#57606a}svg .pass{fill:#2da44e}svg .fail{fill:#cf222e}svg .line{fill:none;stroke:#0969da;stroke-width:1.5}
        svg .line2{fill:none;stroke:#bf8700;stroke-width:1.5}svg .axis{stroke:#d0d7de}svg .ci{stroke:#24292f;stroke-width:1.2}
        .hidden{display:none}button{font:inherit}
        """

    /// The dashboard's script: the only interaction is client-side convenience (selecting two
    /// runs to diff, filtering the step timeline); every page works without it. It never puts
    /// text into the page as markup: only textContent and attribute toggles.
    static let js = """
        'use strict';
        document.addEventListener('DOMContentLoaded', function () {
          var boxes = Array.prototype.slice.call(document.querySelectorAll('input.pick'));
          var go = document.getElementById('diff-picked');
          if (go && boxes.length) {
            var update = function () {
              var picked = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
              go.disabled = picked.length !== 2;
              go.dataset.a = picked[1] || ''; go.dataset.b = picked[0] || '';
            };
            boxes.forEach(function (b) { b.addEventListener('change', update); });
            go.addEventListener('click', function () {
              window.location.href = '/diff?a=' + encodeURIComponent(go.dataset.a) + '&b=' + encodeURIComponent(go.dataset.b);
            });
            update();
          }
          var only = document.getElementById('only-io');
          if (only) {
            only.addEventListener('change', function () {
              document.querySelectorAll('.steps .step').forEach(function (s) {
                s.classList.toggle('hidden', only.checked && s.dataset.io === '0');
              });
            });
          }
        });
        """
}
