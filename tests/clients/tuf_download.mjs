// Verifies and downloads targets with tuf-js's Updater, the reference client here for
// repositories made by eds-update-sign.
// Usage: node tuf_download.mjs METADATA_URL TARGET_BASE_URL TRUSTED_ROOT WORK_DIR NAME...
// Prints "<name> <sha256 of the downloaded file>" per target; exits 1 on any failure.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Updater } from 'tuf-js';

const [metadataBaseUrl, targetBaseUrl, trustedRoot, work, ...names] = process.argv.slice(2);
if (!work || names.length === 0) {
  console.error('usage: node tuf_download.mjs METADATA_URL TARGET_BASE_URL TRUSTED_ROOT WORK_DIR NAME...');
  process.exit(2);
}
const metadataDir = path.join(work, 'metadata');
const targetDir = path.join(work, 'targets');
fs.mkdirSync(metadataDir, { recursive: true });
fs.mkdirSync(targetDir, { recursive: true });
fs.copyFileSync(trustedRoot, path.join(metadataDir, 'root.json'));

try {
  const updater = new Updater({ metadataBaseUrl, metadataDir, targetDir, targetBaseUrl });
  await updater.refresh();
  for (const name of names) {
    const info = await updater.getTargetInfo(name);
    if (!info) throw new Error(`no target ${name}`);
    const file = await updater.downloadTarget(info);
    const digest = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    console.log(`${name} ${digest}`);
  }
} catch (err) {
  console.error(`tuf-js refused: ${err.message}`);
  process.exit(1);
}
