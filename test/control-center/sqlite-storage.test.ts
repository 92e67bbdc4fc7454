// The SQLite backend against the storage contract, on disk in a temp dir.
import path from 'node:path';
import { openSqliteStorage } from '../../control-center/storage/sqlite/sqlite-storage.js';
import { makeTempDir } from '../helpers/agent-harness.js';
import { describeStorageContract } from './storage-contract.js';

describeStorageContract('SQLite (better-sqlite3, WAL)', {
  async create() {
    const file = path.join(await makeTempDir('latchkey-cc-store-'), 'cc.db');
    return { storage: openSqliteStorage(file, Date.now()), reopen: async () => openSqliteStorage(file, Date.now()) };
  },
});
