#!/usr/bin/env node
'use strict';
// The command line runs from one bundle (scripts/build.mjs), compiled from a code cache when there is one (load.js).
const { main } = require('./load.js').loadCommandLine();

main(process.argv).then((code) => {
  process.exitCode = code;
});
