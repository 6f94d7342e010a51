// Copy-to-clipboard buttons: <button class="copy" data-copy="ID" hidden>
// copies the value of the element with that id. Without JavaScript the
// buttons stay hidden and the value can be selected by hand.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    var field = document.getElementById(b.dataset.copy);
    if (!field || !navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = "Copy"; }, 2000);
      }, function () {
        field.select();
        b.textContent = "Select and copy";
      });
    });
  });
});

// Client form: show only the settings of the selected authentication
// method (<fieldset data-method="...">). Without JavaScript every section
// stays visible and the server ignores the settings of other methods.
document.addEventListener("DOMContentLoaded", function () {
  var radios = document.querySelectorAll('input[name="method"]');
  var sections = document.querySelectorAll("fieldset[data-method]");
  if (!radios.length || !sections.length) return;
  function sync() {
    var checked = document.querySelector('input[name="method"]:checked');
    sections.forEach(function (s) { s.hidden = !checked || s.dataset.method !== checked.value; });
  }
  radios.forEach(function (r) { r.addEventListener("change", sync); });
  sync();
});
