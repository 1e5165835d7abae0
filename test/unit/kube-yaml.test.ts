/**
 * The manifest reader reads YAML as kubectl does (go-yaml v2, YAML 1.1). Each expectation here was
 * checked against kubectl v1.34's `create --dry-run=client -o json`; the differential test
 * (test/differential) keeps checking the whole corpus against the real kubectl.
 */
import t from "tap";
import { parseObjects } from "../../server/cli/documents.js";
import { decodeManifests } from "../../server/cli/kube-yaml.js";
import { formatFloat32, resolvePlain } from "../../server/cli/yaml11-scalars.js";

const valueOf = (text: string): unknown => {
  const { documents, problems } = decodeManifests(text);
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join("; "));
  return documents[0]?.value;
};

t.test("YAML 1.1 scalars as go-yaml v2 resolves them", async (t) => {
  const cases: [string, unknown][] = [
    ["010", 8], ["08", 8], ["0b1010000", 80], ["1_000", 1000], ["0x1F", 31], ["0o17", 15], ["+12", 12], ["-0b11", -3], ["1e3", 1000],
    [".5", 0.5], ["1.0", 1], ["yes", true], ["No", false], ["on", true], ["OFF", false], ["y", true], ["n", false], ["yES", "yES"],
    ["~", null], ["", null], ["NULL", null], ["2024-01-01", "2024-01-01"], ["1e400", "1e400"], ["99999999999999999999", 1e20],
    ["http", "http"], ["<<", "<<"], ["._5", "._5"], [".5_5", 0.55],
  ];
  for (const [text, value] of cases) t.same(resolvePlain(text).value, value, `${JSON.stringify(text)} is ${JSON.stringify(value)}`);
  t.same(valueOf("a: '010'\nb: !!str 010\nc: !!int '10'\nd: ! 010\ne: |\n  010\n"), { a: "010", b: "010", c: 10, d: "010", e: "010\n" });
});

t.test("map keys become the strings sigs.k8s.io/yaml makes of them", async (t) => {
  t.same(valueOf("{y: a, on: b, 010: c, 0x1F: d, 1.50: e, 1e7: f, 0.1: g, 2024-01-01: h}"), {
    true: "b", 8: "c", 31: "d", "1.5": "e", "1e+07": "f", "0.1": "g", "2024-01-01": "h",
  });
  t.equal(formatFloat32(123456), "123456");
  t.equal(formatFloat32(1234567), "1.234567e+06");
  t.equal(formatFloat32(0.00001), "1e-05");
  for (const [text, message] of [["{~: a}", /<nil>/], ["{18446744073709551615: a}", /uint64/], ["{[a]: b}", /invalid map key/]] as const) {
    t.match(decodeManifests(text).problems, [{ line: 1, message }], text);
  }
});

t.test("merge keys apply in document order; duplicate keys: the last one wins", async (t) => {
  t.same(valueOf("base: &b {a: 1, c: 1}\nafter:\n  c: 2\n  <<: *b\nbefore:\n  <<: *b\n  c: 2\nlist:\n  <<: [{a: 1}, {a: 2, d: 3}]\n"), {
    base: { a: 1, c: 1 },
    after: { a: 1, c: 1 },
    before: { a: 1, c: 2 },
    list: { a: 1, d: 3 },
  });
  t.same(valueOf("a: 1\na: 2\n"), { a: 2 });
  t.same(valueOf("'<<': {a: 1}\n"), { "<<": { a: 1 } }, "a quoted << is an ordinary key");
  t.match(decodeManifests("a: 1\n<<: 2\n").problems, [{ line: 2, message: /map merge requires map/ }]);
});

t.test("what kubectl refuses is a problem with its line, never a crash", async (t) => {
  const cases: [string, number, RegExp][] = [
    ["a: *nope\n", 1, /unknown anchor 'nope'/],
    ["a: &x [*x]\n", 1, /contains itself/],
    ["a: 1\nb: .nan\n", 2, /JSON/],
    ["a: {b: ::/0}\n", 1, /cannot start with ':'/],
    ["a: 1\n--- junk\nb: 2\n", 2, /invalid document separator/],
    ["a:\n\tb: 1\n", 2, /Tabs/],
  ];
  for (const [text, line, message] of cases) t.match(decodeManifests(text).problems, [{ line, message }], JSON.stringify(text));
  const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`).join("\n")}\n`;
  t.match(decodeManifests(bomb).problems, [{ message: /excessive aliasing/ }], "an alias bomb stops early");
  t.same(decodeManifests("a: ::/0\n").problems, [], "outside [ ] and { } a value may start with ':'");
});

t.test("documents: split on --- lines, empty ones dropped, lists and scalars refused", async (t) => {
  const { objects, problems } = parseObjects("--- # first\nkind: A\n---\n# nothing\n---\n- a\n---\nhello\n---\nkind: B\n", "f.yaml");
  t.same(objects.map((o) => [(o.object as { kind: string }).kind, o.line]), [["A", 2], ["B", 10]]);
  t.match(problems, [
    { source: "f.yaml", line: 6, message: /a list, not a Kubernetes object/ },
    { source: "f.yaml", line: 8, message: /a string, not a Kubernetes object/ },
  ]);
  const crlf = parseObjects("kind: A\r\nmetadata:\r\n  name: x\r\n", "f.yaml");
  t.same(crlf.objects[0]?.object, { kind: "A", metadata: { name: "x" } });
  t.equal(crlf.objects[0]?.lineOf("metadata.name"), 3);
});
