// recto serve: sorting and filtering the library table, the viewer's box
// toggle and arrow keys. No framework, nothing loaded from elsewhere.
(function () {
  "use strict";
  var table = document.getElementById("library");
  if (table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var filter = document.getElementById("filter");
    var count = document.getElementById("count");
    // The rows past the first screenful, fetched after the first paint.
    if (body.dataset.more) {
      fetch(body.dataset.more).then(function (r) { return r.text(); }).then(function (html) {
        body.insertAdjacentHTML("beforeend", html);
        rows = Array.prototype.slice.call(body.rows);
        body.dataset.more = "";
        body.dataset.loaded = "1";
        if (filter.value) filter.dispatchEvent(new Event("input"));
      });
    } else {
      body.dataset.loaded = "1";
    }
    filter.addEventListener("input", function () {
      var q = filter.value.toLowerCase(), shown = 0;
      rows.forEach(function (r) {
        var hit = r.textContent.toLowerCase().indexOf(q) !== -1;
        r.style.display = hit ? "" : "none";
        if (hit) shown++;
      });
      count.textContent = shown + " of " + rows.length + " citekeys";
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.addEventListener("click", function () {
        var asc = !th.classList.contains("asc");
        Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var num = th.dataset.sort === "num";
        rows.sort(function (a, b) {
          var x = a.cells[i].textContent.trim(), y = b.cells[i].textContent.trim();
          var d = num ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
          return asc ? d : -d;
        });
        rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
      });
    });
  }
  var toggle = document.getElementById("toggle");
  if (toggle) {
    toggle.addEventListener("change", function () { document.body.classList.toggle("noboxes", !toggle.checked); });
    document.addEventListener("keydown", function (e) {
      if (e.target.tagName === "INPUT") return;
      var a = document.getElementById(e.key === "ArrowLeft" ? "prev" : e.key === "ArrowRight" ? "next" : "");
      if (a && a.getAttribute("aria-disabled") !== "true") location.href = a.href;
    });
    var hit = document.querySelector(".boxes .hit");
    if (hit) hit.scrollIntoView({ block: "center" });
  }
})();
