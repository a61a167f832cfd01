"""kmapper's interactive page, made to work offline, with every node labelled (notebook 4.2).

kmapper's ``visualize`` writes a standalone D3 page — drag nodes, click one to read its members —
that loads d3 and FileSaver from CDNs, a font from Google and a favicon from imgur. The book must
load nothing from outside, and neither may a reader's kernel need the network, so :func:`mapper_page`
inlines the two scripts (shipped in ``course_lib/mapper/vendor/``, see its LICENSES.txt) and drops
the font and icon. :func:`show_page` puts the page in an ``<iframe srcdoc>``: it runs the same in
JupyterLab, Colab and the static book, isolated from the page around it.

Each node's details pane gets an automatic label (:func:`describe_nodes`): its dominant label, that
label's share, and the words most over-represented among its members' sentences. With categorical
labels each node takes its dominant label's colour from the chapter's palette
(:data:`~.activation_plots.LABEL_COLORS`, the static figures' colours), with a key in the corner. The
view zooms to fit the whole graph once the layout settles (and again when the frame is resized), and
:func:`show_page` adds a full-screen button above the frame.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections import Counter
from importlib import resources
from typing import Any, Mapping, Sequence

import numpy as np

from .measures import dominant_labels, node_members
from ..validation import check_int

__all__ = ["describe_nodes", "kmapper_dict", "mapper_page", "show_page", "STOPWORDS"]

#: Words too common to describe a node (function words and the sentence frames' own words).
STOPWORDS = frozenset("""a an the and or but of to in on at for with from by into over after when
that this it its was were is be been felt feel so very for rest day all every i we she he they my
our his her their me us them you your one two three again old new""".split())

_CDN_SCRIPT = re.compile(r'<script src="https://[^"]+/(d3(?:\.min)?\.js|FileSaver\.min\.js)"></script>')
_OUTSIDE_LINK = re.compile(r'\s*<link [^>]*href=["\']https?://[^"\']+["\'][^>]*>')
_GRAPH_JSON = re.compile(r"(const graph = )(\{.*?\});\n", re.S)


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z']+", text.lower()) if w not in STOPWORDS and len(w) > 2]


def describe_nodes(graph: Any, texts: Sequence[str], labels: Sequence, top: int = 3) -> dict[str, str]:
    """``node → "fear 92% · storm, siren, river"``: dominant label and share, then the ``top`` words
    with the highest keyness ``count_node · log(rate_node / rate_all)`` (frequent *and* typical)."""
    texts = list(texts)
    dominant = dominant_labels(graph, labels)
    members = node_members(graph)
    if any(len(m) and m.max() >= len(texts) for m in members.values()):
        raise ValueError("texts must have one entry per point")
    corpus = Counter(w for t in texts for w in _words(t))
    total = sum(corpus.values()) or 1
    out = {}
    for node, m in members.items():
        counts = Counter(w for i in m for w in _words(texts[i]))
        size = sum(counts.values()) or 1
        score = {w: c * np.log((c / size) / (corpus[w] / total)) for w, c in counts.items() if c > 1}
        best = sorted(score, key=lambda w: (-score[w], w))[:top]
        label, share = dominant[node]
        out[node] = f"{label} {share:.0%}" + (f" · {', '.join(best)}" if best else "")
    return out


def kmapper_dict(graph: Any) -> dict:
    """The networkx graph of :func:`~.graph.mapper_graph` back in kmapper's own format."""
    members = node_members(graph)
    links: dict[str, list[str]] = {}
    for a, b in graph.edges():
        links.setdefault(a, []).append(b)
    meta = dict(graph.graph.get("meta", {}))
    return {"nodes": {n: m.tolist() for n, m in members.items()}, "links": links,
            "simplices": [[n] for n in members] + [list(e) for e in graph.edges()],
            "meta_data": {"projection": meta.get("lens", "lens"), "n_cubes": meta.get("n_cubes", ""),
                          "perc_overlap": meta.get("overlap", ""),
                          "clusterer": meta.get("clusterer", ""), "scaler": "MinMaxScaler"},
            "meta_nodes": {}}


def _vendored(name: str) -> str:
    return resources.files("course_lib.mapper").joinpath("vendor", name).read_text(encoding="utf-8")


# Injected before </body>: fit the graph to the frame when the layout settles (and on resize, e.g.
# full screen, where kmapper keeps its first canvas height); kmapper.js's globals svg, g, zoom,
# simulation and resize are in scope.
_FIT_SCRIPT = """<script>
(function () {
  if (typeof zoom === "undefined" || typeof simulation === "undefined") { return; }
  zoom.scaleExtent([0.02, 7]);
  // kmapper's strong repulsion (-1200) scatters a graph of a few hundred small components over an
  // area many frames wide; a milder one, pulled towards the centre, keeps it compact enough that the
  // fitted view still shows every node at a readable size.
  var many = simulation.nodes().length > 60;
  if (many) {
    simulation.force("charge", d3.forceManyBody().strength(-60))
      .force("x", d3.forceX(+svg.attr("width") / 2).strength(0.06))
      .force("y", d3.forceY(+svg.attr("height") / 2).strength(0.06))
      .alpha(1).restart();
  }
  function fit(duration) {
    var box = g.node().getBBox();
    var W = +svg.attr("width"), H = +svg.attr("height") - 40;   // 40 px: the colour key below
    if (!box.width || !box.height || !W || !H) { return; }
    var k = Math.min(4, 0.92 * Math.min(W / box.width, H / box.height));
    var t = d3.zoomIdentity.translate(W / 2 - k * (box.x + box.width / 2), H / 2 - k * (box.y + box.height / 2)).scale(k);
    (duration ? svg.transition().duration(duration) : svg).call(zoom.transform, t);
  }
  // Follow the layout while it settles (every few ticks), until the reader zooms or pans.
  var moved = false, ticks = 0;
  zoom.on("start.fit", function (event) { if (event.sourceEvent) { moved = true; } });
  simulation.on("tick.fit", function () { ticks += 1; if (!moved && ticks % 10 === 0) { fit(0); } });
  simulation.on("end.fit", function () { if (!moved) { fit(300); } });
  window.addEventListener("resize", function () {
    var header = document.getElementById("header");
    document.getElementById("canvas").style.height = (window.innerHeight - 5 - (header ? header.offsetHeight : 0)) + "px";
    resize();
    setTimeout(function () { fit(300); }, 50);
  });
})();
</script>
"""


def _key_html(colors: Mapping[str, str], name: str) -> str:
    swatches = "".join(
        f'<span style="display:inline-flex;align-items:center;margin-right:0.8em">'
        f'<span style="display:inline-block;width:0.9em;height:0.9em;border-radius:50%;'
        f'background:{html_lib.escape(c)};margin-right:0.3em;border:1px solid #555"></span>'
        f'{html_lib.escape(str(label))}</span>' for label, c in colors.items())
    return (f'<div id="course-key" style="position:fixed;left:8px;bottom:8px;z-index:10;background:rgba(255,255,255,0.9);'
            f'border:1px solid #bbb;border-radius:4px;padding:4px 8px;font:13px sans-serif;color:#222">'
            f'node colour: dominant {html_lib.escape(name)} &nbsp;{swatches}</div>\n')


def mapper_page(graph: Any, texts: Sequence[str], labels: Sequence, *,
                color_values: Any = None, color_name: str = "label", title: str = "Mapper graph",
                colors: Mapping[str, str] | None = None) -> str:
    """A self-contained HTML page (no outside requests) of kmapper's interactive view of ``graph``:
    members' tooltips are their ``texts`` and nodes are labelled by :func:`describe_nodes`.

    Nodes are coloured by the mean of ``color_values`` when given (kmapper's colour scale);
    otherwise each node takes its dominant label's colour from ``colors`` (default: the chapter's
    :data:`~.activation_plots.LABEL_COLORS`, so the page matches the static figures; a label missing
    there gets a grey), and a key names the colours."""
    import kmapper

    from .activation_plots import LABEL_COLORS

    members = node_members(graph)
    if not members:
        raise ValueError("graph has no nodes: nothing to show")
    labels = np.asarray(labels)
    categorical = color_values is None
    extra: dict[str, Any] = {}
    if categorical:
        classes = sorted(set(labels.tolist()), key=str)
        palette = dict(LABEL_COLORS if colors is None else colors)
        class_colors = {c: palette.get(str(c), "#999999") for c in classes}
        color_values = np.array([classes.index(v) for v in labels.tolist()], dtype=float)
        # kmapper scales the values to [0, 1]: class i sits at i / (K - 1), where the scale shows its colour
        top = max(len(classes) - 1, 1)
        extra["colorscale"] = [[i / top, class_colors[c]] for i, c in enumerate(classes)]
        if len(classes) == 1:
            extra["colorscale"].append([1.0, class_colors[classes[0]]])
        color_name = f"{color_name} ({', '.join(str(c) for c in classes)})"
    page = kmapper.KeplerMapper(verbose=0).visualize(
        kmapper_dict(graph), color_values=np.asarray(color_values, dtype=float),
        color_function_name=[color_name], custom_tooltips=np.array(list(texts), dtype=object),
        title=title, save_file=False, **extra)
    scripts = {"d3.js": "d3.min.js", "d3.min.js": "d3.min.js", "FileSaver.min.js": "FileSaver.min.js"}
    page, found = _CDN_SCRIPT.subn(lambda m: "<script>" + _vendored(scripts[m.group(1)]) + "</script>",
                                   page)
    if found != 2:
        raise RuntimeError(f"kmapper's page template changed: expected 2 CDN scripts, found {found}")
    page = _OUTSIDE_LINK.sub("", page)
    names = describe_nodes(graph, texts, labels)
    match = _GRAPH_JSON.search(page)
    if match is None:
        raise RuntimeError("kmapper's page template changed: no 'const graph = {…};' line")
    data = json.loads(match.group(2))
    dominant = dominant_labels(graph, labels) if categorical else {}
    for node in data["nodes"]:
        node["tooltip"]["node_id"] = f"{node['name']}: {names[node['name']]}"
        if categorical:  # the dominant label's colour, not a blend of the members' classes
            value = classes.index(dominant[node["name"]][0]) / top
            node["color"] = [[value for _ in row] for row in node["color"]]
    page = page[:match.start(2)] + json.dumps(data).replace("</", "<\\/") + page[match.end(2):]
    if page.count("</body>") != 1:
        raise RuntimeError("kmapper's page template changed: expected one </body>")
    key = _key_html(class_colors, color_name.split(" (")[0]) if categorical else ""
    page = page.replace("</body>", key + _FIT_SCRIPT + "</body>")
    if re.search(r"""(src|href)=["']https?://""", page):
        raise RuntimeError("the Mapper page still refers to an outside resource")
    return page


def show_page(page: str, height: int = 640) -> Any:
    """Display ``page`` in an ``<iframe srcdoc>`` (an IPython HTML object; the last line of a cell),
    with a button above it that shows the frame full screen (or, where a browser cannot, opens the
    page in a new tab)."""
    from IPython.display import HTML

    if not isinstance(page, str) or "<html" not in page:
        raise ValueError("page must be the HTML text from mapper_page")
    check_int(height, "height (pixels)", min=200, max=2000)
    # Wrapped in a div: IPython warns about HTML that starts with an iframe.
    button = ('<button type="button" class="mapper-page-fullscreen" style="margin:0 0 0.4em;padding:0.15em 0.7em;'
              'border:1px solid #aaa;border-radius:0.25rem;cursor:pointer" onclick="(function (b) {'
              "var f = b.parentNode.querySelector('iframe');"
              'if (f.requestFullscreen) { f.requestFullscreen(); } else {'
              "window.open(URL.createObjectURL(new Blob([f.srcdoc], {type: 'text/html'}))); }"
              '})(this)">Show full screen</button>')
    return HTML(f'<div class="mapper-page">{button}<iframe srcdoc="{html_lib.escape(page, quote=True)}" '
                f'width="100%" height="{height}" style="border:1px solid #ccc;background:#fff" '
                f'title="interactive Mapper graph" allowfullscreen></iframe></div>')
