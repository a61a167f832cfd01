#!/usr/bin/env bash
# Refresh the JavaScript the built book serves itself (it must never load anything from a CDN):
# the ipywidgets embedding code and MathJax.
#
#   book/vendor/update_widget_js.sh            # pinned versions below
#   HTML_MANAGER=1.0.16 book/vendor/update_widget_js.sh
#
# Fetches three npm tarballs with `npm pack` (the npm registry only) into a temporary folder and
# copies out exactly the files a page loads at run time into book/static/vendor/:
#
#   require.js     RequireJS (MIT); embed-amd.js is an AMD bundle and needs it on the page.
#   embed-amd.js   @jupyter-widgets/html-manager (BSD-3-Clause): the widget manager with
#                  @jupyter-widgets/base, controls and output bundled in. ipywidgets 8 pairs with
#                  html-manager 1.x (ipywidgets' _version.py: __html_manager_version__ = '^1.0.1').
#   *.woff2        the Font Awesome 5 webfonts its bundled CSS references (widget icons, e.g. the
#                  Play widget's buttons). Only woff2: every browser that runs the bundle reads it,
#                  and the @font-face rules try woff2 before eot/woff/ttf/svg.
#   mathjax/       MathJax 3 (Apache-2.0) for the book's math: tex-chtml-full.js (every TeX extension
#                  built in, so it never autoloads one) and the woff-v2 fonts its CHTML output
#                  fetches from output/chtml/fonts/woff-v2/ next to the script. Sphinx would
#                  otherwise load MathJax from cdn.jsdelivr.net (mathjax_path in _config.yml).
#
# It also refreshes what chapter 4's interactive Mapper page inlines (kmapper's page loads these
# from CDNs by default), into course_lib/mapper/vendor/ so a reader's kernel has them too:
#
#   d3.min.js         d3 (ISC), the version kmapper 2.1's page asks for
#   FileSaver.min.js  file-saver (MIT), the page's "save as" button
#
# The trailing `//# sourceMappingURL=` comments are stripped (the maps are not shipped; devtools would
# log a 404 for each). Nothing else is changed. The result is committed, so the book builds offline.
set -euo pipefail

HTML_MANAGER="${HTML_MANAGER:-1.0.15}"
REQUIREJS="${REQUIREJS:-2.3.8}"
MATHJAX="${MATHJAX:-3.2.2}"
D3="${D3:-6.1.1}"
FILESAVER="${FILESAVER:-2.0.2}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/../static/vendor"
mapper_dest="$here/../../course_lib/mapper/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent "@jupyter-widgets/html-manager@${HTML_MANAGER}" "requirejs@${REQUIREJS}" \
  "mathjax@${MATHJAX}" "d3@${D3}" "file-saver@${FILESAVER}" >/dev/null
mkdir hm rq mj d3 fs
tar -xzf "jupyter-widgets-html-manager-${HTML_MANAGER}.tgz" -C hm
tar -xzf "requirejs-${REQUIREJS}.tgz" -C rq
tar -xzf "mathjax-${MATHJAX}.tgz" -C mj
tar -xzf "d3-${D3}.tgz" -C d3
tar -xzf "file-saver-${FILESAVER}.tgz" -C fs
# npm ships require.js unminified only; use require.min.js if a release ever adds it.
req="rq/package/require.js"
[ -f rq/package/require.min.js ] && req="rq/package/require.min.js"

# Every font file the bundle can ask for must be one we either copy or knowingly leave out.
fonts=$(grep -o '[0-9a-f]\{20\}\.woff2' hm/package/dist/embed-amd.js | sort -u)
[ -n "$fonts" ] || { echo "no woff2 fonts referenced by embed-amd.js: check the bundle" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest"
sed -e '/^\/\/# sourceMappingURL=/d' "$req" > "$dest/require.js"
sed -e '/^\/\/# sourceMappingURL=/d' hm/package/dist/embed-amd.js > "$dest/embed-amd.js"
for f in $fonts; do cp "hm/package/dist/$f" "$dest/$f"; done
mkdir -p "$dest/mathjax/output/chtml/fonts"
cp mj/package/es5/tex-chtml-full.js "$dest/mathjax/"
cp -r mj/package/es5/output/chtml/fonts/woff-v2 "$dest/mathjax/output/chtml/fonts/"
cp mj/package/LICENSE "$dest/mathjax/LICENSE"

{
  echo "Third-party files in this folder (fetched by book/vendor/update_widget_js.sh; do not edit)"
  echo
  echo "require.js    requirejs@${REQUIREJS}                       MIT License"
  echo "              https://github.com/requirejs/requirejs  (Copyright jQuery Foundation and other contributors)"
  echo "embed-amd.js  @jupyter-widgets/html-manager@${HTML_MANAGER}   BSD-3-Clause License"
  echo "              https://github.com/jupyter-widgets/ipywidgets  (Copyright Jupyter Development Team)"
  echo "              It bundles @jupyter-widgets/base, controls and output (BSD-3-Clause), Lumino and"
  echo "              JupyterLab packages (BSD-3-Clause), jQuery and jQuery UI (MIT), ajv (MIT),"
  echo "              semver (ISC), and Font Awesome Free 5 CSS (MIT). Licence headers of bundled code:"
  sed 's/^/                  /' hm/package/dist/embed.js.LICENSE.txt
  echo "*.woff2       Font Awesome Free 5 webfonts (from the html-manager package)   SIL OFL 1.1"
  echo "              https://fontawesome.com/license/free"
  echo "mathjax/      mathjax@${MATHJAX} (tex-chtml-full.js and its woff-v2 fonts)   Apache-2.0 License"
  echo "              https://github.com/mathjax/MathJax  (Copyright The MathJax Consortium; mathjax/LICENSE)"
  echo
  echo "The course's own ../widgets-config.js tells the bundle where this folder is, so the fonts (and"
  echo "any widget module that is not bundled) are looked up here, never on a CDN."
  echo
  echo "sha256:"
  (cd "$dest" && sha256sum require.js embed-amd.js $fonts mathjax/tex-chtml-full.js | sed 's/^/  /')
} > "$dest/LICENSES.txt"

rm -rf "$mapper_dest"
mkdir -p "$mapper_dest"
sed -e '/^\/\/# sourceMappingURL=/d' d3/package/dist/d3.min.js > "$mapper_dest/d3.min.js"
sed -e '/^\/\/# sourceMappingURL=/d' fs/package/dist/FileSaver.min.js > "$mapper_dest/FileSaver.min.js"
{
  echo "Third-party files in this folder (fetched by book/vendor/update_widget_js.sh; do not edit)"
  echo
  echo "d3.min.js         d3@${D3}           ISC License (Copyright 2010-2020 Mike Bostock)"
  echo "FileSaver.min.js  file-saver@${FILESAVER}   MIT License (Copyright 2016 Eli Grey)"
  echo
  echo "course_lib.mapper.page inlines both into the interactive Mapper page, so it loads nothing"
  echo "from a CDN. Licence texts:"
  echo
  cat d3/package/LICENSE
  echo
  cat fs/package/LICENSE.md
  echo
  echo "sha256:"
  (cd "$mapper_dest" && sha256sum d3.min.js FileSaver.min.js | sed 's/^/  /')
} > "$mapper_dest/LICENSES.txt"

echo "vendored into $dest and $mapper_dest:"
du -ah "$dest" "$mapper_dest" | sort -k2
