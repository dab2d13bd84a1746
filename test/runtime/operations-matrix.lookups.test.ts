// Every operation settles in every state, part 2: settings, upgrade, lookups, calls and logs.
// The table is in matrix.ts.
import { describeOperations } from './matrix.js';

describeOperations(['set', 'upgrade', 'get --acquire, release', 'client.call', 'logs']);
