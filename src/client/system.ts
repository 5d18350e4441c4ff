/**
 * The real clock, random source and environment: the only place the client library reads them
 * directly.
 */
import { hostname } from 'node:os';
import type { Clock, Random } from './types.js';

export const systemClock: Clock = () => Date.now();
export const systemRandom: Random = () => Math.random();

/**
 * Who this process is, for the caller option (docs/design.md#the-caller-map): the Lambda
 * function's name in Lambda (AWS_LAMBDA_FUNCTION_NAME), else the host name (a container's or a
 * pod's). Read once per client, at construction.
 */
export function systemCaller(): string {
  const lambda = process.env.AWS_LAMBDA_FUNCTION_NAME;
  return lambda !== undefined && lambda !== '' ? lambda : hostname();
}
