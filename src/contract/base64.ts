/**
 * Bytes that go on the wire as one base64 string (a picture in `binary_data_base64`, OpenAI's `b64_json`).
 * They stay bytes until the answer is written: the gateway writes them in bounded base64 slices, because a
 * 1024² PNG is ~3 MB and its base64 as one string held the event loop 18–27 ms (plus the envelope's UTF-8
 * length and copy). JSON.stringify (through `toJSON`) still gives exactly the string the wire carries.
 */
export class Base64Bytes {
  constructor(readonly bytes: Buffer) {}

  /** Characters of the padded base64 text; also its byte count (ASCII). */
  get length(): number {
    return 4 * Math.ceil(this.bytes.length / 3);
  }

  toJSON(): string {
    return this.bytes.toString('base64');
  }

  /**
   * The base64 text in slices of at most `maxChars` characters (≥ 4): each covers a multiple of 3 bytes but
   * the last, so the slices joined are exactly `toJSON()`.
   */
  *slices(maxChars: number): Generator<Buffer> {
    const step = 3 * Math.max(1, Math.floor(maxChars / 4));
    for (let at = 0; at < this.bytes.length; at += step) {
      yield Buffer.from(this.bytes.toString('base64', at, Math.min(this.bytes.length, at + step)), 'latin1');
    }
  }
}
