/** Longest line a bundle part may have: an event line is a few hundred bytes. */
export const MAX_LINE = 1 << 20;

export class LineTooLong extends Error {
  constructor(readonly line: number) {
    super(`line ${line} is longer than ${MAX_LINE} bytes`);
    this.name = 'LineTooLong';
  }
}

/**
 * Splits a part's bytes into lines (`\n`), each decoded from UTF-8 on its own: scanning the buffer and decoding
 * line by line is an order of magnitude cheaper than decoding chunks into one string and cutting that.
 */
export class LineSplitter {
  /** Bytes of an unfinished line, from earlier chunks. */
  private rest: Buffer[] = [];
  private restLength = 0;
  line = 0;

  constructor(private readonly onLine: (text: string, line: number) => void) {}

  data(chunk: Buffer): void {
    let start = 0;
    if (this.restLength > 0) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.keep(chunk);
        return;
      }
      this.keep(chunk.subarray(0, nl));
      const joined = Buffer.concat(this.rest);
      this.rest = [];
      this.restLength = 0;
      this.emit(joined, 0, joined.length);
      start = nl + 1;
    }
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.emit(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  /** The bytes after the last newline (a part must end with one), decoded. */
  end(): string {
    return Buffer.concat(this.rest).toString('utf8');
  }

  private keep(bytes: Buffer): void {
    this.restLength += bytes.length;
    // An endless line is refused as soon as it is too long, not buffered whole.
    if (this.restLength > MAX_LINE) throw new LineTooLong(this.line + 1);
    this.rest.push(Buffer.from(bytes));
  }

  private emit(bytes: Buffer, start: number, end: number): void {
    this.line++;
    if (end - start > MAX_LINE) throw new LineTooLong(this.line);
    this.onLine(bytes.toString('utf8', start, end), this.line);
  }
}

/**
 * Gathers a part's bytes into batches of whole lines of about `size` bytes (cut after a newline), for workers:
 * only the last newline of each batch is looked for here.
 */
export class LineBatcher {
  private parts: Buffer[] = [];
  private length = 0;

  constructor(
    private readonly size: number,
    private readonly onBatch: (batch: Buffer) => void,
  ) {}

  data(chunk: Buffer): void {
    this.parts.push(chunk);
    this.length += chunk.length;
    if (this.length < this.size) return;
    const joined = Buffer.concat(this.parts, this.length);
    const cut = joined.lastIndexOf(10) + 1;
    if (cut === 0) {
      if (joined.length > MAX_LINE) throw new LineTooLong(0);
      this.parts = [joined];
      return;
    }
    this.parts = cut < joined.length ? [joined.subarray(cut)] : [];
    this.length = joined.length - cut;
    this.onBatch(joined.subarray(0, cut));
  }

  /** Hands on the last batch; returns the bytes after the last newline (a part must end with one). */
  end(): Buffer {
    const joined = Buffer.concat(this.parts, this.length);
    const cut = joined.lastIndexOf(10) + 1;
    if (cut > 0) this.onBatch(joined.subarray(0, cut));
    this.parts = [];
    this.length = 0;
    return joined.subarray(cut);
  }
}
