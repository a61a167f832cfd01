// The course's own script (served as _static/course.js; listed in _config.yml html_js_files).
// Tables in the text get their column headers copied onto each cell (data-label) and the class
// course-stacked, which course.css uses on narrow screens to show every row as a labelled card
// instead of cutting columns off at the right edge. Output tables (pandas) are left alone.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".bd-article table").forEach(function (table) {
    if (table.closest(".cell_output")) { return; }
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    if (!heads.length) { return; }
    table.classList.add("course-stacked");
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (heads[i]) { cell.setAttribute("data-label", heads[i]); }
      });
    });
  });
});

// Figures narrower on screen than their own size (a phone shows a 670-px figure 360 px wide):
// tapping one shows it at full size, scrolling sideways inside its output; tapping again fits it
// back. The figures carry twice (sliders 1.5 times) the pixels they need, so the full-size view is sharp.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".bd-content div.cell_output img").forEach(function (img) {
    img.classList.add("course-zoomable");
    img.addEventListener("click", function () {
      var zoomed = img.classList.toggle("course-zoomed");
      if (!zoomed) { return; }
      // the nearest output area scrolls sideways to show the full-size figure
      var box = img.closest(".output, .cell_output");
      if (box) { box.classList.add("course-zoom-box"); }
    });
  });
});
