import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { Semaphore, SemaphoreTimeoutError } from '../../src/crypto/semaphore.js';

/** A promise and the function that settles it, for holding a permit as long as a test wants. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('Semaphore', () => {
  it('runs at most `permits` operations at once and all of them eventually', async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        semaphore.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(5);
          running--;
          return i;
        }, 5000),
      ),
    );
    expect(peak).to.equal(2);
    expect(results).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('serves waiters in arrival order', async () => {
    const semaphore = new Semaphore(1);
    const held = gate();
    const order: number[] = [];
    const first = semaphore.run(() => held.promise, 1000);
    const waiters = [1, 2, 3].map((n) => semaphore.run(async () => void order.push(n), 1000));
    held.open();
    await Promise.all([first, ...waiters]);
    expect(order).to.deep.equal([1, 2, 3]);
  });

  it('releases the permit when the work throws', async () => {
    const semaphore = new Semaphore(1);
    expect(await rejectionOf(semaphore.run(async () => Promise.reject(new Error('boom')), 100))).to.have.property(
      'message',
      'boom',
    );
    expect(await semaphore.run(async () => 'next', 100)).to.equal('next');
  });

  it('rejects with SemaphoreTimeoutError after waiting `timeoutMs` for a permit, without running the work', async () => {
    const semaphore = new Semaphore(1);
    const held = gate();
    const holder = semaphore.run(() => held.promise, 1000);
    let ran = false;
    const started = Date.now();
    const err = await rejectionOf(semaphore.run(async () => void (ran = true), 30));
    expect(err).to.be.instanceOf(SemaphoreTimeoutError);
    expect(Date.now() - started).to.be.at.least(25);
    expect(ran).to.equal(false);
    held.open();
    await holder;
    // The timed-out waiter gave up its place: the permit is free again.
    expect(await semaphore.run(async () => 'free', 10)).to.equal('free');
  });

  it('rejects with the abort reason when the signal aborts while waiting', async () => {
    const semaphore = new Semaphore(1);
    const held = gate();
    const holder = semaphore.run(() => held.promise, 1000);
    const controller = new AbortController();
    let ran = false;
    const waiting = semaphore.run(async () => void (ran = true), 5000, controller.signal);
    const reason = new Error('client went away');
    controller.abort(reason);
    expect(await rejectionOf(waiting)).to.equal(reason);
    held.open();
    await holder;
    expect(ran).to.equal(false);
    expect(await semaphore.run(async () => 'free', 10)).to.equal('free');
  });

  it('rejects at once for a signal that is already aborted, even with a permit free', async () => {
    const semaphore = new Semaphore(1);
    const controller = new AbortController();
    controller.abort(new Error('already gone'));
    const err = await rejectionOf(semaphore.run(async () => 'never', 1000, controller.signal));
    expect(err).to.have.property('message', 'already gone');
    expect(await semaphore.run(async () => 'free', 10)).to.equal('free');
  });
});
