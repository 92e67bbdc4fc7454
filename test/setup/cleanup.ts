// Removes the temp dirs a test file made (after its own afterAll hooks stopped its agents).
import { afterAll } from 'vitest';
import { removeTempDirs } from '../helpers/agent-harness.js';

afterAll(removeTempDirs);
