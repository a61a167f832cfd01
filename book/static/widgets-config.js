/* The course's ipywidgets set-up for the static book. myst-nb loads it on pages whose notebook
 * carries widget state, after vendor/require.js and before vendor/embed-amd.js (_config.yml,
 * nb_ipywidgets_js). Everything lives in _static/vendor/ (book/vendor/update_widget_js.sh).
 *
 * 1. Where things are. embed-amd.js defines AMD modules named "@jupyter-widgets/base",
 *    "@jupyter-widgets/controls", "@jupyter-widgets/html-manager/dist/libembed-amd", ... Each
 *    bundle finds its webfonts (Font Awesome, for widget icons) next to the URL RequireJS gives
 *    its module name, which by default is relative to the *page*, so the fonts 404 on every page
 *    but the root. We set RequireJS's baseUrl to vendor/ and map those names onto vendor/ itself,
 *    where the fonts are.
 * 2. No CDN. Widget modules the bundle lacks (anything beyond base, controls and output) are
 *    looked up at baseUrl/<name>.js and then at the data-jupyter-widgets-cdn prefix set on
 *    embed-amd.js's script tag, "widget-modules/", which RequireJS also resolves against baseUrl:
 *    both inside the book. An unvendored third-party widget fails with a local 404, and nothing is
 *    fetched from jsdelivr.
 * 3. MathJax. The bundled widgets typeset their labels with MathJax 2's MathJax.Hub.Queue; the
 *    book loads MathJax 3 on pages with math, which has no Hub, so every rendered widget would
 *    throw. A tiny Hub.Queue that forwards to MathJax 3's typesetPromise fixes that.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) {
    return;
  }
  var vendor = new URL("vendor/", script.src).href;

  if (typeof window.requirejs === "function" && window.requirejs.config) {
    window.requirejs.config({
      baseUrl: vendor,
      paths: {
        "@jupyter-widgets/html-manager/dist": ".",
        "@jupyter-widgets": ".",
      },
    });
  } else {
    console.error("course widgets: vendor/require.js must load before widgets-config.js");
  }

  function installHubShim() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) {
      return;
    }
    mj.Hub = {
      Queue: function (command) {
        var element = command && command[2];
        var m = window.MathJax;
        if (!element || !m || typeof m.typesetPromise !== "function") {
          return;
        }
        var ready = m.startup && m.startup.promise ? m.startup.promise : Promise.resolve();
        ready
          .then(function () {
            return m.typesetPromise([element]);
          })
          .catch(function (err) {
            console.error("course widgets: MathJax typesetting failed", err);
          });
      },
    };
  }
  // MathJax 3 replaces window.MathJax when its (deferred) script runs; widgets render on
  // window "load", after that. Install on DOMContentLoaded, and again on load to be safe.
  document.addEventListener("DOMContentLoaded", installHubShim);
  window.addEventListener("load", installHubShim);
})();
