#!/usr/bin/env node
'use strict';
require('./run')('dist/src/cli/main.js');
