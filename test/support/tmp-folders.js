'use strict';
// Temporary folders for the tests of one describe block: each call makes a fresh one under the system's temporary
// folder, and all of them are removed after the block.
const fs = require('fs');
const os = require('os');
const path = require('path');

/** Call inside a describe block; returns a function that makes a new folder named `<prefix>…`. */
function tmpFolders(prefix) {
  const folders = [];
  after(() => {
    for (const dir of folders) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    folders.push(dir);
    return dir;
  };
}

module.exports = { tmpFolders };
