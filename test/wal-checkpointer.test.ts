import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/database.js';
import { startWalCheckpointer } from '../src/db/wal-checkpointer.js';
import { testEngine } from './helpers/test-app.js';

// In WAL mode SQLite writes the database file only when it checkpoints; commits go to the log.
// So the file growing while the server's connection stays under its own checkpoint threshold
// shows that the background thread checkpointed.
describe.skipIf(testEngine !== 'sqlite')('background WAL checkpoints', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'foyer-wal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function writeAndWait(backgroundCheckpoints: boolean) {
    const file = path.join(dir, `${backgroundCheckpoints ? 'on' : 'off'}.db`);
    const database = openDatabase({ databaseUrl: null, dataDir: dir, sqliteFile: file, backgroundCheckpoints });
    await sql`create table t (id integer primary key, body text not null)`.execute(database.db);
    const before = statSync(file).size;
    // About 2 MB in 20 commits: 500 log frames, far below the automatic checkpoint's 16,384.
    for (let i = 0; i < 20; i++)
      await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 100) insert into t (body) select printf('%.1000c', 'x') from n`.execute(
        database.db,
      );
    await new Promise((r) => setTimeout(r, 800));
    const after = statSync(file).size;
    const rows = await sql<{ n: number }>`select count(*) as n from t`.execute(database.db);
    await database.close();
    return { before, after, rows: rows.rows[0]!.n };
  }

  test('the log is copied into the database file without a commit waiting for it', async () => {
    const on = await writeAndWait(true);
    expect(on.rows).toBe(2000);
    expect(on.after - on.before).toBeGreaterThan(1_500_000);
  });

  test('a checkpointer that cannot open its file stops alone and reports why, instead of ending the process', async () => {
    const error = await new Promise<Error>((resolve) => startWalCheckpointer(path.join(dir, 'missing', 'foyer.db'), { onError: resolve }));
    expect(error.message).toMatch(/directory does not exist/);
  });

  test('without the background thread the file stays as it was until a checkpoint is due', async () => {
    const off = await writeAndWait(false);
    expect(off.after - off.before).toBeLessThan(100_000);
  });
});
