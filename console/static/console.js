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
