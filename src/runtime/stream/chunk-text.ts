/**
 * The text string events (upload, download) give. In a filter, one direction's chunks come
 * one after another: a UTF-8 character cut between chunks arrives whole, with the chunk that
 * completes it. In preread, each call gives all the data read so far, again.
 *
 * A chunk of ASCII with nothing held from the one before (the usual case) becomes a one-byte
 * string as it is, without decoding. Such a chunk's string keeps its bytes: a callback that
 * sends it on unchanged (`s.send(data)`) sends them, instead of the string encoded again.
 */
import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';

export class ChunkText {
    /** made at the first chunk that is not plain ASCII */
    private decoder: StringDecoder | undefined = undefined;
    /** the last chunk's string, when it was ASCII, and its bytes */
    private text: string | undefined = undefined;
    private bytes: Buffer | undefined = undefined;

    /** The text of the next chunk; `last`: nothing follows, bytes held are let go. */
    next(chunk: Buffer, last: boolean): string {
        if (!this.holding() && isAscii(chunk)) {
            this.text = chunk.toString('latin1');
            this.bytes = chunk;
            return this.text;
        }
        this.text = undefined;
        this.bytes = undefined;
        this.decoder ??= new StringDecoder('utf8');
        return last ? this.decoder.write(chunk) + this.decoder.end() : this.decoder.write(chunk);
    }

    /** The bytes `data` came from, if it is the last chunk's string. */
    bytesOf(data: unknown): Buffer | undefined {
        return this.text !== undefined && data === this.text ? this.bytes : undefined;
    }

    /** The decoder holds the start of a character cut at the end of the chunk before. */
    private holding(): boolean {
        // (a Node.js without lastNeed counts as holding: every chunk is decoded)
        return this.decoder !== undefined && (this.decoder as { lastNeed?: number }).lastNeed !== 0;
    }
}

/** The text of all the data read so far: a character cut at its end waits for the next call. */
export function textSoFar(data: Buffer): string {
    return isAscii(data) ? data.toString('latin1') : new StringDecoder('utf8').write(data);
}
