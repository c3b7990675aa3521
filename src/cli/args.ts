// Argument parsing shared by every command: flags before or after positionals, --json and --data everywhere.
import { parseArgs } from "node:util";

export class UsageError extends Error {}

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
}

const FLAGS = {
  json: { type: "boolean" },
  data: { type: "string" },
  help: { type: "boolean", short: "h" },
  name: { type: "string" },
  email: { type: "string" },
  password: { type: "string" },
  role: { type: "string" },
  project: { type: "string" },
  key: { type: "string" },
} as const;

export function parseCommandLine(argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
    return { positionals, flags: values };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function requireFlag(args: ParsedArgs, name: string): string {
  const value = args.flags[name];
  if (typeof value !== "string" || value.trim() === "") throw new UsageError(`--${name} is required`);
  return value;
}
