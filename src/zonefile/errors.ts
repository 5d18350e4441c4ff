import { ECHO_LONG, echo, PsarnBaseError, printable } from '../errors.js';

/** A master file problem; `line` is 1-based (0 when not tied to a line). */
export class ZoneFileError extends PsarnBaseError {
  readonly code = 'ERR_ZONEFILE';
  readonly line: number;
  readonly file: string | undefined;
  constructor(message: string, line = 0, file?: string, options?: { cause?: unknown }) {
    // The file name is input too (a path given on the command line): shown cut and escaped.
    // Names in the message are at most 255 octets (the parser refuses longer ones) but may hold
    // raw control characters: `printable` keeps the whole message one printable line.
    const where =
      file !== undefined && line > 0 ? `${echo(file, ECHO_LONG)}:${line}: ` : line > 0 ? `line ${line}: ` : '';
    super(printable(`${where}${message}`), options);
    this.name = 'ZoneFileError';
    this.line = line;
    this.file = file;
  }
}
