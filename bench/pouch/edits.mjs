// SPDX-License-Identifier: MIT
//
// Shared helpers of the PouchDB baseline: reading the reference JSONL files
// and applying an edit script (see /work/shared/data/README.md) to a case
// document. Both the client (village laptop) and the server's control API
// (township edits) use them, so both sides edit cases the same way.

import { readFile } from 'node:fs/promises';

// Reads a JSONL file and returns its records, skipping blank lines.
export async function readJsonl(file) {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
}

// Applies the ops of one edit script to doc in place and returns it.
//   {"op":"set","path":[...],"value":V}          sets the field at path
//   {"op":"append","path":["events"],"value":E}  pushes E onto that array
export function applyOps(doc, ops) {
  for (const op of ops) {
    if (!Array.isArray(op.path) || op.path.length === 0) {
      throw new Error(`edit op without a path: ${JSON.stringify(op)}`);
    }
    const parent = walk(doc, op.path.slice(0, -1));
    const last = op.path[op.path.length - 1];
    if (op.op === 'set') {
      parent[last] = op.value;
    } else if (op.op === 'append') {
      if (!Array.isArray(parent[last])) throw new Error(`append to a non-array at ${op.path.join('.')}`);
      parent[last].push(op.value);
    } else {
      throw new Error(`unknown edit op ${JSON.stringify(op.op)}`);
    }
  }
  return doc;
}

function walk(node, path) {
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !(key in node)) {
      throw new Error(`edit path not found at ${JSON.stringify(key)}`);
    }
    node = node[key];
  }
  return node;
}
