'use strict';
// Azure Functions entry point (Node.js v4 programming model): one HTTP trigger,
// POST /api/fn/{name}; both functions are packed and the route's name picks one.

const {app} = require('@azure/functions');
const {call} = require('../../adapter');

app.http('invoke', {
  methods: ['POST'],
  authLevel: 'anonymous',
  route: 'fn/{name}',
  handler: async (request) => {
    const [status, answer, headers] = await call(await request.text(),
                                                 `/fn/${request.params.name || ''}`);
    return {status, jsonBody: answer, headers};
  },
});
