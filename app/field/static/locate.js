// The phone's location fills the coordinates only when the user taps and allows it.
(function () {
  var b = document.getElementById("locate");
  if (!("geolocation" in navigator)) return;
  b.hidden = false;
  b.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (p) {
      document.getElementById("latitude").value = p.coords.latitude.toFixed(6);
      document.getElementById("longitude").value = p.coords.longitude.toFixed(6);
    }, function () { document.getElementById("locate-status").textContent = b.dataset.failed; },
    { enableHighAccuracy: true, timeout: 15000 });
  });
})();
