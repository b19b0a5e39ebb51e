// The error page's Back link goes back in the browser's history (so a form
// keeps what was typed); without script it opens the report form.
"use strict";
for (const a of document.querySelectorAll("a[data-back]")) {
  a.addEventListener("click", (e) => {
    if (history.length > 1) {
      e.preventDefault();
      history.back();
    }
  });
}
