// The type of validate.generated.mjs, ajv's standalone validator of schema/spec.schema.json (written by
// compiler/spec/gen-types.ts): an ajv validate function, which fills in defaults and sets `.errors`.
import type { ValidateFunction } from "ajv/dist/2020.js";

declare const validate: ValidateFunction;
export default validate;
export { validate };
