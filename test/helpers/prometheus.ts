/** The value of one unlabelled (or exactly labelled) sample in a Prometheus text exposition, or undefined. */
export function metricValue(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

/** The sum of every sample of `name` whose labels include all of `having` (e.g. 'kind="NetworkPolicy"'). */
export function metricSum(text: string, name: string, having: readonly string[] = []): number {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) && having.every((h) => l.includes(h)))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}
