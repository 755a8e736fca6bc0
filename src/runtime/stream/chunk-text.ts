/**
 * The text string events (upload, download) give. In a filter, one direction's chunks come
 * one after another: a UTF-8 character cut between chunks arrives whole, with the chunk that
 * completes it. In preread, each call gives all the data read so far, again.
 *
 * A chunk of ASCII with nothing held from the one before (the usual case) comes from the bridge
 * as a one-byte string already (NGX_NODE_ASCII_OR_BYTES), and is the text as it is. A callback
 * that sends such a string on unchanged (`s.send(data)`) may send the chunk itself
 * (isChunk()), without a copy.
 */
import { StringDecoder } from 'node:string_decoder';

export class ChunkText {
    /** made at the first chunk that is not plain ASCII */
    private decoder: StringDecoder | undefined = undefined;
    /** the last chunk's string, when it was ASCII */
    private text: string | undefined = undefined;

    /**
     * The text of the next chunk: its ASCII as a string, else its bytes; `last`: nothing
     * follows, bytes held are let go.
     */
    next(chunk: string | Buffer, last: boolean): string {
        if (typeof chunk === 'string') {
            if (!this.holding()) {
                this.text = chunk;
                return chunk;
            }
            chunk = Buffer.from(chunk, 'latin1');
        }
        this.text = undefined;
        this.decoder ??= new StringDecoder('utf8');
        return last ? this.decoder.write(chunk) + this.decoder.end() : this.decoder.write(chunk);
    }

    /** `data` is the last chunk's text, which is its bytes exactly. */
    isChunk(data: string): boolean {
        return this.text !== undefined && data === this.text;
    }

    /**
     * The bytes of a character cut at the end of the last chunk, which wait for the next one
     * (none: an empty Buffer): what is still to go on when the callback goes (s.off()).
     */
    held(): Buffer {
        if (!this.holding()) return Buffer.alloc(0);
        const decoder = this.decoder as { lastChar?: Buffer; lastNeed?: number; lastTotal?: number };
        if (decoder.lastChar === undefined || decoder.lastTotal === undefined || decoder.lastNeed === undefined) {
            return Buffer.alloc(0);
        }
        return Buffer.from(decoder.lastChar.subarray(0, decoder.lastTotal - decoder.lastNeed));
    }

    /** The decoder holds the start of a character cut at the end of the chunk before. */
    private holding(): boolean {
        // (a Node.js without lastNeed counts as holding: every chunk is decoded)
        return this.decoder !== undefined && (this.decoder as { lastNeed?: number }).lastNeed !== 0;
    }
}

/**
 * The text of all the data read so far, when it is not all ASCII (ASCII comes from the bridge
 * as a string already): a character cut at its end waits for the next call.
 */
export function textSoFar(data: Buffer): string {
    return new StringDecoder('utf8').write(data);
}
