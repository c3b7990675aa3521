#!/usr/bin/env bun
// Entry point of the `bantico` executable.
import { runCli } from "./cli/index.ts";

const code = await runCli(process.argv.slice(2));
if (code !== 0) process.exit(code);
