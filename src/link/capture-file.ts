// Writing a capture to disk (Node only). The writers in capture.ts build files in memory so they
// run in browsers; this is the one step that needs a file system.
import { writeFile } from 'node:fs/promises';

/** Anything that can produce the bytes of a capture file: `PcapWriter` and `PcapngWriter`. */
export interface CaptureBytes {
  /** The file's contents so far. */
  bytes(): Uint8Array;
}

/** Writes the capture so far to `path`, replacing the file if it exists. */
export async function writeCaptureFile(path: string, capture: CaptureBytes): Promise<void> {
  await writeFile(path, capture.bytes());
}
