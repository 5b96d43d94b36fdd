'use strict';
// The one adapter every platform's entry point calls: init once per instance, then handle.
// The JavaScript twin of bench/serverless/entry/adapter.py: the same environment
// (BAKEOFF_FUNCTION, BAKEOFF_CONNINFO, BAKEOFF_DOWNSTREAM_URL, BAKEOFF_POOL_SIZE), the
// same path rule ('/fn/hello' -> hello), the same headers (X-Bakeoff-Cold,
// X-Bakeoff-Init-Ms, X-Bakeoff-Init-Parts), so the cold-start probe reads both alike.

const {FUNCTIONS} = require('./functions');

const instances = {};
const initMs = {};

function config() {
  return {conninfo: process.env.BAKEOFF_CONNINFO || '',
          downstream_url: process.env.BAKEOFF_DOWNSTREAM_URL || '',
          pool_size: Number(process.env.BAKEOFF_POOL_SIZE || '2')};
}

function functionOf(path) {
  const tail = (path || '').replace(/\/+$/, '').split('/fn/');
  const name = tail.length >= 2 ? tail[tail.length - 1] : '';
  return name || process.env.BAKEOFF_FUNCTION || 'hello';
}

async function call(bodyText, path) {
  const name = functionOf(path);
  if (!Object.hasOwn(FUNCTIONS, name)) {
    return [404, {error: `no function '${name}'`}, {}];
  }
  const cold = !(name in instances);
  if (cold) {
    const start = process.hrtime.bigint();
    instances[name] = await new FUNCTIONS[name](config()).init();
    initMs[name] = Math.round(Number(process.hrtime.bigint() - start) / 1000) / 1000;
  }
  const instance = instances[name];
  let body;
  try {
    body = JSON.parse(bodyText && bodyText.length ? bodyText.toString() : '{}');
  } catch (e) {
    return [400, {error: 'body is not JSON'}, {}];
  }
  const [status, answer] = await instance.handle(
    body && typeof body === 'object' && !Array.isArray(body) ? body : {});
  const headers = {'X-Bakeoff-Cold': cold ? '1' : '0',
                   'X-Bakeoff-Init-Ms': String(cold ? initMs[name] : 0),
                   'X-Bakeoff-Init-Parts': JSON.stringify(cold ? instance.parts : {})};
  return [status, answer, headers];
}

module.exports = {call, config, functionOf};
