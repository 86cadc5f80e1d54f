// Sends HL7 v2 message files to an MLLP listener with node-hl7-client, one at a time, each
// waiting for its ACK, and prints one JSON line per file: {"file", "code", "control", "ack"}.
// Usage: node send_hl7.mjs HOST PORT FILE...
import { readFileSync } from 'node:fs';
import { Client, Message } from 'node-hl7-client';

const [host, port, ...files] = process.argv.slice(2);
const client = new Client({ host, connectionTimeout: 5000 });
let resolveAck = null;
const connection = client.createConnection(
  // latin1 both ways: the file's bytes go out unchanged, whatever MSH-18 declares.
  { port: Number(port), waitAck: true, maxConnections: 1, encoding: 'latin1' },
  async (res) => {
    const ack = res.getMessage();
    if (resolveAck) resolveAck(ack);
  });

const timeout = (ms) => new Promise((_, reject) => setTimeout(() => reject(new Error('no ACK')), ms));

for (const file of files) {
  // Segments end with CR on the wire; files may use LF or CRLF.
  // A byte-order mark belongs to the file, not to the message.
  const text = readFileSync(file, 'latin1').replace(/^\xEF\xBB\xBF/, '')
    .replace(/\r\n/g, '\r').replace(/\n/g, '\r').replace(/\r+$/, '');
  let line = { file };
  try {
    const ackPromise = new Promise((resolve) => { resolveAck = resolve; });
    await connection.sendMessage(new Message({ text }));
    const ack = await Promise.race([ackPromise, timeout(10000)]);
    line.code = ack.get('MSA.1').toString();
    line.control = ack.get('MSA.2').toString();
    line.ack = ack.toString();
  } catch (e) {
    line.error = String(e && e.message ? e.message : e);
  }
  process.stdout.write(JSON.stringify(line) + '\n');
}
await connection.close();
process.exit(0);
