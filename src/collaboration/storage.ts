import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where file contents live; keys are ids Foyer makes (never file names), so an S3-compatible store can follow. */
export interface FileStorage {
  put(key: string, data: Buffer): Promise<void>;
  get(key: string): Promise<Buffer>;
  remove(key: string): Promise<void>;
}

const keyPattern = /^[0-9a-f-]{36}\/[0-9a-f-]{36}$/;

/** Files in a local folder (by default `<FOYER_DATA_DIR>/files`), one file per version: `<tenant>/<version id>`. */
export function createLocalStorage(root: string): FileStorage {
  const at = (key: string) => {
    // Keys are made by Foyer; this guards the folder should one ever be built from anything else.
    if (!keyPattern.test(key)) throw new Error(`invalid storage key ${key}`);
    return path.join(root, ...key.split('/'));
  };
  return {
    async put(key, data) {
      const file = at(key);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, data, { flag: 'wx' });
    },
    get: (key) => readFile(at(key)),
    remove: (key) => rm(at(key), { force: true }),
  };
}
