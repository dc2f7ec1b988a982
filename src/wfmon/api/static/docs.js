// Swagger UI for /api/openapi.json; "try it out" sends the session's CSRF token.
let csrf = null;
fetch("/api/v1/auth/session", { credentials: "same-origin" })
  .then((r) => (r.ok ? r.json() : null))
  .then((s) => { csrf = s && s.csrf_token; })
  .catch(() => {});

window.addEventListener("load", () => {
  window.ui = window.SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    requestInterceptor: (request) => {
      if (csrf) request.headers["X-CSRF-Token"] = csrf;
      return request;
    },
  });
});
