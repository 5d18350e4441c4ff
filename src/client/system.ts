/** The real clock and random source: the only place the client library reads them directly. */
import type { Clock, Random } from './types.js';

export const systemClock: Clock = () => Date.now();
export const systemRandom: Random = () => Math.random();
