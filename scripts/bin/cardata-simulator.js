#!/usr/bin/env node
'use strict';
require('./run')('dist/src/simulator/cli.js');
