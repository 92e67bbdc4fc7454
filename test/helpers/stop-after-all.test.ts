import { describe, expect, it } from 'vitest';
import { StopStack } from './stop-after-all.js';

describe('StopStack (what a suite started, stopped pass or fail)', () => {
  it('stops newest first, and every part even when one stop throws', async () => {
    const stack = new StopStack();
    const stopped: string[] = [];
    stack.stop('controller', (name) => stopped.push(name));
    stack.defer(() => {
      stopped.push('failing');
      throw new Error('the agent would not stop');
    });
    stack.stop('phone', async (name) => stopped.push(name));
    await expect(stack.stopAll()).rejects.toThrow('the agent would not stop');
    expect(stopped).toEqual(['phone', 'failing', 'controller']);
    await stack.stopAll(); // emptied: nothing is stopped twice
    expect(stopped).toHaveLength(3);
  });

  it('stopNow stops one part at once and not again at the end; more than one failure is reported together', async () => {
    const stack = new StopStack();
    const stopped: string[] = [];
    const agent = stack.stop({ name: 'agent' }, (thing) => stopped.push(thing.name));
    stack.defer(() => {
      throw new Error('one');
    });
    stack.defer(() => {
      throw new Error('two');
    });
    await stack.stopNow(agent);
    expect(stopped).toEqual(['agent']);
    await expect(stack.stopNow(agent)).rejects.toThrow(/nothing of that/);
    await expect(stack.stopAll()).rejects.toThrow(AggregateError);
    expect(stopped).toEqual(['agent']);
  });
});
