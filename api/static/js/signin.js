// The sign-in page: the one-time link carries its token in the fragment (never sent to any
// server); put it in the form, drop it from the address bar, and post the form once.
(function () {
  "use strict";
  var form = document.getElementById("signin-form");
  var field = document.getElementById("token");
  var token = location.hash.replace(/^#/, "");
  if (!form || !field || !token) return;
  history.replaceState(null, "", location.pathname + location.search);
  if (document.getElementById("signin-error")) return; // a refused link: do not loop
  field.value = decodeURIComponent(token);
  form.submit();
})();
