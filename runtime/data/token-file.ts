// A token file of the cache (nanoGPT's train.bin / val.bin: little-endian uint16 or uint32, no header) as a
// TokenSource, read by positioned reads: a training touches only its batches' windows, never the whole file.
// A small file is read whole instead (a read per window costs a system call, a few microseconds: a tenth of
// the bigram's step), which bounds what it adds to a run's memory by SMALL_FILE.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import { UserError } from "../errors.js";
import { bytesPerToken, type TokenDtype, type TokenSource } from "./token-source.js";

/** Token files up to this size are read into memory whole. */
export const SMALL_FILE = 64 * 2 ** 20;

/**
 * A token file (little-endian uint16 or uint32, no header: nanoGPT's train.bin), read by positioned reads
 * into one reusable buffer. The descriptor stays open for the process's life (a training reads it to its
 * end; the file is immutable in the cache).
 */
export function fileTokens(path: string, dtype: TokenDtype, wholeUpTo: number = SMALL_FILE): TokenSource {
  const fd = openSync(path, "r");
  const width = bytesPerToken(dtype);
  const size = fstatSync(fd).size;
  if (size % width !== 0) {
    closeSync(fd);
    throw new UserError(`${path} holds ${size} bytes, not a whole number of ${dtype} tokens; the token cache entry is damaged (run babygpt data prepare again)`);
  }
  if (size <= wholeUpTo && endianness() === "LE") {
    const bytes = Buffer.alloc(size);
    for (let done = 0; done < size; ) done += readSync(fd, bytes, done, size - done, done);
    closeSync(fd);
    const ids = width === 2 ? new Uint16Array(bytes.buffer, bytes.byteOffset, size / 2) : new Uint32Array(bytes.buffer, bytes.byteOffset, size / 4);
    return { length: ids.length, read: (start, out) => out.set(ids.subarray(start, start + out.length)) };
  }
  let buffer = Buffer.alloc(0);
  return {
    length: size / width,
    read(start, out) {
      const bytes = out.length * width;
      if (buffer.length < bytes) buffer = Buffer.alloc(bytes);
      let done = 0;
      while (done < bytes) {
        const n = readSync(fd, buffer, done, bytes - done, start * width + done);
        if (n === 0) throw new UserError(`${path} ended before token ${start + out.length}; the token cache entry is damaged (run babygpt data prepare again)`);
        done += n;
      }
      if (width === 2) for (let i = 0; i < out.length; i++) out[i] = buffer.readUInt16LE(2 * i);
      else for (let i = 0; i < out.length; i++) out[i] = buffer.readUInt32LE(4 * i);
    },
  };
}
