// Makes TUF repositories with @tufjs/models (Ed25519 through node:crypto), for the update
// client's interoperability tests: one valid repository and one per attack of the TUF threat
// model. Usage: node tuf_make_repos.mjs OUT_DIR
// Writes OUT_DIR/<scenario>/trusted_root.json and OUT_DIR/<scenario>/<step>/{metadata,targets}:
// a client starts from the trusted root and refreshes against each step in turn.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tufModels from '@tufjs/models';

// Roles and delegations are not exported by name: they are made through fromJSON.
const { Key, Metadata, MetaFile, Root, Signature, Snapshot, TargetFile, Targets, Timestamp } = tufModels;

const SPEC = '1.0.31';
const DAY = 86400 * 1000;
const expiresIn = (ms) => new Date(Date.now() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

// Named keys shared by all scenarios.
const keys = {};
function key(name) {
  if (!keys[name]) {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url').toString('hex');
    // The key id is the SHA-256 of the key's canonical JSON (written here in sorted order).
    const keyID = sha256(`{"keytype":"ed25519","keyval":{"public":"${pub}"},"scheme":"ed25519"}`);
    keys[name] = {
      keyID,
      key: new Key({ keyID, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: pub } }),
      sign: (data) => new Signature({ keyID, sig: crypto.sign(null, data, privateKey).toString('hex') }),
    };
  }
  return keys[name];
}

function signed(obj, signers) {
  const md = new Metadata(obj);
  for (const name of signers) md.sign(key(name).sign);
  return JSON.stringify(md.toJSON());
}

// roles: {root: [names], timestamp: [...], snapshot: [...], targets: [...]}
function makeRoot(version, roles, thresholds = {}, expires = expiresIn(365 * DAY), consistent = true) {
  const allKeys = {};
  const roleMap = {};
  for (const [role, names] of Object.entries(roles)) {
    for (const n of names) allKeys[key(n).keyID] = key(n).key.toJSON();
    roleMap[role] = { keyids: names.map((n) => key(n).keyID), threshold: thresholds[role] ?? 1 };
  }
  return Root.fromJSON({
    _type: 'root', spec_version: SPEC, version, expires, keys: allKeys, roles: roleMap,
    consistent_snapshot: consistent,
  });
}

const ROLES1 = { root: ['root1'], timestamp: ['ts1'], snapshot: ['snap1'], targets: ['targets1'] };
const PACK = Buffer.from('{"pack":"interop","version":"1.0.0"}');

// A complete repository. `s` says what differs from a valid one.
function build(dir, s) {
  const meta = path.join(dir, 'metadata');
  const tdir = path.join(dir, 'targets');
  fs.mkdirSync(meta, { recursive: true });
  fs.mkdirSync(tdir, { recursive: true });
  for (const r of s.roots) fs.writeFileSync(path.join(meta, `${r.version}.root.json`), r.bytes);
  const current = s.roots[s.roots.length - 1].roles;
  // Without consistent snapshots, files keep their plain names.
  const consistent = s.consistent ?? true;
  const versioned = (v, name) => (consistent ? `${v}.${name}` : name);
  const hashed = (data, name) => (consistent ? `${sha256(data)}.${name}` : name);

  const files = s.files ?? { 'pack.json': PACK };
  const targetMap = {};
  for (const [name, data] of Object.entries(files)) {
    targetMap[name] = new TargetFile({ path: name, length: data.length, hashes: { sha256: sha256(data) } });
    const served = s.serveTarget?.[name] ?? data;
    fs.writeFileSync(path.join(tdir, hashed(data, name)), served);
  }
  let delegations;
  const snapshotMeta = {};
  if (s.delegated) {
    const d = s.delegated;
    delegations = {
      keys: Object.fromEntries(d.keys.map((n) => [key(n).keyID, key(n).key.toJSON()])),
      roles: [{
        name: d.name, keyids: d.keys.map((n) => key(n).keyID), threshold: 1,
        terminating: true, paths: d.paths,
      }],
    };
    const dtargets = {};
    for (const [name, data] of Object.entries(d.files)) {
      dtargets[name] = new TargetFile({ path: name, length: data.length, hashes: { sha256: sha256(data) } });
      fs.mkdirSync(path.join(tdir, path.dirname(name)), { recursive: true });
      fs.writeFileSync(path.join(tdir, path.dirname(name), hashed(data, path.basename(name))), data);
    }
    const dmd = new Targets({ version: 1, specVersion: SPEC, expires: expiresIn(30 * DAY), targets: dtargets });
    fs.writeFileSync(path.join(meta, versioned(1, `${d.name}.json`)), signed(dmd, d.signers ?? d.keys));
    snapshotMeta[`${d.name}.json`] = new MetaFile({ version: 1 });
  }
  const targetsVersion = s.targetsVersion ?? 1;
  const targets = Targets.fromJSON({
    _type: 'targets', spec_version: SPEC, version: targetsVersion,
    expires: s.targetsExpires ?? expiresIn(30 * DAY),
    targets: Object.fromEntries(Object.entries(targetMap).map(([n, t]) => [n, t.toJSON()])),
    ...(delegations ? { delegations } : {}),
  });
  const listedTargets = s.snapshotListsTargets ?? targetsVersion;
  fs.writeFileSync(path.join(meta, versioned(listedTargets, 'targets.json')),
    signed(targets, s.targetsSigners ?? current.targets));
  snapshotMeta['targets.json'] = new MetaFile({ version: listedTargets });

  const snapshotVersion = s.snapshotVersion ?? 1;
  const snapshot = new Snapshot({
    version: snapshotVersion, specVersion: SPEC, expires: expiresIn(7 * DAY), meta: snapshotMeta,
  });
  const snapshotBytes = signed(snapshot, current.snapshot);
  fs.writeFileSync(path.join(meta, versioned(snapshotVersion, 'snapshot.json')), snapshotBytes);

  const timestamp = new Timestamp({
    version: s.timestampVersion ?? 1, specVersion: SPEC,
    expires: s.timestampExpires ?? expiresIn(DAY),
    snapshotMeta: new MetaFile({
      version: snapshotVersion, length: snapshotBytes.length, hashes: { sha256: sha256(snapshotBytes) },
    }),
  });
  let timestampBytes = signed(timestamp, s.timestampSigners ?? current.timestamp);
  // Valid JSON made longer than any timestamp should be: endless data.
  if (s.padTimestamp) timestampBytes += ' '.repeat(s.padTimestamp);
  fs.writeFileSync(path.join(meta, 'timestamp.json'), timestampBytes);
}

function rootFile(version, roles, signers, thresholds, expires, consistent) {
  return {
    version, roles, bytes: signed(makeRoot(version, roles, thresholds, expires, consistent), signers),
  };
}

const root1 = rootFile(1, ROLES1, ['root1']);
const ROLES_NEW_ROOT = { ...ROLES1, root: ['root2'] };
const ROLES_NEW_TS = { ...ROLES1, timestamp: ['ts2'] };
const ROLES_NEW_TARGETS = { ...ROLES1, targets: ['targets2'] };
const ROLES_TWO_TARGETS = { ...ROLES1, targets: ['targets1', 'targets2'] };

const scenarios = {
  valid: [{ roots: [root1] }],
  valid_delegation: [{
    roots: [root1],
    delegated: { name: 'packs', keys: ['delegate1'], paths: ['packs/*'], files: { 'packs/p.json': PACK } },
  }],
  valid_not_consistent: [{
    roots: [root1, rootFile(2, ROLES1, ['root1'], {}, undefined, false)], consistent: false,
  }],
  delegation_signed_by_another_key: [{
    roots: [root1],
    delegated: {
      name: 'packs', keys: ['delegate1'], signers: ['attacker'], paths: ['packs/*'],
      files: { 'packs/p.json': PACK },
    },
  }],
  root_rotation_signed_by_old_and_new: [{
    roots: [root1, rootFile(2, ROLES_NEW_ROOT, ['root1', 'root2'])],
  }],
  root_rotation_without_old_keys: [{
    roots: [root1, rootFile(2, ROLES_NEW_ROOT, ['root2'])],
  }],
  // Same length as the genuine file, other bytes: only the hash tells them apart.
  arbitrary_software_bad_hash: [{ roots: [root1], serveTarget: { 'pack.json': Buffer.from('{"pack":"interop","version":"6.6.6"}') } }],
  arbitrary_software_bad_signature: [{ roots: [root1], targetsSigners: ['attacker'] }],
  threshold_not_met: [{
    roots: [root1, rootFile(2, ROLES_TWO_TARGETS, ['root1'], { targets: 2 })],
    targetsSigners: ['targets1'],
  }],
  revoked_key: [
    { roots: [root1] },
    { roots: [root1, rootFile(2, ROLES_NEW_TARGETS, ['root1'])], targetsVersion: 2, snapshotVersion: 2,
      timestampVersion: 2, targetsSigners: ['targets1'] },
  ],
  rollback_timestamp: [
    { roots: [root1], timestampVersion: 2, snapshotVersion: 2, targetsVersion: 2 },
    { roots: [root1], timestampVersion: 1, snapshotVersion: 1, targetsVersion: 1 },
  ],
  rollback_targets: [
    { roots: [root1], timestampVersion: 2, snapshotVersion: 2, targetsVersion: 2 },
    { roots: [root1], timestampVersion: 3, snapshotVersion: 3, targetsVersion: 1 },
  ],
  freeze_expired_timestamp: [{ roots: [root1], timestampExpires: expiresIn(-DAY) }],
  endless_data_timestamp: [{ roots: [root1], padTimestamp: 20000 }],
  mix_and_match_targets: [
    { roots: [root1] },
    // Snapshot 2 names targets version 2; the file served under that name is targets version 1.
    { roots: [root1], timestampVersion: 2, snapshotVersion: 2, snapshotListsTargets: 2 },
  ],
  fast_forward_recovery: [
    { roots: [root1] },
    // The timestamp key leaks and an attacker publishes timestamp version 1000.
    { roots: [root1], timestampVersion: 1000 },
    // The repository rotates the timestamp key: the client must accept version 2 again.
    { roots: [root1, rootFile(2, ROLES_NEW_TS, ['root1'])], timestampVersion: 2 },
  ],
  fast_forward_old_key_after_rotation: [
    { roots: [root1, rootFile(2, ROLES_NEW_TS, ['root1'])], timestampVersion: 2 },
    { roots: [root1, rootFile(2, ROLES_NEW_TS, ['root1'])], timestampVersion: 1000, timestampSigners: ['ts1'] },
  ],
};

const out = process.argv[2];
if (!out) {
  console.error('usage: node tuf_make_repos.mjs OUT_DIR');
  process.exit(2);
}
for (const [name, steps] of Object.entries(scenarios)) {
  const dir = path.join(out, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'trusted_root.json'), root1.bytes);
  steps.forEach((s, i) => build(path.join(dir, String(i + 1)), s));
}
console.log(Object.keys(scenarios).join('\n'));
