// A second tap while the first is on its way is ignored: one tap, one record.
document.querySelectorAll("form.once").forEach(function (f) {
  f.addEventListener("submit", function (e) {
    if (f.dataset.sent) { e.preventDefault(); return; }
    f.dataset.sent = "1";
  });
});
