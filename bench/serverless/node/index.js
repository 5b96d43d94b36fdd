'use strict';
// AWS Lambda entry point (handler `index.handler`) behind a function URL: a payload-format
// 2.0 event (`body`, possibly base64) in, {statusCode, headers, body} out.

const {call} = require('./adapter');

exports.handler = async (event) => {
  let body = event.body || '';
  if (event.isBase64Encoded) body = Buffer.from(body, 'base64').toString();
  const [status, answer, headers] = await call(body, event.rawPath);
  return {statusCode: status, headers: {'Content-Type': 'application/json', ...headers},
          body: JSON.stringify(answer)};
};
