'use strict';
// Cloud Run entry point: an HTTP server on $PORT serving POST /fn/<name> (node's own http,
// no framework to load at cold start; the service sends one request per instance).

const http = require('http');
const {call} = require('./adapter');

function serve(port) {
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || !req.url.startsWith('/fn/')) {
      res.writeHead(404).end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      let status; let answer; let headers;
      try {
        [status, answer, headers] = await call(Buffer.concat(chunks), req.url);
      } catch (e) {
        [status, answer, headers] = [500, {error: `${e.name}: ${e.message}`}, {}];
      }
      const data = Buffer.from(JSON.stringify(answer));
      res.writeHead(status, {'Content-Type': 'application/json', ...headers,
                             'Content-Length': data.length});
      res.end(data);
    });
  });
  return server.listen(Number(process.env.PORT || '8080'));
}

if (require.main === module) serve();

module.exports = {serve};
