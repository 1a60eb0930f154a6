// The mass balance of a split or a transformation, worked out as the farmer types: what goes in,
// what comes out, the loss, and what the lot keeps, in the farmer's unit. The server checks again.
(function () {
  "use strict";
  var form = document.getElementById("split-form") || document.getElementById("transform-form");
  if (!form) return;
  var kind = form.getAttribute("data-kind");
  var remaining = parseFloat(form.getAttribute("data-remaining"));
  var unitSelect = form.querySelector(".balance-unit");
  function figure(input) {
    var text = (input.value || "").replace(/[,，\s]/g, "");
    if (!/^[0-9]+(\.[0-9]+)?$/.test(text)) return null;
    return parseFloat(text);
  }
  function plain(n) { return String(Math.round(n * 1000) / 1000); }
  function chosen(select) { return select.options[select.selectedIndex]; }
  function show(id, n, unit) { document.getElementById(id).textContent = n === null ? "—" : plain(n) + " " + unit; }
  function update() {
    var unit = chosen(unitSelect);
    var label = unit.textContent.trim();
    var left = remaining / parseFloat(unit.getAttribute("data-factor"));
    var inputs = 0, outputs = null, loss = null;
    if (kind === "split") {
      form.querySelectorAll(".balance-in").forEach(function (i) { var n = figure(i); if (n !== null) inputs += n; });
      outputs = inputs; loss = 0;
    } else {
      inputs = figure(form.querySelector(".balance-in")) || 0;
      var made = figure(form.querySelector(".balance-out"));
      var madeUnit = chosen(form.querySelector(".balance-out-unit"));
      if (made !== null && madeUnit.getAttribute("data-kind") === unit.getAttribute("data-kind")) {
        outputs = made * parseFloat(madeUnit.getAttribute("data-base")) / parseFloat(unit.getAttribute("data-base"));
        loss = inputs - outputs;
      }
    }
    show("balance-inputs", inputs, label);
    show("balance-outputs", outputs, label);
    show("balance-loss", loss, label);
    show("balance-stays", left - inputs, label);
    document.getElementById("balance-over").hidden = !(inputs > left + 1e-9);
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  var more = document.getElementById("more-parts");
  if (more) more.addEventListener("click", function () {
    var next = form.querySelector(".part[hidden]");
    if (next) { next.hidden = false; next.querySelector("input").focus(); }
    if (!form.querySelector(".part[hidden]")) more.hidden = true;
  });
  update();
})();
