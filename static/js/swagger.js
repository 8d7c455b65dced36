// The API explorer: Swagger UI over our OpenAPI document (a file, not an inline script, so
// the Content-Security-Policy needs no 'unsafe-inline').
const root = document.getElementById('swagger-ui');
window.ui = SwaggerUIBundle({ url: root.dataset.specUrl, dom_id: '#swagger-ui', deepLinking: true });
