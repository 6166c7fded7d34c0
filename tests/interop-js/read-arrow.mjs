// Usage: node read-arrow.mjs FILE [--stream]
// Reads an Arrow IPC file (or stream) with apache-arrow and prints one JSON object: row count, batches,
// schema (names, types, nullability, field metadata, children), schema metadata and the first rows.
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';

const [file] = process.argv.slice(2);
const table = tableFromIPC(readFileSync(file));
const describe = (field) => ({
  name: field.name,
  type: String(field.type),
  nullable: field.nullable,
  metadata: Object.fromEntries(field.metadata),
  children: (field.type.children ?? []).map(describe),
});
const plain = (value) => {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (ArrayBuffer.isView(value)) return Array.from(value, plain);
  if (typeof value === 'object' && typeof value.toJSON === 'function') {
    const json = value.toJSON(); // a struct row gives an object, a list value an array
    return Array.isArray(json) ? json.map(plain) : Object.fromEntries(Object.entries(json).map(([k, v]) => [k, plain(v)]));
  }
  return value;
};
const sample = [];
for (let i = 0; i < Math.min(5, table.numRows); i++) {
  sample.push(Object.fromEntries(table.schema.fields.map((f) => [f.name, plain(table.getChild(f.name).get(i))])));
}
process.stdout.write(JSON.stringify({
  rows: table.numRows,
  batches: table.batches.length,
  schema: table.schema.fields.map(describe),
  metadata: Object.fromEntries(table.schema.metadata),
  sample,
}));
