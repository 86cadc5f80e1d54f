// Posts FHIR transaction/batch Bundle files to the box with fhir-kit-client and prints one JSON
// line per file: {"file", "status", "entries", "created", "outcome"}. Trusts the box's
// certificate through NODE_EXTRA_CA_CERTS.
// Usage: node post_fhir.mjs BASE_URL TOKEN FILE...
import { readFileSync } from 'node:fs';
import Client from 'fhir-kit-client';

const [baseUrl, token, ...files] = process.argv.slice(2);
const client = new Client({ baseUrl, bearerToken: token });

for (const file of files) {
  const line = { file };
  try {
    const body = JSON.parse(readFileSync(file, 'utf8'));
    const response = body.type === 'batch' ? await client.batch({ body })
                                            : await client.transaction({ body });
    line.status = 200;
    line.entries = (response.entry || []).length;
    line.created = (response.entry || []).filter((e) => /^20[01]/.test(e.response.status)).length;
  } catch (e) {
    line.status = e.response && e.response.status ? e.response.status : 0;
    line.outcome = e.response && e.response.data ? e.response.data : String(e.message || e);
  }
  process.stdout.write(JSON.stringify(line) + '\n');
}
