// The meeting form: "添加一行" adds an empty item row (a copy of the last one, its values cleared).
(function () {
  "use strict";
  var button = document.getElementById("add-item");
  var table = document.getElementById("items-table");
  if (!button || !table) { return; }
  button.addEventListener("click", function () {
    var rows = table.querySelectorAll("tbody tr.item-row");
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    var n = rows.length;
    copy.setAttribute("data-row", String(n));
    copy.querySelectorAll("input, select").forEach(function (el) {
      if (el.id) { el.id = el.id.replace(/-\d+$/, "-" + n); }
      if (el.tagName === "INPUT") { el.value = ""; }
    });
    last.parentNode.appendChild(copy);
    var title = copy.querySelector("input[name='item_title[]']");
    if (title) { title.focus(); }
  });
}());
