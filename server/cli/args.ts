import { parseArgs, type ParseArgsConfig } from "node:util";

/** A subcommand's name and usage text: usage errors print both and exit 2. */
export class Command {
  constructor(
    readonly name: string,
    readonly usage: string,
  ) {}

  usageError(message: string): number {
    process.stderr.write(`netguard ${this.name}: ${message}\n\n${this.usage}`);
    return 2;
  }

  /**
   * The parsed command line, or the exit code when there is nothing more to do: 2 after a usage error,
   * 0 after printing the usage for --help.
   */
  parse<T extends ParseArgsConfig & { options: { help: { type: "boolean" } } }>(config: T): ReturnType<typeof parseArgs<T>> | number {
    let parsed: ReturnType<typeof parseArgs<T>>;
    try {
      parsed = parseArgs(config);
    } catch (error) {
      return this.usageError(error instanceof Error ? error.message : String(error));
    }
    if ((parsed.values as { help?: boolean }).help) {
      process.stdout.write(this.usage);
      return 0;
    }
    return parsed;
  }
}
