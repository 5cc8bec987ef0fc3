// A picker that changes submits its form (the "you are" picker, Slack's user and overflow menus).
// No inline script anywhere: the Content-Security-Policy allows only files of ours.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.value) { select.form.requestSubmit(); }
    });
  });
})();
