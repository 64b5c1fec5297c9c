#!/usr/bin/env node
// The command line runs from the esbuild bundle (scripts/build.mjs): each command is a chunk loaded when it runs.
import { main } from '../dist/cli/linkface.mjs';

process.exitCode = await main(process.argv);
