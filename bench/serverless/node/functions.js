'use strict';
// The functions a function site deploys, in JavaScript: `checkout` and `hello`.
//
// The same reference handler as bench/serverless/functions.py, statement for statement:
// checkout's init reads its configuration and opens a connection pool (the `pg` package)
// to the site's PostgreSQL, really connecting `pool_size` clients and checking the
// schema; each request runs the checkout queries in one transaction (price lookup, order
// insert, order line insert) and calls the site's downstream API (GET /quote); the answer
// is {order_id, total_cents, shipping}. `hello` does nothing on init and answers a
// constant: the baseline. Init parts are reported under the Python handler's names
// (import_ms, config_ms, db_connect_ms).

const http = require('http');

function ms(start) {
  return Math.round(Number(process.hrtime.bigint() - start) / 1000) / 1000;
}

// libpq keyword/value conninfo ("host='a' port=5432 ...", values optionally single-quoted
// with \\ and \' escapes) -> a pg client config. The password comes from the conninfo or,
// when absent, from PGPASSFILE (pg reads it through its `pgpass` dependency, as libpq).
// sslmode=require encrypts without verifying the server, as libpq's `require` does.
function parseConninfo(text) {
  const out = {};
  const re = /\s*([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|([^'\s]\S*))/gy;
  let m;
  let last = 0;
  while ((m = re.exec(text)) !== null) {
    out[m[1]] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    last = re.lastIndex;
  }
  if (text.slice(last).trim() !== '') {
    throw new Error(`conninfo: cannot parse from ${JSON.stringify(text.slice(last, last + 20))}`);
  }
  const config = {host: out.host, port: out.port ? Number(out.port) : undefined,
                  user: out.user, database: out.dbname, password: out.password};
  if (out.sslmode && out.sslmode !== 'disable' && out.sslmode !== 'allow') {
    config.ssl = {rejectUnauthorized: out.sslmode === 'verify-full' || out.sslmode === 'verify-ca'};
  }
  for (const key of Object.keys(config)) {
    if (config[key] === undefined) delete config[key];
  }
  return config;
}

function getJson(url, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, {timeout: timeoutMs}, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new Error(`downstream answered ${res.statusCode}`));
          return;
        }
        try { resolve(JSON.parse(Buffer.concat(chunks).toString())); } catch (e) { reject(e); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('downstream timed out')));
    req.on('error', reject);
  });
}

class Hello {
  constructor() { this.parts = {}; }
  async init() { return this; }
  async handle() { return [200, {message: 'hello'}]; }
}

class Checkout {
  constructor(config) { this.config = config; this.parts = {}; }

  async init() {
    let start = process.hrtime.bigint();
    const {Pool} = require('pg'); // a real cold start loads its driver
    this.parts.import_ms = ms(start);
    start = process.hrtime.bigint();
    this.downstream = String(this.config.downstream_url);
    const poolSize = Number(this.config.pool_size ?? 2);
    const conn = parseConninfo(String(this.config.conninfo));
    this.parts.config_ms = ms(start);
    start = process.hrtime.bigint();
    this.pool = new Pool({...conn, max: poolSize, idleTimeoutMillis: 0,
                          connectionTimeoutMillis: 30000});
    // open the whole pool now, as psycopg_pool's min_size does, then the service's check
    const clients = await Promise.all(Array.from({length: poolSize}, () => this.pool.connect()));
    try {
      await clients[0].query('SELECT 1 FROM products LIMIT 1');
    } finally {
      clients.forEach((c) => c.release());
    }
    this.parts.db_connect_ms = ms(start);
    return this;
  }

  async handle(body) {
    const customer = body.customer_id ?? 1 + Math.floor(Math.random() * 100000);
    const pid = body.product_id ?? 1 + Math.floor(Math.random() * 1000);
    const qty = body.quantity ?? 1;
    if (![customer, pid, qty].every((v) => Number.isInteger(v) && v > 0)) {
      return [400, {error: 'customer_id, product_id and quantity must be positive integers'}];
    }
    const client = await this.pool.connect();
    let total;
    let orderId;
    try {
      await client.query('BEGIN');
      const row = (await client.query(
        'SELECT id, price_cents FROM products WHERE id = ANY($1)', [[pid]])).rows[0];
      if (row === undefined) {
        await client.query('ROLLBACK');
        return [404, {error: `no product ${pid}`}];
      }
      total = row.price_cents * qty;
      orderId = (await client.query(
        'INSERT INTO orders (customer_id, total_cents) VALUES ($1, $2) RETURNING id',
        [customer, total])).rows[0].id;
      await client.query(
        'INSERT INTO order_lines (order_id, product_id, quantity, price_cents) ' +
        'VALUES ($1, $2, $3, $4)', [orderId, pid, qty, row.price_cents]);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
    const quote = await getJson(`${this.downstream}/quote?total=${total}`, 10000);
    return [201, {order_id: Number(orderId), total_cents: total, shipping: quote}];
  }
}

const FUNCTIONS = {checkout: Checkout, hello: Hello};

module.exports = {FUNCTIONS, parseConninfo};
