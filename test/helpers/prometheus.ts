/** The value of one unlabelled (or exactly labelled) sample in a Prometheus text exposition, or undefined. */
export function metricValue(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
  return line === undefined ? undefined : Number(line.split(" ").pop());
}
