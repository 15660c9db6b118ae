// Starts Swagger UI on this server's own schema. Kept out of the page so
// that the page's Content-Security-Policy can forbid inline scripts.
(function () {
  'use strict';

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) {
        return decodeURIComponent(parts[i].slice(eq + 1));
      }
    }
    return '';
  }

  var safe = { GET: true, HEAD: true, OPTIONS: true, TRACE: true };

  window.addEventListener('load', function () {
    window.ui = SwaggerUIBundle({
      url: '/schema/?format=json',
      dom_id: '#swagger-ui',
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: 'BaseLayout',
      // The default validator badge would load an image from swagger.io.
      validatorUrl: null,
      withCredentials: true,
      displayRequestDuration: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: 0,
      // Cookie-authenticated unsafe requests need the csrftoken cookie
      // echoed in X-CSRFToken (Django's double-submit check).
      requestInterceptor: function (req) {
        var method = (req.method || 'GET').toUpperCase();
        if (!safe[method]) {
          var token = cookie('csrftoken');
          if (token && !req.headers['X-CSRFToken']) {
            req.headers['X-CSRFToken'] = token;
          }
        }
        return req;
      }
    });
  });
})();
