// Every operation settles in every state, part 1: the lifecycle operations, and the staging
// checked against the plugin machine's graph. The table is in matrix.ts.
import { describe, expect, it } from 'vitest';
import { getShortestPaths } from 'xstate/graph';
import { describeOperations } from './matrix.js';
import { modelEdges, modelInput, pluginModel, publicState } from './model.js';
import { STATES, stage } from './stage.js';

describe('the staged states follow the lifecycle model', () => {
  it('covers every state the plugin machine can reach', () => {
    const reachable = new Set(
      getShortestPaths(pluginModel(), { input: modelInput, events: modelEdges.events, serializeState: (s) => JSON.stringify(s.value) }).map(
        (p) => publicState(p.state),
      ),
    );
    expect([...reachable].sort()).toEqual([...STATES, 'removed'].sort());
  });

  it.each(STATES)('reaches %s along transitions of the model', async (state) => {
    const s = await stage(state);
    expect(s.path.at(-1)).toBe(state);
    const edges = modelEdges.publicEdges();
    for (let i = 1; i < s.path.length; i++) expect(edges).toContain(`${s.path[i - 1]} -> ${s.path[i]}`);
  });
});

describeOperations(['enable', 'disable', 'remove', 'remove --force', 'close']);
