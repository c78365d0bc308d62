'use strict';
// Loaded into n8n with `node --require` (see traceModules in n8n-packages.js): appends to the file named by
// N8N_MODULE_TRACE where Node.js found each module that a file of the BMW CarData packages requires by name, once
// per module and package: `<package> <module> <resolved file>`.
const fs = require('fs');
const Module = require('module');

const trace = process.env.N8N_MODULE_TRACE;
const seen = new Set();
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const resolved = resolve.call(this, request, parent, ...rest);
  const from = parent && parent.filename && /[\\/]node_modules[\\/](n8n-nodes-bmw-cardata[^\\/]*)[\\/]/.exec(parent.filename);
  if (trace && from && !request.startsWith('.') && !Module.isBuiltin(request) && !seen.has(`${from[1]} ${request}`)) {
    seen.add(`${from[1]} ${request}`);
    fs.appendFileSync(trace, `${from[1]} ${request} ${resolved}\n`);
  }
  return resolved;
};
