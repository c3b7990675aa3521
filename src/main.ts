#!/usr/bin/env bun
// Entry point of the `bantico` executable.
import { runCli } from "./cli/index.ts";

void runCli(process.argv.slice(2)).then((code) => {
  if (code !== 0) process.exit(code);
});
