// A long form (an import of thousands of rows): say that the work is under way once it is sent,
// and keep the button from being pressed twice. Without JavaScript the form works the same.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var id = form.getAttribute("data-busy");
  if (!id) return;
  var note = document.getElementById(id);
  if (note) note.hidden = false;
  form.querySelectorAll("button[type=submit]").forEach(function (button) {
    button.setAttribute("aria-disabled", "true");
    button.addEventListener("click", function (e) { e.preventDefault(); });
  });
});
