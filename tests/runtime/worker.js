// The shared suite inside workerd: GET / runs every case and answers with the results as JSON.
import * as jose from 'jose';
import * as tg from 'tokengate';
import cases from '../suite/cases.js';
import { runAll } from '../suite/harness.js';
import fx from '../../artifacts/fixtures.json';

export default {
  async fetch() {
    // The `workerd` entry loads the edge module.
    return Response.json(await runAll(cases, { tg, jose, fx, edge: true }));
  },
};
