// Starts Swagger UI on /api/docs from the package's own copy (static/swagger-ui/), reading
// the spec URL from the page, so the page needs no inline script under the site's CSP.
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
