/**
 * One caller report message to the primary (docs/design.md#caller-reports-from-secondaries):
 * signed with secondary.key, sent over TCP, its answer verified and classified for the round
 * (src/secondary/caller-report.ts) and psarn_callers_reports_total. Problems are logged through
 * a rate-limited log: a primary that takes no reports refuses every round.
 */
import type { Logger } from 'pino';
import type { HostPort } from '../config/config.js';
import { type DecodedMessage, decodeMessage } from '../wire/message.js';
import { rcodeName } from '../wire/mnemonics.js';
import { signMessageMac, verifyMessage } from '../wire/tsig.js';
import { Rcode } from '../wire/types.js';
import { encodeUpdate, type UpdateRecordSpec } from '../wire/update.js';
import { tcpStream } from './exchange.js';
import type { Primary } from './types.js';

/** Sends one message over TCP and resolves with its reply (tcpSend by default; a fake in tests). */
export type SendMessage = (to: HostPort, message: Buffer, signal: AbortSignal) => Promise<Buffer>;

/** The outcome of one report message, as psarn_callers_reports_total{direction="sent"} counts it. */
export type SentResult = 'ok' | 'refused' | 'notauth' | 'formerr' | 'servfail' | 'error';

/** A log that takes warnings as fields and a constant message (a RateLimitedLog keys on the message). */
export interface LineLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface ReportSend {
  primary: Primary;
  send: SendMessage;
  randomId: () => number;
  /** Ms since the epoch: TSIG's time signed and checked. */
  now: () => number;
  /** Aborted when psarnd stops: no warning then. */
  signal: AbortSignal;
  log: Pick<Logger, 'debug'>;
  problems: LineLog;
  /** Rows in the message (logged with a FORMERR). */
  rows: number;
}

/**
 * Sends one report message (`record`, an update RR of reportRecords) for `zone` and classifies
 * the answer: ok; notauth (psarnd has no such zone: skip it); formerr (drop the batch); refused,
 * servfail, error (stop the round, retry at the next).
 */
export async function sendReport(zone: string, record: UpdateRecordSpec, o: ReportSend): Promise<SentResult> {
  const at = hostPort(o.primary.address);
  const key = o.primary.key;
  if (key === undefined) return 'refused';
  const message = encodeUpdate({ id: o.randomId(), zone, updates: [record] });
  const signed = signMessageMac(message, key, { now: o.now });
  let bytes: Buffer;
  try {
    bytes = await o.send(o.primary.address, signed.message, o.signal);
  } catch (err) {
    if (o.signal.aborted) return 'error';
    o.problems.warn(
      { primary: at, zone, reason: (err as Error).message },
      'caller report not sent: no answer from the primary; will retry every callers.reportEvery',
    );
    return 'error';
  }
  const verified = verifyMessage(bytes, new Map([[key.name, key]]), { requestMac: signed.mac, now: o.now });
  let reply: DecodedMessage;
  try {
    reply = decodeMessage(bytes);
  } catch (err) {
    o.problems.warn(
      { primary: at, zone, reason: (err as Error).message },
      'caller report: the primary answered a malformed message',
    );
    return 'error';
  }
  const ede = edeText(reply);
  if (verified.status !== 'ok') {
    // Knot and BIND answer an UPDATE their ACL does not allow this way (NOTAUTH with a TSIG
    // error, or REFUSED unsigned): the whole round stops, not just this zone.
    o.problems.warn(
      {
        primary: at,
        zone,
        rcode: rcodeName(reply.rcode),
        tsig: verified.status === 'peer-error' ? `peer-error ${verified.error}` : verified.status,
        ...(ede ? { ede } : {}),
      },
      "caller report refused: the primary's answer does not verify with secondary.key (a primary that is not psarnd refuses UPDATEs so); will retry every callers.reportEvery",
    );
    return 'refused';
  }
  switch (reply.rcode) {
    case Rcode.NOERROR:
      return 'ok';
    case Rcode.NOTAUTH:
    case Rcode.NOTZONE:
      o.log.debug({ primary: at, zone, ...(ede ? { ede } : {}) }, 'caller report: the primary has no such zone');
      return 'notauth';
    case Rcode.FORMERR:
      o.problems.warn(
        { primary: at, zone, rows: o.rows, ...(ede ? { ede } : {}) },
        'caller report: the primary could not read it (FORMERR); those rows are dropped',
      );
      return 'formerr';
    case Rcode.SERVFAIL:
      o.problems.warn(
        { primary: at, zone, ...(ede ? { ede } : {}) },
        'caller report: the primary failed to store it (SERVFAIL); will retry',
      );
      return 'servfail';
    default:
      o.problems.warn(
        { primary: at, zone, rcode: rcodeName(reply.rcode), ...(ede ? { ede } : {}) },
        'caller report refused by the primary; will retry every callers.reportEvery',
      );
      return 'refused';
  }
}

/** The INFO-CODE and EXTRA-TEXT of a reply's first EDE (RFC 8914), or undefined. */
function edeText(reply: DecodedMessage): string | undefined {
  const option = reply.edns?.options.find((o) => o.code === 15);
  return option === undefined
    ? undefined
    : `${option.data.readUInt16BE(0)}: ${option.data.subarray(2).toString('utf8')}`;
}

function hostPort(at: HostPort): string {
  return at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
}

/** One message over a new TCP connection (RFC 7766 framing), resolved with its first reply. */
export function tcpSend(timeoutMs: number): SendMessage {
  return async (to, message, signal) => {
    let reply: Buffer | undefined;
    await tcpStream(
      to,
      message,
      (m) => {
        reply = m;
        return true;
      },
      { timeoutMs, signal, what: `caller report to primary ${hostPort(to)}` },
    );
    return reply!;
  };
}
