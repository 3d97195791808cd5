// Starts the vendored Swagger UI on the OpenAPI document named by the page (no inline script,
// so the page runs under the site's Content-Security-Policy).
(function () {
  "use strict";
  var target = document.getElementById("reference");
  window.SwaggerUIBundle({
    url: target.getAttribute("data-spec-url"),
    domNode: target,
    deepLinking: true,
    tryItOutEnabled: false,
    validatorUrl: null,
    withCredentials: true
  });
}());
