// Dispatches `edgecap <command> ...` to the command modules in cli/commands/.
import { parseArgs } from "node:util";
import { EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UsageError } from "./command.ts";
import { commands } from "./commands/index.ts";
import { OutputFileError } from "./output-file.ts";

function printHelp(summaries: [string, string][]): void {
  const lines = ["Usage: edgecap <command> [options]", "", "Commands:"];
  for (const [name, summary] of summaries) lines.push(`  ${name.padEnd(12)} ${summary}`);
  lines.push("", "Run `edgecap <command> --help` for the options of one command.");
  console.log(lines.join("\n"));
}

export async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({
    args: argv.slice(0, 1),
    strict: false,
    allowPositionals: true,
  });
  const name = positionals[0];

  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const summaries: [string, string][] = [];
    for (const [commandName, load] of Object.entries(commands)) {
      summaries.push([commandName, (await load()).summary]);
    }
    printHelp(summaries);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }

  const load = commands[name];
  if (load === undefined) {
    console.error(
      `edgecap: unknown command "${name}". Known commands: ${Object.keys(commands).join(", ")}.`,
    );
    return EXIT_USAGE;
  }

  const command = await load();
  const rest = argv.slice(1);
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.usage);
    return EXIT_OK;
  }

  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`edgecap ${name}: ${error.message}\n\n${command.usage}`);
      return EXIT_USAGE;
    }
    if (error instanceof OutputFileError) {
      console.error(`edgecap ${name}: ${error.message}`);
      return EXIT_USAGE;
    }
    console.error(
      `edgecap ${name}: internal error: ${error instanceof Error ? error.stack : String(error)}`,
    );
    return EXIT_INTERNAL;
  }
}
