#!/usr/bin/env node
/** The `netguard` command: one entry point, one module per subcommand. */

interface Subcommand {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const subcommands: Record<string, Subcommand> = {
  check: { summary: "check NetworkPolicy files offline (CI)", load: () => import("./check.js") },
  audit: { summary: "audit a live cluster's Namespaces and NetworkPolicies (read-only)", load: () => import("./audit.js") },
  serve: { summary: "run the admission webhook server (HTTPS)", load: () => import("./serve.js") },
  "describe-cluster": { summary: "print this cluster as a remoteClusters[] entry for its peers (read-only)", load: () => import("./describe-cluster.js") },
  certs: { summary: "generate a CA, a serving certificate and the webhook configurations", load: () => import("./certs.js") },
};

function usage(): string {
  const width = Math.max(...Object.keys(subcommands).map((n) => n.length));
  const lines = Object.entries(subcommands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: netguard <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun 'netguard <command> --help' for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = subcommands[name];
  if (!command) {
    process.stderr.write(`netguard: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`netguard: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
