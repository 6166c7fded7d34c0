// Usage: node read-arrow.mjs FILE [--validate]
// Reads an Arrow IPC file (or stream) with apache-arrow and prints one JSON object: row count, batches,
// schema (names, types, nullability, field metadata, children), schema metadata and the first rows.
// --validate also checks the whole file as a strict reader would (apache-arrow itself does not): every buffer's
// offsets monotone and in bounds, validity bitmaps long enough and their null counts right, dictionary keys in
// range, every Utf8 value valid UTF-8 (TextDecoder with fatal: true), and no field name or metadata string that
// only decoded by replacing bytes. The first problem exits 1 with a message naming the batch, column and row.
import { readFileSync } from 'node:fs';
import { tableFromIPC, DataType } from 'apache-arrow';

const args = process.argv.slice(2);
const validate = args.includes('--validate');
const [file] = args.filter((a) => !a.startsWith('--'));
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

const strict = new TextDecoder('utf-8', { fatal: true });
const counts = { utf8Values: 0, dictionaryKeys: 0, listValues: 0, arrays: 0 };
const fail = (where, message) => {
  process.stderr.write(`invalid Arrow data at ${where}: ${message}\n`);
  process.exit(1);
};
const isValid = (data, i) => !data.nullBitmap || data.nullBitmap.length === 0
  || ((data.nullBitmap[(data.offset + i) >> 3] >> ((data.offset + i) & 7)) & 1) === 1;
const checkOffsets = (data, where, limit) => {
  const offsets = data.valueOffsets;
  if (!offsets || offsets.length < data.offset + data.length + 1) fail(where, `offsets buffer holds ${offsets?.length ?? 0} entries, ${data.offset + data.length + 1} needed`);
  let previous = Number(offsets[data.offset]);
  if (previous < 0) fail(where, `first offset ${previous} is negative`);
  for (let i = 1; i <= data.length; i++) {
    const next = Number(offsets[data.offset + i]);
    if (next < previous) fail(`${where} row ${i - 1}`, `offsets go back from ${previous} to ${next}`);
    previous = next;
  }
  if (previous > limit) fail(where, `last offset ${previous} is past the ${limit} values`);
};
const checkData = (data, where) => {
  counts.arrays++;
  if (data.nullBitmap && data.nullBitmap.length > 0) {
    if (data.nullBitmap.length * 8 < data.offset + data.length) fail(where, `validity bitmap of ${data.nullBitmap.length} bytes for ${data.length} rows`);
    let nulls = 0;
    for (let i = 0; i < data.length; i++) if (!isValid(data, i)) nulls++;
    if (data._nullCount >= 0 && nulls !== data._nullCount) fail(where, `null count ${data._nullCount}, bitmap has ${nulls}`);
  }
  const type = data.type;
  if (DataType.isDictionary(type)) {
    const size = data.dictionary?.length ?? 0;
    for (let i = 0; i < data.length; i++) {
      if (!isValid(data, i)) continue;
      const key = Number(data.values[data.offset + i]);
      if (!(key >= 0 && key < size)) fail(`${where} row ${i}`, `dictionary key ${key} is not below the dictionary's ${size} values`);
      counts.dictionaryKeys++;
    }
    data.dictionary.data.forEach((d, k) => checkData(d, `${where} dictionary chunk ${k}`));
  } else if (DataType.isUtf8(type) || DataType.isBinary(type)) {
    checkOffsets(data, where, data.values.length);
    if (DataType.isUtf8(type)) {
      for (let i = 0; i < data.length; i++) {
        if (!isValid(data, i)) continue;
        const bytes = data.values.subarray(Number(data.valueOffsets[data.offset + i]), Number(data.valueOffsets[data.offset + i + 1]));
        try { strict.decode(bytes); } catch { fail(`${where} row ${i}`, `Utf8 value is not valid UTF-8 (bytes ${Buffer.from(bytes).toString('hex')})`); }
        counts.utf8Values++;
      }
    }
  } else if (DataType.isList(type)) {
    const child = data.children[0];
    checkOffsets(data, where, child.length);
    counts.listValues += child.length;
    checkData(child, `${where}.item`);
  } else if (DataType.isStruct(type)) {
    data.children.forEach((child, k) => {
      if (child.length < data.offset + data.length) fail(`${where}.${type.children[k].name}`, `child has ${child.length} rows, ${data.offset + data.length} needed`);
      checkData(child, `${where}.${type.children[k].name}`);
    });
  } else if (DataType.isInt(type) || DataType.isFloat(type)) {
    const stride = data.stride ?? 1;
    if (data.values.length < (data.offset + data.length) * stride) fail(where, `${data.values.length} values for ${data.length} rows`);
  }
};
const checkText = (text, where) => {
  if (text.includes('\uFFFD')) fail(where, 'a string that is not valid UTF-8 (decoded with replacement characters)');
};
if (validate) {
  const checkField = (field, where) => {
    checkText(field.name, where);
    for (const [k, v] of field.metadata) { checkText(k, `${where} metadata key`); checkText(v, `${where} metadata ${k}`); }
    (field.type.children ?? []).forEach((c) => checkField(c, `${where}.${c.name}`));
  };
  for (const [k, v] of table.schema.metadata) { checkText(k, 'schema metadata key'); checkText(v, `schema metadata ${k}`); }
  table.schema.fields.forEach((f) => checkField(f, `field ${f.name}`));
  table.batches.forEach((batch, b) => {
    table.schema.fields.forEach((field, c) => checkData(batch.data.children[c], `batch ${b} column ${field.name}`));
  });
}

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
  validated: validate ? counts : null,
}));
