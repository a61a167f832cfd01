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
