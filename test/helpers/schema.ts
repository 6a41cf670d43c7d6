import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";

const schema = JSON.parse(
  readFileSync(new URL("../../schema/doctor-report.schema.json", import.meta.url), "utf8"),
);
const ajv = new Ajv2020.default({ allErrors: true, strict: true });
const validate = ajv.compile(schema);

/** Throws with every schema error when `doc` is not a valid doctor report. */
export function assertValidReport(doc: unknown): void {
  if (!validate(doc)) throw new Error(`report does not match the schema: ${ajv.errorsText(validate.errors)}`);
}
