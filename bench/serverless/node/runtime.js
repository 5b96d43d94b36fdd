'use strict';
// One local function instance in Node.js (the twin of bench/serverless/runtime.py):
// `node runtime.js NAME CONFIG` initialises the function from the JSON config file, prints
// one line `READY {"port": P, "parts": {...}}`, then serves POST /invoke on 127.0.0.1:P,
// one request at a time (concurrency comes from more instances). An init that fails prints
// `INIT-FAILED <error>` and exits 1, which the front reports as a failed cold start.

const start = process.hrtime.bigint();
const fs = require('fs');
const http = require('http');
const {FUNCTIONS} = require('./functions');

function reply(res, status, doc) {
  const data = Buffer.from(JSON.stringify(doc));
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': data.length});
  res.end(data);
}

async function main(argv) {
  const [name, configPath] = argv;
  let fn;
  try {
    if (!Object.hasOwn(FUNCTIONS, name)) throw new Error(`no function '${name}'`);
    fn = await new FUNCTIONS[name](JSON.parse(fs.readFileSync(configPath, 'utf8'))).init();
  } catch (e) {
    process.stdout.write(`INIT-FAILED ${e.name}: ${e.message}\n`, () => process.exit(1));
    return;
  }
  const parts = {total_ms: Math.round(Number(process.hrtime.bigint() - start) / 1000) / 1000,
                 ...fn.parts, runtime: `node ${process.version}`};
  let queue = Promise.resolve();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      queue = queue.then(async () => { // one at a time, as the Python instance
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
          const [status, doc] = await fn.handle(
            body && typeof body === 'object' && !Array.isArray(body) ? body : {});
          reply(res, status, doc);
        } catch (e) { // a function error is a 500, the instance lives on
          reply(res, 500, {error: `${e.name}: ${e.message}`});
        }
      });
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`READY ${JSON.stringify({port: server.address().port, parts})}\n`);
  });
}

main(process.argv.slice(2));
