"""kmapper's interactive page, made to work offline, with every node labelled (notebook 4.2).

kmapper's ``visualize`` writes a standalone D3 page — drag nodes, click one to read its members —
that loads d3 and FileSaver from CDNs, a font from Google and a favicon from imgur. The book must
load nothing from outside, and neither may a reader's kernel need the network, so :func:`mapper_page`
inlines the two scripts (shipped in ``course_lib/mapper/vendor/``, see its LICENSES.txt) and drops
the font and icon. :func:`show_page` puts the page in an ``<iframe srcdoc>``: it runs the same in
JupyterLab, Colab and the static book, isolated from the page around it.

Each node's details pane gets an automatic label (:func:`describe_nodes`): its dominant label, that
label's share, and the words most over-represented among its members' sentences.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections import Counter
from importlib import resources
from typing import Any, Sequence

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


def mapper_page(graph: Any, texts: Sequence[str], labels: Sequence, *,
                color_values: Any = None, color_name: str = "label", title: str = "Mapper graph") -> str:
    """A self-contained HTML page (no outside requests) of kmapper's interactive view of ``graph``:
    members' tooltips are their ``texts``, nodes are coloured by the mean of ``color_values``
    (default: the index of each point's label) and labelled by :func:`describe_nodes`."""
    import kmapper

    members = node_members(graph)
    if not members:
        raise ValueError("graph has no nodes: nothing to show")
    labels = np.asarray(labels)
    if color_values is None:
        classes = sorted(set(labels.tolist()))
        color_values = np.array([classes.index(v) for v in labels.tolist()], dtype=float)
        color_name = f"{color_name} ({', '.join(f'{i} {c}' for i, c in enumerate(classes))})"
    page = kmapper.KeplerMapper(verbose=0).visualize(
        kmapper_dict(graph), color_values=np.asarray(color_values, dtype=float),
        color_function_name=[color_name], custom_tooltips=np.array(list(texts), dtype=object),
        title=title, save_file=False)
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
    for node in data["nodes"]:
        node["tooltip"]["node_id"] = f"{node['name']}: {names[node['name']]}"
    page = page[:match.start(2)] + json.dumps(data).replace("</", "<\\/") + page[match.end(2):]
    if re.search(r"""(src|href)=["']https?://""", page):
        raise RuntimeError("the Mapper page still refers to an outside resource")
    return page


def show_page(page: str, height: int = 640) -> Any:
    """Display ``page`` in an ``<iframe srcdoc>`` (an IPython HTML object; the last line of a cell)."""
    from IPython.display import HTML

    if not isinstance(page, str) or "<html" not in page:
        raise ValueError("page must be the HTML text from mapper_page")
    check_int(height, "height (pixels)", min=200, max=2000)
    # Wrapped in a div: IPython warns about HTML that starts with an iframe.
    return HTML(f'<div class="mapper-page"><iframe srcdoc="{html_lib.escape(page, quote=True)}" '
                f'width="100%" height="{height}" style="border:1px solid #ccc" '
                f'title="interactive Mapper graph"></iframe></div>')
