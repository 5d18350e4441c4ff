/** A master file problem; `line` is 1-based (0 when not tied to a line). */
export class ZoneFileError extends Error {
  readonly code = 'ERR_ZONEFILE';
  readonly line: number;
  readonly file: string | undefined;
  constructor(message: string, line = 0, file?: string) {
    super(
      file !== undefined && line > 0 ? `${file}:${line}: ${message}` : line > 0 ? `line ${line}: ${message}` : message,
    );
    this.name = 'ZoneFileError';
    this.line = line;
    this.file = file;
  }
}
