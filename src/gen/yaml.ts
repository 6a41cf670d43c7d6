/** YAML output for compose and Kubernetes: built with the `yaml` package, never by string concatenation. */
import { Document, isScalar, visit } from "yaml";

/** Strings a YAML 1.1 reader (older compose, kubectl's go-yaml) would read as numbers, booleans or null. */
const AMBIGUOUS = /^(?:[-+]?(?=.*[0-9])[0-9._:]+|[-+]?\.(?:inf|nan)|[yn]|yes|no|on|off|true|false|null|~|)$/i;

/** One YAML document; ambiguous strings double-quoted; `header` lines become # comments. */
export function yamlDocument(value: unknown, header?: string): string {
  const doc = new Document(value, { aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(key, node) {
      if (key !== "key" && typeof node.value === "string" && AMBIGUOUS.test(node.value))
        node.type = "QUOTE_DOUBLE";
    },
    Pair(_, pair) {
      if (isScalar(pair.key)) pair.key.type = "PLAIN";
    },
  });
  if (header) doc.commentBefore = header.replace(/^/gm, " ");
  return doc.toString({ lineWidth: 0 });
}
